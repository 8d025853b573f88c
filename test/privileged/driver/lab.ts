/**
 * Helpers for the privileged driver tests: deciding whether they run (in CI they must; outside
 * CI they skip with a message saying why), two network namespaces joined by a veth pair, a
 * kernel TCP echo server in one of them, tcpdump captures, and running the TypeScript child
 * program (ns-child.ts) inside a namespace. The child is compiled with the TypeScript compiler
 * API into a temporary folder, because the vitest process itself stays in the root namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { privilegedSkipReason as sharedSkipReason } from '../../support/privileges.js';
import { parseCaptureFile } from '../../../mptcp/pcap/pcap-file.js';
import { stripLinkLayer } from '../../../mptcp/pcap/link-layer.js';
import { parseTcpPacket, type TcpPacket } from '../../../mptcp/wire/packet.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..', '..');
export const ADDON = join(REPO, 'mptcp', 'native', 'build', 'Release', 'mptcp_raw.node');
const TOOLS = ['ip', 'nft', 'tcpdump', 'ethtool', 'setpriv'];

/** Undefined when the driver tests can run; otherwise why not (see test/support/privileges.ts). */
export function privilegedSkipReason(what: string): string | undefined {
  return sharedSkipReason(what, TOOLS);
}

export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Two namespaces joined by a veth pair, with IPv4 and IPv6 addresses; destroy() removes all. */
export class Lab {
  readonly client: string;
  readonly server: string;
  readonly clientDev: string;
  readonly serverDev: string;
  readonly v4 = { client: '10.211.0.1', other: '10.211.0.3', server: '10.211.0.2' };
  readonly v6 = { client: 'fd00:211::1', other: 'fd00:211::3', server: 'fd00:211::2' };

  constructor(tag: string) {
    const id = `${tag}${process.pid}`;
    this.client = `${id}c`;
    this.server = `${id}s`;
    this.clientDev = `${id}c0`.slice(-15);
    this.serverDev = `${id}s0`.slice(-15);
  }

  create(): void {
    this.destroy();
    run('ip', ['netns', 'add', this.client]);
    run('ip', ['netns', 'add', this.server]);
    run('ip', ['link', 'add', this.clientDev, 'netns', this.client, 'type', 'veth', 'peer', 'name', this.serverDev, 'netns', this.server]);
    const c = (...a: string[]) => run('ip', ['-n', this.client, ...a]);
    const s = (...a: string[]) => run('ip', ['-n', this.server, ...a]);
    c('addr', 'add', `${this.v4.client}/24`, 'dev', this.clientDev);
    c('addr', 'add', `${this.v4.other}/24`, 'dev', this.clientDev);
    c('addr', 'add', `${this.v6.client}/64`, 'dev', this.clientDev, 'nodad');
    c('addr', 'add', `${this.v6.other}/64`, 'dev', this.clientDev, 'nodad');
    s('addr', 'add', `${this.v4.server}/24`, 'dev', this.serverDev);
    s('addr', 'add', `${this.v6.server}/64`, 'dev', this.serverDev, 'nodad');
    for (const [ns, dev] of [
      [this.client, this.clientDev],
      [this.server, this.serverDev],
    ] as const) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      // veth leaves the TCP checksum of kernel-sent packets partial (CHECKSUM_PARTIAL), and a
      // raw socket receives it unfinished: compute checksums in software so they verify.
      run('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off']);
    }
  }

  destroy(): void {
    for (const ns of [this.client, this.server]) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // not there
      }
    }
  }

  /** nft tables in a namespace. */
  tables(ns: string): string[] {
    return run('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])
      .split('\n')
      .filter((l) => l.trim() !== '');
  }
}

/** A long-running process in a namespace, started once its stdout or stderr shows `ready`. */
export async function startIn(ns: string, args: readonly string[], ready: RegExp, env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let seen = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${args.join(' ')} did not get ready: ${seen}`)), 10_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        res();
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.on('exit', (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`${args.join(' ')} exited (${code ?? sig}) before getting ready: ${seen}`));
    });
  });
  p.removeAllListeners('exit');
  return p;
}

export async function stop(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return { code: p.exitCode, signal: p.signalCode };
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => p.once('exit', (code, sig) => res({ code, signal: sig })));
  p.kill(signal);
  return done;
}

/** The kernel echo server: a dual-stack TCP listener that echoes what it reads. */
export function echoServer(port: number): string[] {
  const js = `require('net').createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); }).listen(${port}, '::', () => console.log('listening'));`;
  return [process.execPath, '-e', js];
}

/** tcpdump on `dev` in `ns`, writing a pcap; stop() waits until it is flushed. */
export async function capture(ns: string, dev: string, file: string): Promise<{ stop: () => Promise<void> }> {
  const p = await startIn(ns, ['tcpdump', '-i', dev, '--immediate-mode', '-U', '-n', '-s', '256', '-w', file, 'tcp'], /listening on/);
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 100));
      await stop(p, 'SIGINT');
    },
  };
}

/** The TCP packets of a tcpdump capture (Ethernet). */
export function readCapture(file: string): TcpPacket[] {
  const parsed = parseCaptureFile(new Uint8Array(readFileSync(file)));
  if (!parsed.ok) throw new Error(`bad capture ${file}: ${JSON.stringify(parsed.error)}`);
  const out: TcpPacket[] = [];
  for (const c of parsed.value.packets) {
    const l = stripLinkLayer(c.linkType, c.data);
    if (!l.ok) continue;
    const t = parseTcpPacket(l.value.payload);
    if (t.ok) out.push(t.value);
  }
  return out;
}

/** TTL (IPv4) or hop limit (IPv6) of a parsed packet. */
export function hops(p: TcpPacket): number {
  return p.ip.version === 4 ? p.ip.header.ttl : p.ip.header.hopLimit;
}

/** Compiles ns-child.ts and what it imports into a temporary folder; returns the JS entry. */
export function compileChild(): { entry: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-driver-child-'));
  chmodSync(dir, 0o755); // the unprivileged-user check runs it as nobody
  const configFile = ts.readConfigFile(join(REPO, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO);
  const src = join(HERE, 'ns-child.ts');
  const program = ts.createProgram([src], { ...parsed.options, noEmit: false, outDir: dir, rootDir: REPO, sourceMap: false, declaration: false });
  const result = program.emit();
  const diags = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diags.length > 0) throw new Error(ts.formatDiagnostics(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => REPO, getNewLine: () => '\n' }));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  return { entry: join(dir, relative(REPO, src).replace(/\.ts$/, '.js')), dir };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
