/**
 * Proxy benchmark: time to first byte and connections per second through our client and
 * aggregator (kernel MPTCP, two paths, TLS) against microsocks (a single-path SOCKS5 proxy,
 * Debian package) on the aggregator host reached over the first path, in the same run, in
 * network namespaces it creates and removes (root):
 *
 *   e2ebc (client) e2ebc1 10.72.1.1 --- 10.72.1.2 e2eba1  e2eba (aggregator, microsocks)
 *                  e2ebc2 10.72.2.1 --- 10.72.2.2 e2eba2        e2eba3 10.72.3.1 --- 10.72.3.2 e2ebw (web)
 *
 * A driver inside the client namespace speaks SOCKS5 itself (no curl process per request); it
 * dials our client on loopback (where applications find it) and microsocks over path 1.
 * TTFB is from TCP connect to the proxy until the first byte of the HTTP response of a 1-byte
 * object; connections/s runs `concurrency` such cycles in parallel for `seconds`.
 *
 * `runProxyBenchmark()` returns the rows or a string saying why it cannot run; run this file
 * with node (after `npm run build`) to print a table.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ProxyBenchRow {
  contender: string;
  ttfbMedianMs: number;
  ttfbP90Ms: number;
  connectionsPerSecond: number;
  failures: number;
  /** Why attempts failed ("timeout at stage 1": no SOCKS5 reply within 3 s, ...). */
  failureReasons: Record<string, number>;
}

export interface ProxyBenchOptions {
  /** Sequential requests for the TTFB figures. */
  requests?: number;
  /** Parallel workers and duration for connections/s. */
  concurrency?: number;
  seconds?: number;
  /** The built CLI (default: dist/proxy/cli/main.js next to this file's build). */
  cliPath?: string;
  kernelAddon?: string;
}

const NS = { client: 'e2ebc', agg: 'e2eba', web: 'e2ebw' } as const;
const WEB = '10.72.3.2';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (...a: string[]) => sh('ip', a);
const inNs = (ns: string, ...a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);

function which(tool: string): boolean {
  try {
    sh('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

function teardown(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* absent */
    }
  }
}

function setup(): void {
  teardown();
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', 'e2ebc1', 'netns', NS.client, 'type', 'veth', 'peer', 'name', 'e2eba1', 'netns', NS.agg);
  ip('link', 'add', 'e2ebc2', 'netns', NS.client, 'type', 'veth', 'peer', 'name', 'e2eba2', 'netns', NS.agg);
  ip('link', 'add', 'e2eba3', 'netns', NS.agg, 'type', 'veth', 'peer', 'name', 'e2ebw3', 'netns', NS.web);
  for (const [ns, dev, addr] of [
    [NS.client, 'e2ebc1', '10.72.1.1/24'],
    [NS.client, 'e2ebc2', '10.72.2.1/24'],
    [NS.agg, 'e2eba1', '10.72.1.2/24'],
    [NS.agg, 'e2eba2', '10.72.2.2/24'],
    [NS.agg, 'e2eba3', '10.72.3.1/24'],
    [NS.web, 'e2ebw3', `${WEB}/24`],
  ] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  ip('-n', NS.client, 'rule', 'add', 'from', '10.72.2.1', 'table', '102');
  ip('-n', NS.client, 'route', 'add', '10.72.1.0/24', 'via', '10.72.2.2', 'dev', 'e2ebc2', 'onlink', 'table', '102');
  inNs(NS.client, 'ip', 'mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2');
  inNs(NS.client, 'ip', 'mptcp', 'endpoint', 'add', '10.72.2.1', 'dev', 'e2ebc2', 'subflow');
  inNs(NS.agg, 'ip', 'mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2');
}

function start(ns: string, cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; ready: (re: RegExp) => Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const ready = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (re.test(out)) {
          clearInterval(poll);
          resolve(out);
        } else if (child.exitCode !== null || Date.now() - t0 > 15_000) {
          clearInterval(poll);
          reject(new Error(`${cmd} ${args.join(' ')} did not print ${String(re)}:\n${out}`));
        }
      }, 50);
    });
  return { child, ready };
}

/** The web host: 1-byte responses, keep nothing. */
const WEB_SCRIPT = `require('http').createServer((q, s) => s.end('x')).listen(8080, '0.0.0.0', () => console.log('listening'));`;

/** The driver in the client namespace: SOCKS5 by hand, then GET; prints JSON. */
const DRIVER_SCRIPT = `
const net = require('net');
const host = process.argv[1];
const [port, requests, conc, seconds] = process.argv.slice(2).map(Number);
const ip = [10, 72, 3, 2];
const reasons = {};
function once() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect(port, host);
    s.setNoDelay(true);
    let stage = 0, buf = Buffer.alloc(0), done = false;
    const fin = (ok, why) => { if (done) return; done = true; s.destroy(); if (!ok) reasons[why + ' at stage ' + stage] = (reasons[why + ' at stage ' + stage] || 0) + 1; resolve(ok ? Number(process.hrtime.bigint() - t0) / 1e6 : -1); };
    s.on('error', (e) => fin(false, e.code || e.message));
    s.on('close', () => fin(false, 'closed'));
    s.setTimeout(3000, () => fin(false, 'timeout'));
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        if (buf[1] !== 0) return fin(false, 'method refused');
        buf = buf.subarray(2); stage = 1;
        s.write(Buffer.from([5, 1, 0, 1, ...ip, 0x1f, 0x90]));
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) return fin(false, 'reply ' + buf[1]);
        buf = buf.subarray(10); stage = 2;
        s.write('GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n');
      }
      if (stage === 2 && buf.length > 0) fin(true);
    });
  });
}
(async () => {
  const ttfb = []; let failures = 0;
  for (let i = 0; i < 5; i++) await once();
  for (let i = 0; i < requests; i++) { const t = await once(); if (t < 0) failures++; else ttfb.push(t); }
  let count = 0; const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < end) { const t = await once(); if (t < 0) failures++; else count++; } }));
  ttfb.sort((a, b) => a - b);
  const q = (p) => ttfb.length ? ttfb[Math.min(ttfb.length - 1, Math.floor(p * ttfb.length))] : NaN;
  console.log(JSON.stringify({ median: q(0.5), p90: q(0.9), cps: count / seconds, failures, reasons }));
})();
`;

type Driven = { median: number; p90: number; cps: number; failures: number; reasons: Record<string, number> };

/** Runs the driver without blocking this event loop (the children's pipes keep draining). */
async function drive(host: string, port: number, o: Required<Pick<ProxyBenchOptions, 'requests' | 'concurrency' | 'seconds'>>): Promise<Driven> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['netns', 'exec', NS.client, 'node', '-e', DRIVER_SCRIPT, host, String(port), String(o.requests), String(o.concurrency), String(o.seconds)], { encoding: 'utf8' }, (err: Error | null, stdout: string) => (err ? reject(err) : resolve(stdout))),
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Driven;
}

export async function runProxyBenchmark(opts: ProxyBenchOptions = {}): Promise<ProxyBenchRow[] | string> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'proxy benchmark skipped: needs root on Linux (network namespaces)';
  const missing = ['ip', 'microsocks'].filter((t) => !which(t));
  if (missing.length > 0) return `proxy benchmark skipped: missing ${missing.join(', ')} (sudo bash test/system-deps.sh)`;
  const cli = opts.cliPath ?? fileURLToPath(new URL('../../proxy/cli/main.js', import.meta.url));
  const addon = opts.kernelAddon ?? fileURLToPath(new URL('../../../mptcp/native/build/Release/mptcp_kernel.node', import.meta.url));
  const o = { requests: opts.requests ?? 200, concurrency: opts.concurrency ?? 8, seconds: opts.seconds ?? 5 };
  const dir = mkdtempSync(join(tmpdir(), 'proxy-bench-'));
  const children: ChildProcess[] = [];
  setup();
  try {
    const web = start(NS.web, 'node', ['-e', WEB_SCRIPT]);
    children.push(web.child);
    await web.ready(/listening/);
    const secret = 'proxy benchmark secret';
    writeFileSync(join(dir, 'agg.yaml'), `transport: kernel\nlisten: 10.72.1.2:8443\nstateDir: ${join(dir, 'state')}\nclients:\n  - { id: bench, secret: "${secret}" }\ndestinations:\n  allow: [10.72.3.0/24]\n`);
    const agg = start(NS.agg, 'node', [cli, 'aggregator', '--config', join(dir, 'agg.yaml')], { MPTCP_KERNEL_ADDON: addon });
    children.push(agg.child);
    const aggOut = await agg.ready(/listening on/);
    const fp = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(aggOut)?.[1];
    if (fp === undefined) throw new Error(`no fingerprint from the aggregator:\n${aggOut}`);
    writeFileSync(join(dir, 'client.yaml'), `transport: kernel\naggregator: { host: 10.72.1.2, port: 8443, fingerprint: ${fp}, clientId: bench, secret: "${secret}" }\nlisten: [127.0.0.1:1080]\npool: { min: 4, max: 64 }\n`);
    const client = start(NS.client, 'node', [cli, 'client', '--config', join(dir, 'client.yaml')], { MPTCP_KERNEL_ADDON: addon });
    children.push(client.child);
    await client.ready(/proxy on/);
    // The same pair without TLS (plaintext: true), to show what TLS costs per connection.
    writeFileSync(join(dir, 'agg-plain.yaml'), `transport: kernel\nlisten: 10.72.1.2:8444\nplaintext: true\nstateDir: ${join(dir, 'state-plain')}\nclients:\n  - { id: bench, secret: "${secret}" }\ndestinations:\n  allow: [10.72.3.0/24]\n`);
    const aggPlain = start(NS.agg, 'node', [cli, 'aggregator', '--config', join(dir, 'agg-plain.yaml')], { MPTCP_KERNEL_ADDON: addon });
    children.push(aggPlain.child);
    await aggPlain.ready(/listening on/);
    writeFileSync(join(dir, 'client-plain.yaml'), `transport: kernel\nplaintext: true\naggregator: { host: 10.72.1.2, port: 8444, clientId: bench, secret: "${secret}" }\nlisten: [127.0.0.1:1083]\npool: { min: 4, max: 64 }\n`);
    const clientPlain = start(NS.client, 'node', [cli, 'client', '--config', join(dir, 'client-plain.yaml')], { MPTCP_KERNEL_ADDON: addon });
    children.push(clientPlain.child);
    await clientPlain.ready(/proxy on/);
    // microsocks on the aggregator host, reached over path 1 (single path, plain TCP).
    // Its per-connection log goes nowhere: a full pipe would stall it.
    const ms = spawn('ip', ['netns', 'exec', NS.agg, 'microsocks', '-i', '10.72.1.2', '-p', '1081'], { stdio: 'ignore' });
    children.push(ms);
    await new Promise((r) => setTimeout(r, 300));
    await new Promise((r) => setTimeout(r, 500)); // let the pool fill
    // The application dials microsocks over path 1, and our client on its own host (loopback).
    // microsocks goes first: the web host's TIME_WAIT entries from one contender's many short
    // connections must not slow the other's SYNs (RFC 6191 reuse depends on timestamps).
    const ms1 = await drive('10.72.1.2', 1081, o);
    const ours = await drive('127.0.0.1', 1080, o);
    const plain = await drive('127.0.0.1', 1083, o);
    return [
      { contender: 'mptcp-proxy (kernel MPTCP, 2 paths, TLS 1.3, pooled streams)', ttfbMedianMs: ours.median, ttfbP90Ms: ours.p90, connectionsPerSecond: ours.cps, failures: ours.failures, failureReasons: ours.reasons },
      { contender: 'mptcp-proxy, plaintext: true (no TLS)', ttfbMedianMs: plain.median, ttfbP90Ms: plain.p90, connectionsPerSecond: plain.cps, failures: plain.failures, failureReasons: plain.reasons },
      { contender: 'microsocks (single path, plain TCP)', ttfbMedianMs: ms1.median, ttfbP90Ms: ms1.p90, connectionsPerSecond: ms1.cps, failures: ms1.failures, failureReasons: ms1.reasons },
    ];
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    teardown();
  }
}

export function proxyBenchTable(rows: ProxyBenchRow[]): string {
  const lines = ['| contender | TTFB median | TTFB p90 | connections/s | failures |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const why = Object.entries(r.failureReasons).map(([k, v]) => `${v} ${k}`).join(', ');
    lines.push(`| ${r.contender} | ${r.ttfbMedianMs.toFixed(2)} ms | ${r.ttfbP90Ms.toFixed(2)} ms | ${r.connectionsPerSecond.toFixed(0)} | ${r.failures}${why !== '' ? ` (${why})` : ''} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runProxyBenchmark().then((r) => console.log(typeof r === 'string' ? r : proxyBenchTable(r)));
}
