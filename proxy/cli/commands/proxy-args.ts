/**
 * Argument parsing shared by `mptcp-proxy client` and `mptcp-proxy aggregator`: --config FILE
 * (required), --help, and boolean flags a command declares. Returns a typed result or the
 * usage error, never exits by itself. Also: waiting for a stop signal, the reload signal
 * (SIGHUP), and the message for a transport that cannot run here (what failed and how to fix
 * it).
 */
import { TransportUnavailableError } from '../../transport/transport.js';
export interface ProxyArgs {
  config: string;
  flags: Set<string>;
}

export function parseProxyArgs(args: readonly string[], flags: readonly string[]): ProxyArgs | { help: true } | { error: string } {
  let config: string | undefined;
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return { help: true };
    if (a === '--config' || a === '-c') {
      config = args[++i];
      if (config === undefined) return { error: '--config needs a file' };
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (flags.includes(a)) set.add(a);
    else return { error: `unknown argument '${a}'` };
  }
  if (config === undefined) return { error: '--config FILE is required' };
  return { config, flags: set };
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      resolve(sig);
    };
    process.once('SIGINT', () => on('SIGINT'));
    process.once('SIGTERM', () => on('SIGTERM'));
  });
}

/** Calls `reload` on every SIGHUP until the returned function is called. */
export function onReloadSignal(reload: () => void): () => void {
  const on = () => reload();
  process.on('SIGHUP', on);
  return () => void process.removeListener('SIGHUP', on);
}

/**
 * When `e` says the transport cannot run here: prints what failed and the fix to stderr and
 * returns exit status 1. Otherwise rethrows `e`.
 */
export function reportTransportFailure(command: string, configFile: string, e: unknown): number {
  if (!(e instanceof TransportUnavailableError)) throw e;
  const fix = e.fix ?? "check the message above, or set 'transport: kernel' (Linux kernel MPTCP) or 'transport: tcp' in the config file";
  process.stderr.write(`mptcp-proxy ${command}: ${e.message}\n  fix: ${fix} (${configFile})\n`);
  return 1;
}
