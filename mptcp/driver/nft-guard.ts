/**
 * Keeps the kernel from resetting our userspace connections. The kernel sees the packets of
 * our connections too and, knowing no socket for them, answers a SYN/ACK or a segment with a
 * RST. The guard installs an nftables table of its own:
 *
 *   table inet mptcp_proxy_<name> {
 *     chain output {
 *       type filter hook output priority -300; policy accept;
 *       meta mark != <our mark> tcp sport { <our ports> } tcp flags & rst == rst drop
 *     }
 *   }
 *
 * - output hook: the kernel's RSTs are locally generated, so they pass OUTPUT; dropping in
 *   INPUT instead would also hide the peer's packets from our raw socket.
 * - priority -300 (raw): before conntrack (-200), so a connection tracker loaded by someone
 *   else's rules never sees the kernel's RST, does not mark the flow closed and does not start
 *   calling our later packets INVALID; and before any filter-priority rules of the host.
 * - `meta mark != mark`: our raw sockets mark their packets (SO_MARK), so RSTs we send
 *   ourselves still leave.
 *
 * The table is removed on dispose, on process exit and on SIGINT/SIGTERM (then the signal's
 * default action is re-raised so the process still dies of it). Installing replaces a table
 * of the same name (a crashed run's) in the same atomic nft transaction, and removes tables of
 * the default pid-based naming whose process is gone. `nft` is run with a script on stdin by
 * an injectable runner, so tests can check the script without privileges.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { formatRange, normalizeRanges, type PortRange } from './ports.js';

export const TABLE_PREFIX = 'mptcp_proxy_';
/** nftables' output hook priority "raw". */
export const GUARD_PRIORITY = -300;

export interface CommandResult {
  /** Exit status; null when the command could not be started or died of a signal. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started (e.g. code ENOENT). */
  error?: NodeJS.ErrnoException;
}

/** Runs `file args` with `input` on stdin, synchronously. */
export type CommandRunner = (file: string, args: readonly string[], input?: string) => CommandResult;

export const spawnRunner: CommandRunner = (file, args, input) => {
  const r = spawnSync(file, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const result: CommandResult = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error !== undefined) result.error = r.error;
  return result;
};

/** The process hooks the guard uses, injectable for tests. */
export interface ProcessHooks {
  readonly pid: number;
  on(event: 'exit', fn: () => void): unknown;
  on(event: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: 'exit', fn: () => void): unknown;
  removeListener(event: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown;
  listenerCount(event: string): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

export interface NftGuardOptions {
  /** Our local ports (client range and listener ports). */
  ports: readonly PortRange[];
  /** Our raw sockets' SO_MARK (non-zero): RSTs carrying it are ours and pass. */
  mark: number;
  /** Table name suffix ([A-Za-z0-9_], unique per stack on the host); default `pid<pid>`. */
  name?: string;
  runner?: CommandRunner;
  /** The nft executable; default: found on PATH, /usr/sbin or /sbin. */
  nft?: string;
  /** Remove the table on exit, SIGINT and SIGTERM (default true). */
  cleanupOnExit?: boolean;
  process?: ProcessHooks;
  /** Whether a process exists (for removing stale pid-named tables). */
  isAlive?: (pid: number) => boolean;
}

/** A failure to install or remove the guard, with what to do about it. */
export class NftGuardError extends Error {
  constructor(
    message: string,
    readonly reason: 'nft-missing' | 'permission' | 'kernel' | 'failed',
  ) {
    super(message);
    this.name = 'NftGuardError';
  }
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export function guardTableName(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new RangeError(`nft guard name must match [A-Za-z0-9_]{1,64}: ${JSON.stringify(name)}`);
  return TABLE_PREFIX + name;
}

export function defaultGuardName(pid: number): string {
  return `pid${pid}`;
}

/** The nft script that (re)creates the guard table, deleting `alsoDelete` tables first. */
export function guardScript(table: string, ports: readonly PortRange[], mark: number, alsoDelete: readonly string[] = []): string {
  const ranges = normalizeRanges(ports);
  if (ranges.length === 0) throw new RangeError('nft guard: no ports given');
  if (!Number.isInteger(mark) || mark <= 0 || mark > 0xffffffff) throw new RangeError('nft guard: the mark must be a non-zero u32');
  const markHex = `0x${mark.toString(16).padStart(8, '0')}`;
  return [
    ...alsoDelete.map((t) => `delete table inet ${t}`),
    // Declaring the table first makes the delete succeed whether or not a stale one exists.
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain output {',
    `    type filter hook output priority ${GUARD_PRIORITY}; policy accept;`,
    `    meta mark != ${markHex} tcp sport { ${ranges.map(formatRange).join(', ')} } tcp flags & rst == rst counter drop comment "mptcp-proxy: kernel RSTs for our userspace connections"`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export function removeScript(table: string): string {
  return `table inet ${table}\ndelete table inet ${table}\n`;
}

/** Table names from `nft list tables inet` that use the default pid naming, with their pid. */
export function pidTables(listing: string): { table: string; pid: number }[] {
  const out: { table: string; pid: number }[] = [];
  for (const m of listing.matchAll(/^table inet (mptcp_proxy_pid(\d+))\s*$/gm)) out.push({ table: m[1] ?? '', pid: Number(m[2]) });
  return out;
}

export function findNft(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  return dirs.map((d) => join(d, 'nft')).find((f) => existsSync(f)) ?? 'nft';
}

/** Turns a failed nft run into an error that says what to do. */
export function nftError(action: string, r: CommandResult): NftGuardError {
  if (r.error?.code === 'ENOENT') {
    return new NftGuardError(
      `nftables: cannot ${action}: the nft command was not found. Install nftables (Debian/Ubuntu: apt-get install nftables); ` +
        'the raw-socket driver needs it to stop the kernel from resetting our connections',
      'nft-missing',
    );
  }
  const text = `${r.stderr}\n${r.stdout}`.trim();
  if (r.error?.code === 'EACCES' || /Operation not permitted|you must be root|Permission denied/i.test(text)) {
    return new NftGuardError(
      `nftables: cannot ${action}: Operation not permitted. The driver needs CAP_NET_ADMIN (and CAP_NET_RAW for its raw sockets): ` +
        'run it as root (e.g. sudo), or in a container with --cap-add NET_ADMIN --cap-add NET_RAW',
      'permission',
    );
  }
  if (/Protocol not supported|Could not process rule: No such file or directory|Address family not supported/i.test(text)) {
    return new NftGuardError(
      `nftables: cannot ${action}: the kernel lacks nf_tables support (try: modprobe nf_tables; nft says: ${firstLine(text)})`,
      'kernel',
    );
  }
  const why = r.error !== undefined ? r.error.message : `exit status ${r.status ?? 'none (killed)'}`;
  return new NftGuardError(`nftables: cannot ${action} (${why}): ${text === '' ? 'no output' : text}`, 'failed');
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards registered per process object, sharing one set of exit and signal handlers. */
const registries = new WeakMap<ProcessHooks, Registry>();

class Registry {
  readonly guards = new Set<NftGuard>();
  private readonly onExit = () => this.disposeAll();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    const alone = this.proc.listenerCount(signal) === 1;
    this.disposeAll(); // which also removes our handlers
    // If nobody else handles the signal, do what it would have done without us: die of it.
    if (alone) {
      this.detach();
      this.proc.kill(this.proc.pid, signal);
    }
  };

  constructor(private readonly proc: ProcessHooks) {}

  add(g: NftGuard): void {
    if (this.guards.size === 0) {
      this.proc.on('exit', this.onExit);
      for (const s of SIGNALS) this.proc.on(s, this.onSignal);
    }
    this.guards.add(g);
  }

  delete(g: NftGuard): void {
    if (this.guards.delete(g) && this.guards.size === 0) this.detach();
  }

  private detach(): void {
    this.proc.removeListener('exit', this.onExit);
    for (const s of SIGNALS) this.proc.removeListener(s, this.onSignal);
  }

  private disposeAll(): void {
    for (const g of [...this.guards]) {
      try {
        g.dispose();
      } catch (e) {
        console.error(e instanceof Error ? e.message : e);
      }
    }
  }
}

export class NftGuard {
  private disposed = false;

  private constructor(
    readonly table: string,
    readonly script: string,
    private readonly run: (action: string, script: string) => void,
    private readonly proc: ProcessHooks | undefined,
  ) {}

  /** Installs the guard table (replacing a stale one) and arranges its removal. */
  static install(opts: NftGuardOptions): NftGuard {
    const proc = opts.process ?? process;
    const table = guardTableName(opts.name ?? defaultGuardName(proc.pid));
    const runner = opts.runner ?? spawnRunner;
    const nft = opts.nft ?? findNft();
    const run = (action: string, script: string) => {
      const r = runner(nft, ['-f', '-'], script);
      if (r.error !== undefined || r.status !== 0) throw nftError(action, r);
    };
    const isAlive = opts.isAlive ?? defaultIsAlive;
    // Tables of the default naming whose process is gone were left by crashed runs.
    const listing = runner(nft, ['list', 'tables', 'inet']);
    if (listing.error !== undefined || listing.status !== 0) throw nftError('list tables', listing);
    const stale = pidTables(listing.stdout)
      .filter((t) => t.table !== table && t.pid !== proc.pid && !isAlive(t.pid))
      .map((t) => t.table);
    const script = guardScript(table, opts.ports, opts.mark, stale);
    run(`install the RST guard table inet ${table}`, script);
    const guard = new NftGuard(table, script, run, opts.cleanupOnExit === false ? undefined : proc);
    if (guard.proc !== undefined) {
      let reg = registries.get(guard.proc);
      if (reg === undefined) {
        reg = new Registry(guard.proc);
        registries.set(guard.proc, reg);
      }
      reg.add(guard);
    }
    return guard;
  }

  get active(): boolean {
    return !this.disposed;
  }

  /** Removes the table. Idempotent; safe in exit handlers (synchronous). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.proc !== undefined) registries.get(this.proc)?.delete(this);
    this.run(`remove the RST guard table inet ${this.table}`, removeScript(this.table));
  }
}
