/**
 * `mptcp-proxy demo` (what `npm start` runs): the proxy on this machine, self-contained.
 *
 * As root: builds three network namespaces (proxy/demo/topology.ts: a client host with two
 * rate-limited paths, an aggregator host, a web host), starts an aggregator and a client (the
 * CLI's own commands, userspace MPTCP by default, TLS 1.3) from generated configs, and exposes
 * the client's SOCKS5/HTTP listener to this machine over a host link, then prints the proxy
 * address and curl commands that work from here. Ctrl-C (or any exit) stops the processes
 * and removes the namespaces.
 *
 * Without root (or without iproute2/ethtool), it says exactly what is missing and falls back
 * to a single-path demo in this process: aggregator, client and web host on loopback over
 * plain TCP (`transport: tcp`), which shows the proxy but not multipath.
 *
 * `--self-test` runs one download through SOCKS5 and one through HTTP with curl from this
 * machine, checks their bytes (and, with namespaces, that both paths carried data), tears down
 * and exits 0 (1 on any failure). `--transport kernel|userspace|tcp` picks the namespace
 * demo's transport. `--web-host PORT` is internal (the web host's process).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aggregator } from '../../aggregator/aggregator.js';
import { Client } from '../../client/client.js';
import { parseAggregatorConfig } from '../../config/aggregator-config.js';
import { parseClientConfig } from '../../config/client-config.js';
import { defineTopology, linkBytes, type Topology } from '../../demo/topology.js';
import { demoByteChunks, startDemoWebHost } from '../../demo/web-host.js';
import { createSelfSigned } from '../../tls/certificate.js';
import { userspacePreflight } from '../../transport/select.js';
import { createTcpTransport } from '../../transport/tcp.js';
import { TRANSPORT_KINDS, type TransportKind } from '../../transport/transport.js';
import { untilSignal } from './proxy-args.js';

const USAGE = `Usage: mptcp-proxy demo [--self-test] [--transport userspace|kernel|tcp]

As root: an aggregator and a client joined by two paths in network namespaces, a web host
behind the aggregator, and the client's proxy reachable from this machine. Without root: a
single-path demo on loopback (plain TCP). Ctrl-C stops and removes everything.
  --self-test   download through SOCKS5 and HTTP with curl, check, tear down, exit 0/1`;

const TAG = 'mpd';
const NET = 73;
const RATES: readonly [number, number] = [50, 20];
const AGG_PORT = 8443;
const WEB_PORT = 8080;
const PROXY_PORT = 1080;
const SELF_TEST_BYTES = 8 * 1024 * 1024;

interface DemoArgs {
  selfTest: boolean;
  transport: TransportKind;
  webHost: number | undefined;
}

function parseArgs(args: readonly string[]): DemoArgs | { help: true } | { error: string } {
  const out: DemoArgs = { selfTest: false, transport: 'userspace', webHost: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return { help: true };
    if (a === '--self-test') out.selfTest = true;
    else if (a === '--transport') {
      const v = args[++i];
      if (!(TRANSPORT_KINDS as readonly string[]).includes(v ?? '')) return { error: `--transport takes one of: ${TRANSPORT_KINDS.join(', ')}` };
      out.transport = v as TransportKind;
    } else if (a === '--web-host') {
      const p = Number(args[++i]);
      if (!Number.isInteger(p) || p < 1 || p > 65535) return { error: '--web-host takes a port' };
      out.webHost = p;
    } else return { error: `unknown argument '${a}'` };
  }
  return out;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

/** Whether an executable `tool` is on PATH (or in the sbin folders). */
function which(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.some((d) => {
    if (d === '') return false;
    try {
      accessSync(join(d, tool), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why the namespace demo cannot run here; empty when it can. */
function namespaceDemoBlockers(transport: TransportKind): string[] {
  const out: string[] = [];
  if (process.platform !== 'linux') return [`network namespaces need Linux (this is ${process.platform})`];
  if (process.geteuid?.() !== 0) out.push('root, to create network namespaces and (userspace transport) open raw sockets: run `sudo npm start`');
  const tools = ['ip', 'tc', ...(transport === 'userspace' ? ['ethtool', 'nft'] : [])].filter((t) => !which(t));
  if (tools.length > 0) out.push(`the tools ${tools.join(', ')}: \`sudo apt-get install -y iproute2 ethtool nftables\` (or \`sudo bash test/system-deps.sh\`)`);
  if (transport === 'userspace' && out.length === 0) {
    const pre = userspacePreflight();
    if (pre) out.push(`${pre.reason}; fix: ${pre.fix.replace(/ in the config file$/, '')}`);
  }
  return out;
}

interface Curl {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function curl(args: readonly string[], timeoutS = 60): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', String(timeoutS), ...args], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

function expectedSha(size: number): string {
  const h = createHash('sha256');
  for (const c of demoByteChunks(size)) h.update(c);
  return h.digest('hex');
}

/** Downloads through SOCKS5 and HTTP in parallel; prints and returns whether both were exact. */
async function selfTestDownloads(proxy: string, url: string): Promise<boolean> {
  const want = expectedSha(SELF_TEST_BYTES);
  const runs = await Promise.all([
    curl(['--socks5-hostname', proxy, url]).then((r) => ({ way: 'SOCKS5 (socks5h)', r })),
    curl(['-p', '-x', `http://${proxy}`, url]).then((r) => ({ way: 'HTTP CONNECT', r })),
  ]);
  let ok = true;
  for (const { way, r } of runs) {
    const sha = createHash('sha256').update(r.stdout).digest('hex');
    const good = r.code === 0 && r.stdout.length === SELF_TEST_BYTES && sha === want;
    ok &&= good;
    say(`self-test: ${way}: ${good ? 'ok' : 'FAILED'}, ${r.stdout.length} bytes, sha256 ${sha.slice(0, 16)}...${r.code !== 0 ? ` (curl exit ${r.code}: ${r.stderr.trim()})` : ''}`);
  }
  return ok;
}

interface Program {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<string>;
  stop: () => Promise<void>;
}

/** Runs `node <cli> args` inside a namespace; stderr lines are shown with a prefix. */
function startInNs(ns: string, label: string, args: readonly string[], showStdout: RegExp | undefined): Program {
  const cli = fileURLToPath(new URL('../main.js', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const lines = (show: (l: string) => boolean) => {
    let partial = '';
    return (d: Buffer) => {
      out += d.toString();
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) if (show(l)) say(`  [${label}] ${l}`);
      for (const w of waiters) w();
    };
  };
  child.stdout?.on('data', lines((l) => showStdout?.test(l) ?? false));
  child.stderr?.on('data', lines(() => true));
  let exited = false;
  child.on('exit', () => {
    exited = true;
    for (const w of waiters) w();
  });
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) done(() => resolve(out));
          else if (exited) done(() => reject(new Error(`${label} exited before it was ready`)));
        };
        const done = (f: () => void) => {
          waiters.delete(check);
          clearTimeout(timer);
          f();
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${label} not ready after ${timeoutMs} ms`))), timeoutMs);
        waiters.add(check);
        check();
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function namespaceDemo(a: DemoArgs): Promise<number> {
  const topo: Topology = defineTopology({ tag: TAG, net: NET, rateMbit: RATES, kernelMptcp: a.transport === 'kernel', rawSockets: a.transport === 'userspace', hostLink: true });
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-proxy-demo-'));
  const programs: Program[] = [];
  let torn = false;
  const teardownNow = () => {
    if (torn) return;
    torn = true;
    for (const p of programs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', teardownNow);
  const teardown = async () => {
    await Promise.all(programs.map((p) => p.stop()));
    teardownNow();
    process.removeListener('exit', teardownNow);
  };
  try {
    say(`mptcp-proxy demo: building namespaces ${topo.ns.client}, ${topo.ns.agg}, ${topo.ns.web} ...`);
    topo.create();
    const web = startInNs(topo.ns.web, 'web', ['demo', '--web-host', String(WEB_PORT)], undefined);
    programs.push(web);
    await web.waitFor(/listening/, 15_000);
    const secret = randomBytes(24).toString('hex');
    const aggFile = join(dir, 'aggregator.yaml');
    writeFileSync(
      aggFile,
      [`transport: ${a.transport}`, `listen: 0.0.0.0:${AGG_PORT}`, `stateDir: ${join(dir, 'state')}`, 'clients:', `  - { id: demo, secret: "${secret}" }`, 'destinations:', `  allow: [10.${NET}.3.0/24, "fd${NET}:3::/64"]`, ''].join('\n'),
    );
    const agg = startInNs(topo.ns.agg, 'aggregator', ['aggregator', '--config', aggFile], /stopping/);
    programs.push(agg);
    const aggOut = await agg.waitFor(/listening on/, 20_000);
    const fp = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(aggOut)?.[1];
    if (fp === undefined) throw new Error('the aggregator printed no certificate fingerprint');
    const clientFile = join(dir, 'client.yaml');
    const proxy = `${topo.addr.clientHost}:${PROXY_PORT}`;
    writeFileSync(
      clientFile,
      [
        `transport: ${a.transport}`,
        ...(a.transport === 'userspace' ? ['paths:', `  - ${topo.addr.client1}`, `  - ${topo.addr.client2}`] : []),
        'aggregator:',
        `  host: ${topo.addr.agg1}`,
        `  port: ${AGG_PORT}`,
        `  fingerprint: ${fp}`,
        '  clientId: demo',
        `  secret: "${secret}"`,
        `listen: [${proxy}, 127.0.0.1:${PROXY_PORT}]`,
        '',
      ].join('\n'),
    );
    const client = startInNs(topo.ns.client, 'client', ['client', '--config', clientFile], /stopping/);
    programs.push(client);
    await client.waitFor(/aggregator .* over/, 20_000);
    const page = `http://${topo.webName}:${WEB_PORT}/`;
    say('');
    say(`mptcp-proxy demo: running, ${a.transport === 'userspace' ? 'our userspace MPTCP' : a.transport === 'kernel' ? 'Linux kernel MPTCP' : 'plain TCP (one path)'} between client and aggregator, TLS 1.3`);
    say(`  client host  ${topo.ns.client}: path 1 ${topo.addr.client1} (${RATES[0]} Mbit/s, ${topo.dev.client[0]}), path 2 ${topo.addr.client2} (${RATES[1]} Mbit/s, ${topo.dev.client[1]})`);
    say(`  aggregator   ${topo.ns.agg}: ${topo.addr.agg1}:${AGG_PORT} (config ${aggFile})`);
    say(`  web host     ${topo.ns.web}: ${page} (${topo.addr.web4}, ${topo.addr.web6}; the name resolves at the aggregator)`);
    say('');
    say(`Proxy (SOCKS5 and HTTP on one port): ${proxy}, reachable from this machine over ${topo.dev.hostSide}`);
    say(`  curl --socks5-hostname ${proxy} ${page}`);
    say(`  curl -x http://${proxy} ${page}bytes/33554432 -o /dev/null   # 32 MiB over both paths`);
    say(`  (inside the client host: sudo ip netns exec ${topo.ns.client} curl --socks5-hostname 127.0.0.1:${PROXY_PORT} ${page})`);
    say(`Per-path bytes: ip -s -n ${topo.ns.client} link show ${topo.dev.client[0]}   (and ${topo.dev.client[1]})`);
    say(`Metrics and status page: inside each host, the client's on http://127.0.0.1:9464/ and the aggregator's on http://127.0.0.1:9465/`);
    say(`  (sudo ip netns exec ${topo.ns.client} curl -s http://127.0.0.1:9464/metrics; /api/status has the JSON behind the page)`);
    say('');
    if (a.selfTest) {
      const before = topo.dev.client.map((d) => linkBytes(topo.ns.client, d).rx);
      let ok = await selfTestDownloads(proxy, `${page}bytes/${SELF_TEST_BYTES}`);
      const rx = topo.dev.client.map((d, i) => linkBytes(topo.ns.client, d).rx - before[i]);
      const both = rx.every((r) => r > SELF_TEST_BYTES * 0.1);
      say(`self-test: received per path: ${rx.map((r, i) => `path ${i + 1} ${(r / 1048576).toFixed(1)} MiB`).join(', ')}${a.transport === 'tcp' ? '' : both ? ' (both carried data)' : ' (NOT both paths)'}`);
      if (a.transport !== 'tcp') ok &&= both;
      await teardown();
      say(`self-test: ${ok ? 'passed' : 'FAILED'}; namespaces removed`);
      return ok ? 0 : 1;
    }
    say('Ctrl-C stops the demo and removes the namespaces.');
    const stopped = await Promise.race([untilSignal(), ...programs.map((p) => new Promise<string>((r) => p.child.once('exit', () => r('a demo process exited'))))]);
    say(`mptcp-proxy demo: ${stopped}, stopping`);
    await teardown();
    say('mptcp-proxy demo: namespaces removed');
    return 0;
  } catch (e) {
    process.stderr.write(`mptcp-proxy demo: ${e instanceof Error ? e.message : String(e)}\n`);
    await teardown();
    return 1;
  }
}

/** Without root: aggregator, client and web host in this process, on loopback, plain TCP. */
async function loopbackDemo(a: DemoArgs, blockers: string[]): Promise<number> {
  say('mptcp-proxy demo: the two-path demo needs');
  for (const b of blockers) say(`  - ${b}`);
  say('Falling back to a single-path demo on loopback: aggregator, client and web host in this');
  say('process over plain TCP (transport: tcp). It shows the proxy, not multipath.');
  say('');
  const web = await startDemoWebHost('127.0.0.1', 0);
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-proxy-demo-'));
  const secret = randomBytes(24).toString('hex');
  const aggCfg = parseAggregatorConfig(`transport: tcp\nlisten: 127.0.0.1:0\nstateDir: ${dir}\nclients:\n  - { id: demo, secret: "${secret}" }\ndestinations:\n  allow: [127.0.0.1/32]\n`);
  const identity = createSelfSigned('mptcp-proxy demo aggregator', 1);
  const aggregator = new Aggregator(aggCfg, createTcpTransport(), identity);
  let client: Client | undefined;
  try {
    const at = await aggregator.start();
    const clientCfg = parseClientConfig(
      `transport: tcp\naggregator: { host: 127.0.0.1, port: ${at.port}, fingerprint: ${identity.fingerprint}, clientId: demo, secret: "${secret}" }\nlisten: [127.0.0.1:0]\n`,
    );
    client = new Client(clientCfg, createTcpTransport(), (l) => say(`  [client] ${l}`));
    const [listener] = await client.start();
    const proxy = `127.0.0.1:${listener.address.port}`;
    const page = `http://127.0.0.1:${web.port}/`;
    say(`mptcp-proxy demo (loopback): proxy (SOCKS5 and HTTP on one port) on ${proxy}`);
    say(`  curl --socks5-hostname ${proxy} ${page}`);
    say(`  curl -x http://${proxy} ${page}bytes/1048576 -o /dev/null`);
    say('Metrics: no Prometheus endpoint yet (issue 6).');
    say('');
    if (a.selfTest) {
      const ok = await selfTestDownloads(proxy, `${page}bytes/${SELF_TEST_BYTES}`);
      say(`self-test: ${ok ? 'passed' : 'FAILED'} (loopback fallback)`);
      return ok ? 0 : 1;
    }
    say('Ctrl-C stops the demo.');
    const sig = await untilSignal();
    say(`mptcp-proxy demo: ${sig}, stopping`);
    return 0;
  } finally {
    await client?.close();
    await aggregator.close();
    web.server.close();
    web.server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runDemo(args: string[]): Promise<number> {
  const a = parseArgs(args);
  if ('help' in a) {
    say(USAGE);
    return 0;
  }
  if ('error' in a) {
    process.stderr.write(`mptcp-proxy demo: ${a.error}\n\n${USAGE}\n`);
    return 2;
  }
  if (a.webHost !== undefined) {
    const web = await startDemoWebHost('::', a.webHost);
    say(`web host: listening on ${web.port}`);
    await untilSignal();
    web.server.close();
    web.server.closeAllConnections();
    return 0;
  }
  if (a.selfTest && !which('curl')) {
    process.stderr.write('mptcp-proxy demo: --self-test needs curl (sudo apt-get install -y curl)\n');
    return 1;
  }
  const blockers = namespaceDemoBlockers(a.transport);
  return blockers.length === 0 ? namespaceDemo(a) : loopbackDemo(a, blockers);
}
