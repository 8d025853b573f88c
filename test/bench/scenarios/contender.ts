/**
 * What a benchmark contender is: something that carries a client's download from the lab's
 * aggregator side to the client (a proxy pair, kernel MPTCP alone, ...). Scenarios call
 * setup(lab) once per lab, then download() as often as they need, then teardown(lab). Each
 * contender lives in one file in contenders/ exporting `contender` (see contenders/index.ts).
 *
 * Traffic always comes from the lab's flow peer (test/lab/peers/flow.mjs): a download server on
 * the web host (port WEB_PORT, started by the runner for every lab) or one the contender starts,
 * and the downloader on the client, directly, through a SOCKS5 proxy, or under mptcpize; in the
 * foreground (runFlow) or in the background until stopped (startFlow, e.g. a competing flow).
 */
import type { Lab } from '../../lab/lab.js';
import { FLOW_PEER } from '../../lab/paths.js';

/** The web host's download server (plain TCP), started by the runner in every lab. */
export const WEB_PORT = 6000;

export interface DownloadOptions {
  /** Bytes per transfer. */
  bytes: number;
  /** Transfers in all (default 1), and how many at once (default 1). */
  count?: number;
  parallel?: number;
  /** Progress samples every so many ms (0: none). */
  progressMs?: number;
  /** Give up a transfer after this long. */
  timeoutMs: number;
}

/** One transfer as flow.mjs reports it (times in ms; start and progress in wall-clock ms). */
export interface Transfer {
  start: number;
  connectMs: number | null;
  ttfbMs: number | null;
  doneMs: number | null;
  bytes: number;
  maxGapMs: number;
  progress: [number, number][];
  error: string | null;
}

export interface FlowSummary {
  count: number;
  ok: number;
  errors: Record<string, number>;
  bytes: number;
  ttfbMedianMs: number | null;
  ttfbP99Ms: number | null;
  doneMedianMs: number | null;
}

export interface FlowReport {
  totalMs: number;
  rssBytes: number;
  /** Present for up to 20 transfers. */
  results?: Transfer[];
  summary: FlowSummary;
}

export interface Contender {
  /** Short, unique, used in tables and file names. */
  readonly name: string;
  readonly description: string;
  /** Why it cannot run on this machine (a missing package...), or undefined. */
  unavailable(): string | undefined;
  setup(lab: Lab): Promise<void>;
  download(lab: Lab, opts: DownloadOptions): Promise<FlowReport>;
  /** Pids of the contender's own processes (proxies), for memory figures; [] when none. */
  pids(): number[];
  teardown(lab: Lab): Promise<void>;
}

export interface FlowClient {
  /** Host and port to download from (through the proxy when `socks` is set). */
  connect: [string, number];
  socks?: [string, number];
  /** Source address (selects the client's path). */
  local?: string;
  /** Run the downloader under `mptcpize run` (kernel MPTCP sockets). */
  mptcp?: boolean;
}

function hostPort([host, port]: [string, number]): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** argv prefix raising the open-file soft limit to the hard one (many connections need it). */
export const MANY_FILES = ['sh', '-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh'];

function flowArgv(client: FlowClient, opts: DownloadOptions): string[] {
  const argv = [...MANY_FILES, ...(client.mptcp === true ? ['mptcpize', 'run'] : []), process.execPath, FLOW_PEER, 'get', '--connect', hostPort(client.connect), '--bytes', String(opts.bytes)];
  if (client.socks !== undefined) argv.push('--socks', hostPort(client.socks));
  if (client.local !== undefined) argv.push('--local', client.local);
  argv.push('--count', String(opts.count ?? 1), '--parallel', String(opts.parallel ?? 1), '--progress', String(opts.progressMs ?? 0), '--timeout', String(opts.timeoutMs));
  return argv;
}

function parseReport(stdout: string, stderr: string, code: number | null): FlowReport {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as FlowReport;
  } catch {
    throw new Error(`downloader failed (exit ${code}): ${stderr.slice(-500)} ${stdout.slice(-500)}`);
  }
}

/** Runs the downloader on the client and returns its report. */
export async function runFlow(lab: Lab, client: FlowClient, opts: DownloadOptions): Promise<FlowReport> {
  const r = await lab.exec('client', flowArgv(client, opts), opts.timeoutMs * Math.ceil((opts.count ?? 1) / (opts.parallel ?? 1)) + 30_000);
  return parseReport(r.stdout, r.stderr, r.code);
}

/** A downloader running in the background (startFlow). */
export interface BackgroundFlow {
  /** Stops it (SIGTERM: transfers under way end as "stopped") and returns its report. */
  stop(): Promise<FlowReport>;
}

/**
 * Starts the downloader on the client in the background, e.g. a competing flow that runs while
 * a contender downloads; stop() ends it early and still gets its report (progress included).
 */
export function startFlow(lab: Lab, client: FlowClient, opts: DownloadOptions): BackgroundFlow {
  const p = lab.spawn('client', flowArgv(client, opts));
  let stdout = '';
  let stderr = '';
  p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the report is the last line of stdout, complete only when it closes.
  const exited = new Promise<number | null>((resolve) => p.once('close', (code) => resolve(code)));
  return {
    async stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000))]);
      if (code === 'late') {
        p.kill('SIGKILL');
        throw new Error('background downloader did not stop within 10 s of SIGTERM');
      }
      return parseReport(stdout, stderr, code);
    },
  };
}

/** Starts a long-running server on a lab host and waits until its output matches `ready`. */
export async function startServer(lab: Lab, host: 'client' | 'aggregator' | 'web', argv: string[], ready: RegExp | number): Promise<ReturnType<Lab['spawn']>> {
  const p = lab.spawn(host, argv);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      p.stdout?.off('data', onData);
      p.stderr?.off('data', onData);
      p.off('exit', onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (ready instanceof RegExp && ready.test(seen)) done();
    };
    const onExit = (code: number | null) => done(new Error(`${argv.join(' ')} exited (${code}): ${seen}`));
    const timer = setTimeout(() => (typeof ready === 'number' ? done() : done(new Error(`${argv.join(' ')} not ready: ${seen}`))), typeof ready === 'number' ? ready : 10_000);
    p.stdout?.on('data', onData);
    p.stderr?.on('data', onData);
    p.on('exit', onExit);
  });
  // Keep draining output so a chatty server never blocks on a full pipe.
  p.stdout?.resume();
  p.stderr?.resume();
  return p;
}

/** The path a single-path contender should use: highest downlink rate, then lowest delay. */
export function bestPath(lab: Lab): Lab['paths'][number] {
  return [...lab.paths].sort((a, b) => b.config.downlink.rateBitsPerSec - a.config.downlink.rateBitsPerSec || a.config.downlink.delayMs - b.config.downlink.delayMs)[0];
}
