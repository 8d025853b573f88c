/**
 * Policy effects measured in the lab (issue 6 §5): the client's per-path policy and rules,
 * proven with the kernel's per-interface byte counters of the client host (`ip -s link`,
 * support/link-counters.ts), not with the proxy's own statistics. The real client and
 * aggregator processes run from the CLI over our userspace MPTCP at both ends, in namespaces
 * built by proxy/demo/topology.ts: a client host with two 100 Mbit/s paths (A: polc1, B:
 * polc2), the aggregator, and a web host serving large files on ports 8080, 8081 and 8082.
 * The client restarts with each case's policy:
 *
 * 1. backup: B `role: backup` carries at most 1% of what A carried (handshakes, keepalives,
 *    ACKs) while A is up during a 64 MiB download; A's link going down mid-download, B carries
 *    the rest and the download completes byte-exact;
 * 2. weights: `scheduler: weighted`, A weight 3, B weight 1: a 64 MiB download splits 3:1
 *    within 10% (both links fast enough that the weights decide, not the capacity);
 * 3. rate cap: B `download: 20mbit` on 100 Mbit/s links: B's rate over seconds 2..8 of a
 *    download is 20 Mbit/s within 10% (wire bytes, headers included), and A, uncapped, carries
 *    the rest: more than 1.5 times the cap;
 * 4. data cap: B `dataCap: 20MB a month`: of a 100 MiB download B carries at most 20 MB plus
 *    one RTT at the link's rate, then only A does; the client's /metrics reports B's usage near
 *    the cap, and a restarted client keeps it (B still carries nothing new);
 * 5. rules: port 8081 `scheduler: redundant` puts every byte of an application-limited stream
 *    (64 KiB every 50 ms for 5 s) on both paths; port 8082 `excludePaths: [B]` gives B no data
 *    while a download on port 8080 under the same policy uses B.
 *
 * Every case prints its figures (bytes per path, ratios, rates). Root only (namespaces, raw
 * sockets); always runs in CI, elsewhere skips saying why.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTopology } from '../../proxy/demo/topology.js';
import { parsePromText, promValue, type Sample } from '../support/prom-text.js';
import { privilegedSkipReason } from '../support/privileges.js';
import { body, sha256 } from '../unit/proxy/helpers.js';
import { LinkSampler, payloadAtMost, readLinkCounters, countersDelta, type LinkCounters } from './support/link-counters.js';
import { startProgram, type Program } from './support/topology.js';
import { buildCli, startUserspaceProxy, WEB_SERVER, type UserspaceProxy } from './support/userspace-proxy.js';
import { run, type Run } from './support/run.js';

const skip = privilegedSkipReason('policy effects over userspace MPTCP (test/e2e)', ['ip', 'tc', 'ethtool', 'nft', 'curl']) !== undefined;
let CLI = '';
const SECRET = 'policy e2e secret, long enough';
const MiB = 1024 * 1024;
const MB = 1e6;
const LINK_MBIT = 100;
const topo = defineTopology({ tag: 'pol', net: 78, rateMbit: [LINK_MBIT, LINK_MBIT], rawSockets: true });
const { ns: NS, addr: ADDR, dev: DEV } = topo;
/** Path A is the client's first link (its address is the initial subflow's), B the second. */
const [DEV_A, DEV_B] = DEV.client;
const CLIENT_METRICS = 'http://127.0.0.1:9464/metrics';
const METRICS_UP = /metrics on http:\/\/127\.0\.0\.1:9464\/metrics/;
/** The aggregator's metrics: its default, loopback port 9465 in its namespace. */
const AGG_METRICS = 'http://127.0.0.1:9465/metrics';



const curlIn = (args: string[], maxTimeS = 60) => run('ip', ['netns', 'exec', NS.client, 'curl', '-sS', '--max-time', String(maxTimeS), ...args], maxTimeS + 30);
const socks = ['--socks5-hostname', '127.0.0.1:1080'];
const url = (port: number, path: string) => `http://${topo.webName}:${port}${path}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number) => (b / MiB).toFixed(2);
const mbit = (bytes: number, ms: number) => (bytes * 8) / (ms / 1000) / 1e6;

/** The client's two paths, by name, with extra keys per path (YAML flow maps). */
function pathsYaml(a = '', b = ''): string {
  return `paths:\n  - { name: A, address: ${ADDR.client1}${a === '' ? '' : `, ${a}`} }\n  - { name: B, address: ${ADDR.client2}${b === '' ? '' : `, ${b}`} }\n`;
}

async function scrapeClient(): Promise<Sample[]> {
  const r = await curlIn([CLIENT_METRICS], 10);
  if (r.code !== 0) throw new Error(`scrape ${CLIENT_METRICS}: ${r.stderr}`);
  return parsePromText(r.stdout.toString());
}

/**
 * The proxy's own view of its paths, printed beside the link counters to help explain a
 * failure (never asserted): the client's and the aggregator's metrics.
 */
interface OwnView {
  client: Sample[];
  agg: Sample[];
}

async function ownView(): Promise<OwnView> {
  const a = await run('ip', ['netns', 'exec', NS.agg, 'curl', '-sS', '--max-time', '10', AGG_METRICS], 20);
  return { client: await scrapeClient(), agg: a.code === 0 ? parsePromText(a.stdout.toString()) : [] };
}

/**
 * At the client (paths by name) and the aggregator (paths by the client's address): whether
 * each path is up or backup and how many bytes its scheduler handed it since `since`.
 */
function describeOwnView(now: OwnView, since: OwnView): string {
  const at = (m: readonly Sample[], m0: readonly Sample[], path: string) => {
    const scheduled = (promValue(m, 'mptcp_proxy_path_scheduled_bytes_total', { path }) ?? 0) - (promValue(m0, 'mptcp_proxy_path_scheduled_bytes_total', { path }) ?? 0);
    return `${path}: up ${promValue(m, 'mptcp_path_up', { path }) ?? '-'}, backup ${promValue(m, 'mptcp_path_backup', { path }) ?? '-'}, scheduled ${mib(scheduled)} MiB`;
  };
  return `client ${['A', 'B'].map((p) => at(now.client, since.client, p)).join('; ')} | aggregator ${[ADDR.client1, ADDR.client2].map((p) => at(now.agg, since.agg, p)).join('; ')}`;
}

/**
 * The aggregator's stack events since `since` that change how bytes split across paths:
 * reinjections, silent or dead subflows, refused joins (never asserted; explains a failure).
 */
function describeAggEvents(now: OwnView, since: OwnView): string {
  const delta = (name: string, labels: Record<string, string> = {}) => (promValue(now.agg, name, labels) ?? 0) - (promValue(since.agg, name, labels) ?? 0);
  const events = ['silent_subflows', 'dead_subflows', 'joins_refused', 'penalizations'].map((e) => `${e} ${delta('mptcp_events_total', { event: e })}`);
  return `aggregator: reinjected ${mib(delta('mptcp_reinjected_bytes_total'))} MiB, ${events.join(', ')}`;
}

/** One line per path: wire bytes both ways, packets, and the payload bound. */
function describeLinks(links: readonly LinkCounters[]): string {
  return links.map((c, i) => `${i === 0 ? 'A' : 'B'} rx ${mib(c.rxBytes)} MiB (${c.rxPackets} pkts, payload <= ${mib(payloadAtMost(c, 'rx'))}) tx ${mib(c.txBytes)} MiB`).join('; ');
}

describe.skipIf(skip)('policy effects over userspace MPTCP, measured by the client host\'s link counters', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-policy-');
  const stateDir = join(dir, 'client-state');
  /** Where the client keeps data-cap usage (proxy/cli/commands/client.ts dataCapStateFile). */
  const usageFile = join(stateDir, 'client-data-usage.json');
  let proxy: UserspaceProxy | undefined;
  const webs: Program[] = [];

  /** Restarts the client with this policy (the part of client.yaml after aggregator and listen). */
  const useClient = async (policy: string) => {
    if (proxy === undefined) throw new Error('set-up failed');
    await proxy.client.stop();
    proxy.setClientYaml(policy);
    proxy.client = await proxy.restartClient();
    expect(proxy.client.output()).toMatch(/paths: A 10\.78\.1\.1, B 10\.78\.2\.1/);
    await proxy.client.waitFor(METRICS_UP);
  };

  beforeAll(async () => {
    CLI = buildCli('mptcp-proxy-e2e-policy');
    topo.create();
    // Data-cap usage goes to this test's folder (not /var/lib/mptcp-proxy, root's default).
    proxy = await startUserspaceProxy(topo, { cli: CLI, dir, secret: SECRET, clientYaml: pathsYaml(), clientEnv: { MPTCP_PROXY_STATE_DIR: stateDir } });
    // Two more web servers: the rules match on the destination port.
    for (const port of [8081, 8082]) {
      const w = startProgram(NS.web, 'node', [WEB_SERVER, String(port)]);
      webs.push(w);
      await w.waitFor(/listening/);
    }
  }, 180_000);

  afterAll(async () => {
    // Links back up whatever a failed case left.
    for (const d of [DEV_A, DEV_B]) {
      try {
        topo.exec(NS.client, 'ip', ['link', 'set', d, 'up']);
      } catch {
        /* the namespace is gone */
      }
    }
    await Promise.all(webs.map((w) => w.stop()));
    await proxy?.stop();
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backup: B carries (almost) nothing while A is up, and the rest of a 64 MiB download once A goes down', async () => {
    await useClient(pathsYaml('', 'role: backup'));
    const size = 64 * MiB;
    const sampler = new LinkSampler(NS.client, [DEV_A, DEV_B]).start();
    const download = curlIn([...socks, url(8080, `/bytes/${size}`)], 60);
    // A carries the download alone; once it has about 24 MiB, its link goes down.
    const deadline = Date.now() + 20_000;
    let before = sampler.sample();
    while (before.links[0].rxBytes < 24 * MiB && Date.now() < deadline) {
      await sleep(50);
      before = sampler.sample();
    }
    topo.exec(NS.client, 'ip', ['link', 'set', DEV_A, 'down']);
    let r: Run;
    try {
      r = await download;
    } finally {
      topo.exec(NS.client, 'ip', ['link', 'set', DEV_A, 'up']);
    }
    const end = sampler.stop();
    const [aUp, bUp] = before.links;
    const bAfter = countersDelta(bUp, end.links[1]);
    const bUpBytes = bUp.rxBytes + bUp.txBytes;
    console.log(
      `e2e policy backup: while A was up (${(before.t / 1000).toFixed(1)} s): A rx ${mib(aUp.rxBytes)} MiB, B rx ${bUp.rxBytes} B + tx ${bUp.txBytes} B (${((100 * bUpBytes) / aUp.rxBytes).toFixed(3)}% of A's); ` +
        `A down, then B rx ${mib(bAfter.rxBytes)} MiB; download ${r.stdout.length} bytes in ${(end.t / 1000).toFixed(1)} s ${r.stderr.trim()}`,
    );
    expect(aUp.rxBytes, 'A carried 24 MiB before its link went down').toBeGreaterThanOrEqual(24 * MiB);
    // Handshakes, keepalives and ACKs only: at most 1% of the transfer so far.
    expect(bUpBytes).toBeLessThanOrEqual(aUp.rxBytes * 0.01);
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBe(size);
    expect(sha256(r.stdout)).toBe(sha256(body(size)));
    // B carried the rest: at least what A had not (A's frames count headers too, so
    // size - A's bytes is less than what was left).
    expect(bAfter.rxBytes).toBeGreaterThanOrEqual(size - aUp.rxBytes);
  }, 90_000);

  it('weights: scheduler weighted, A 3 and B 1: a 64 MiB download splits 3:1 within 10%', async () => {
    await useClient(`scheduler: weighted\n${pathsYaml('weight: 3', 'weight: 1')}`);
    const size = 64 * MiB;
    const view0 = await ownView();
    const c0 = readLinkCounters(NS.client, [DEV_A, DEV_B]);
    const t0 = Date.now();
    const r = await curlIn([...socks, url(8080, `/bytes/${size}`)], 60);
    const ms = Date.now() - t0;
    const links = readLinkCounters(NS.client, [DEV_A, DEV_B]).map((c, i) => countersDelta(c0[i], c));
    const view = await ownView();
    const ratio = links[0].rxBytes / links[1].rxBytes;
    const payloadRatio = payloadAtMost(links[0], 'rx') / payloadAtMost(links[1], 'rx');
    console.log(`e2e policy weights: 64 MiB in ${ms} ms (${mbit(size, ms).toFixed(1)} Mbit/s); ${describeLinks(links)}; A:B ${ratio.toFixed(2)} (wire bytes), ${payloadRatio.toFixed(2)} (payload bounds); ${describeOwnView(view, view0)}; ${describeAggEvents(view, view0)}`);
    expect(r.stderr).toBe('');
    expect(sha256(r.stdout)).toBe(sha256(body(size)));
    expect(ratio).toBeGreaterThanOrEqual(3 * 0.9);
    expect(ratio).toBeLessThanOrEqual(3 * 1.1);
  }, 90_000);

  it('rate cap: B download 20mbit on 100 Mbit/s links: B at 20 Mbit/s within 10% over seconds 2..8, A takes the rest', async () => {
    await useClient(pathsYaml('', 'download: 20mbit'));
    const view0 = await ownView();
    const sampler = new LinkSampler(NS.client, [DEV_A, DEV_B]).start();
    // A download far longer than the 9 s it is given: the rates are taken while it runs.
    const download = curlIn([...socks, '-o', '/dev/null', url(8080, `/bytes/${4096 * MiB}`)], 9);
    await sleep(8000);
    const view = describeOwnView(await ownView(), view0);
    const r = await download;
    sampler.stop();
    const w = sampler.between(2000, 8000);
    const [a, b] = w.links;
    const rateA = mbit(a.rxBytes, w.ms);
    const rateB = mbit(b.rxBytes, w.ms);
    console.log(`e2e policy rate cap: seconds 2..8 (${w.ms} ms): ${describeLinks(w.links)}; A ${rateA.toFixed(1)} Mbit/s, B ${rateB.toFixed(1)} Mbit/s (wire), B payload <= ${mbit(payloadAtMost(b, 'rx'), w.ms).toFixed(1)} Mbit/s; curl exit ${r.code}; the proxy's own view at 8 s (since the start): ${view}`);
    // Still downloading at 9 s (curl's timeout, exit 28): the window was steady.
    expect(r.code, r.stderr).toBe(28);
    expect(rateB).toBeGreaterThanOrEqual(20 * 0.9);
    expect(rateB).toBeLessThanOrEqual(20 * 1.1);
    // A takes the rest: it is not held to B's cap (neither a connection-wide cap nor A capped
    // too) and carries the bulk, more than 1.5 times the cap. (Not "100 Mbit/s less 20": our
    // stack on a CI machine's cores carries less than a whole 100 Mbit/s link; the figure
    // printed above shows how much.)
    expect(rateA).toBeGreaterThan(20 * 1.5);
  }, 90_000);

  it('data cap: B 20 MB a month: B carries 20 MB of a 100 MiB download, then only A; /metrics shows it; a restart keeps it', async () => {
    const cap = 20 * MB;
    // What is in flight when the budget runs out plus the MP_PRIO's way to the aggregator:
    // HTB's queue (1,000 frames of 1,514 bytes, 121 ms at 100 Mbit/s) full, the base RTT, and
    // the aggregator's reaction, 240 ms at the link's rate: 3 MB (runs measured 1.4-2.5 MB).
    const tolerance = ((0.24 * LINK_MBIT) / 8) * MB;
    rmSync(usageFile, { force: true }); // a fresh month for B
    await useClient(pathsYaml('', 'dataCap: { limit: 20MB, period: month }'));
    expect(proxy?.client.output()).toContain(`client: data-cap usage kept in ${usageFile}`);
    const size = 100 * MiB;
    const sampler = new LinkSampler(NS.client, [DEV_A, DEV_B]).start();
    const r = await curlIn([...socks, url(8080, `/bytes/${size}`)], 60);
    const end = sampler.stop();
    const [a, b] = end.links;
    // Every segment of our MPTCP carries TCP timestamps (12 bytes) and a DSS option (8 bytes
    // at least): not payload either.
    const bPayload = payloadAtMost(b, 'both') - 20 * (b.rxPackets + b.txPackets);
    // From one second after B's link counted the cap (wire bytes, so the payload is a little
    // less): time for the spent budget's MP_PRIO to reach the aggregator and for what was in
    // flight to drain. (Not "the second half": on a slow machine B reaches its cap later.)
    const capAt = sampler.samples.find((x) => x.links[1].rxBytes + x.links[1].txBytes >= cap)?.t ?? end.t;
    const lateFrom = Math.min(capAt + 1000, end.t);
    const late = sampler.between(lateFrom, end.t).links;
    const m = await scrapeClient();
    const used = promValue(m, 'mptcp_proxy_path_data_cap_used_bytes', { path: 'B' });
    const limit = promValue(m, 'mptcp_proxy_path_data_cap_limit_bytes', { path: 'B' });
    console.log(
      `e2e policy data cap: 100 MiB in ${(end.t / 1000).toFixed(1)} s; ${describeLinks(end.links)}; B payload both ways <= ${(bPayload / MB).toFixed(2)} MB (cap 20 MB + tolerance ${(tolerance / MB).toFixed(1)} MB); ` +
        `B's link counted the cap at ${(capAt / 1000).toFixed(1)} s; from ${(lateFrom / 1000).toFixed(1)} s: A rx ${mib(late[0].rxBytes)} MiB, B rx ${late[1].rxBytes} B; metrics: B used ${used ?? 'none'} of ${limit ?? 'none'} bytes`,
    );
    expect(r.stderr).toBe('');
    expect(sha256(r.stdout)).toBe(sha256(body(size)));
    expect(bPayload).toBeLessThanOrEqual(cap + tolerance);
    // B was used up to its cap (the default scheduler uses both paths)...
    expect(b.rxBytes).toBeGreaterThan(cap * 0.9);
    // ...then only A: B at most 1% of A's bytes from a second after the cap.
    expect(end.t - lateFrom, 'time left after the cap to watch').toBeGreaterThan(2000);
    expect(late[1].rxBytes + late[1].txBytes).toBeLessThanOrEqual(late[0].rxBytes * 0.01);
    expect(a.rxBytes).toBeGreaterThanOrEqual(size - bPayload);
    expect(limit).toBe(cap);
    expect(used).toBeGreaterThanOrEqual(cap * 0.9);
    expect(used).toBeLessThanOrEqual(cap + tolerance);

    // A restarted client keeps the usage (saved on close): the file, the metric, and B
    // carries nothing new.
    if (proxy === undefined) throw new Error('set-up failed');
    await proxy.client.stop();
    const saved = existsSync(usageFile) ? readFileSync(usageFile, 'utf8').trim() : 'missing';
    proxy.client = await proxy.restartClient();
    await proxy.client.waitFor(METRICS_UP);
    const after = await scrapeClient();
    const usedAfter = promValue(after, 'mptcp_proxy_path_data_cap_used_bytes', { path: 'B' });
    console.log(`e2e policy data cap: ${usageFile} after the client stopped: ${saved}`);
    const small = 8 * MiB;
    const c0 = readLinkCounters(NS.client, [DEV_A, DEV_B]);
    const r2 = await curlIn([...socks, url(8080, `/bytes/${small}`)], 30);
    const links = readLinkCounters(NS.client, [DEV_A, DEV_B]).map((c, i) => countersDelta(c0[i], c));
    console.log(`e2e policy data cap after a client restart: metrics B used ${usedAfter ?? 'none'} bytes; 8 MiB download: ${describeLinks(links)}`);
    expect(usedAfter).toBeGreaterThanOrEqual(used ?? Infinity);
    expect(r2.stderr).toBe('');
    expect(sha256(r2.stdout)).toBe(sha256(body(small)));
    expect(links[1].rxBytes + links[1].txBytes).toBeLessThanOrEqual(small * 0.01);
  }, 120_000);

  it('rules: port 8081 redundant puts every byte of a paced stream on both paths; port 8082 excludePaths [B] gives B nothing', async () => {
    const rules = ['rules:', '  - name: interactive', '    match: { ports: [8081] }', '    scheduler: redundant', '  - name: not-b', '    match: { ports: [8082] }', '    excludePaths: [B]', ''].join('\n');
    await useClient(`${pathsYaml()}${rules}`);

    // 64 KiB every 50 ms for 5 s (10.5 Mbit/s, far below either link): application-limited.
    const paced = 100 * 64 * 1024;
    let c0 = readLinkCounters(NS.client, [DEV_A, DEV_B]);
    let t0 = Date.now();
    const r = await curlIn([...socks, url(8081, `/paced/${paced}/65536/50`)], 30);
    const pacedMs = Date.now() - t0;
    const red = readLinkCounters(NS.client, [DEV_A, DEV_B]).map((c, i) => countersDelta(c0[i], c));
    console.log(`e2e policy rule redundant: ${mib(paced)} MiB paced over ${pacedMs} ms; ${describeLinks(red)}; payload bound / stream: A ${(payloadAtMost(red[0], 'rx') / paced).toFixed(3)}, B ${(payloadAtMost(red[1], 'rx') / paced).toFixed(3)}`);
    expect(r.stderr).toBe('');
    expect(sha256(r.stdout)).toBe(sha256(body(paced)));
    expect(pacedMs).toBeGreaterThan(4500); // really paced
    // Every byte on each path: the most payload each link can have carried covers the stream.
    for (const c of red) expect(payloadAtMost(c, 'rx')).toBeGreaterThanOrEqual(paced);

    // excludePaths: [B] on 8082, while 8080 (no rule) still uses both paths.
    const size = 16 * MiB;
    c0 = readLinkCounters(NS.client, [DEV_A, DEV_B]);
    t0 = Date.now();
    const ex = await curlIn([...socks, url(8082, `/bytes/${size}`)], 30);
    const exMs = Date.now() - t0;
    const excluded = readLinkCounters(NS.client, [DEV_A, DEV_B]).map((c, i) => countersDelta(c0[i], c));
    c0 = readLinkCounters(NS.client, [DEV_A, DEV_B]);
    const ctl = await curlIn([...socks, url(8080, `/bytes/${size}`)], 30);
    const control = readLinkCounters(NS.client, [DEV_A, DEV_B]).map((c, i) => countersDelta(c0[i], c));
    console.log(`e2e policy rule excludePaths [B] (port 8082): 16 MiB in ${exMs} ms; ${describeLinks(excluded)}; control on port 8080: ${describeLinks(control)}`);
    expect(ex.stderr).toBe('');
    expect(sha256(ex.stdout)).toBe(sha256(body(size)));
    expect(excluded[1].rxBytes + excluded[1].txBytes).toBeLessThanOrEqual(size * 0.01);
    expect(ctl.stderr).toBe('');
    expect(sha256(ctl.stdout)).toBe(sha256(body(size)));
    // The control: the same client and links, no rule, and B carries a real share.
    expect(control[1].rxBytes).toBeGreaterThan(size * 0.1);
  }, 90_000);
});
