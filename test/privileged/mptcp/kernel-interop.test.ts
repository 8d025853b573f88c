/**
 * Our userspace MPTCP against the Linux kernel's MPTCP, in network namespaces joined by two
 * parallel links (test/support/mptcp-netns.ts), in both roles: our client to a kernel server,
 * a kernel client (with subflow endpoints) to our listener. Every transfer moves SIZE bytes
 * each way and compares sha256 on both ends; every path must carry data; the kernel's
 * MPTcpExt counters must show the joins and no HMAC failure, DSS mismatch or checksum error.
 * Then: IPv6 and mixed IPv4/IPv6 paths, failure of the initial path mid-transfer and its
 * return, ADD_ADDR and REMOVE_ADDR both ways, MP_PRIO backup both ways, fallback when a
 * middlebox strips the options, DSS checksums, a black-holed initial path at connect time,
 * and MP_FASTCLOSE from either side.
 *
 * Runs as root (always in CI); elsewhere skips with a message saying why.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMultipathPair, type MultipathPair } from '../../support/mptcp-netns.js';
import { linkBytes } from '../../../proxy/demo/topology.js';

import { privilegedSkipReason } from '../../support/privileges.js';
import { tsharkMissing } from '../../support/tshark.js';

/** Bytes a link carried both ways so far (interface counters). */
const linkTotal = (ns: string, dev: string): number => {
  const b = linkBytes(ns, dev);
  return b.rx + b.tx;
};

const skip = privilegedSkipReason('userspace MPTCP interop with Linux (test/privileged/mptcp)', ['ip', 'nft', 'ethtool', 'nstat', 'python3', 'iptables']) !== undefined;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PEERS = join(ROOT, 'test/privileged/peers');
const MiB = 1024 * 1024;
const SIZE = Number(process.env.INTEROP_MPTCP_MIB ?? 128) * MiB;

/** Kernel counters that must not move in any test. */
const KERNEL_ERRORS = ['MPJoinSynAckHMacFailure', 'MPJoinAckHMacFailure', 'DSSNotMatching', 'DataCsumErr', 'DSSCorruptionFallback', 'DSSCorruptionReset', 'OFOQueueTail', 'AddAddrDrop', 'MPJoinPortSynRx'];
const KERNEL_ERRORS_STRICT = ['MPJoinSynAckHMacFailure', 'MPJoinAckHMacFailure', 'DSSNotMatching', 'DataCsumErr', 'DSSCorruptionFallback', 'DSSCorruptionReset'];
void KERNEL_ERRORS;

interface Hashed {
  bytes: number;
  sha256: string | null;
  error?: string | null;
}
interface OurResult extends Hashed {
  fallback: boolean;
  counters: Record<string, number>;
  subflows: { id: number; local: string; remote: string; backup: boolean; localBackup: boolean; sent: number; received: number; closeReason: string; retrans: number }[];
  samples: { t: number; perLocal: Record<string, number> }[];
}

function expected(total: number, seed: number): string {
  return execFileSync('node', ['-e', `import('${PEERS}/stream.mjs').then(m => process.stdout.write(m.expectedDigest(${total}, ${seed})))`], { encoding: 'utf8' });
}

/** Pipelines still running: killed (whole process group) when a test ends, passed or not. */
const live = new Set<ChildProcess>();
function killGroup(p: ChildProcess): void {
  try {
    if (p.pid) process.kill(-p.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function lastJson<T>(text: string): T {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`no JSON result in: ${text}`);
  return JSON.parse(line) as T;
}

describe.skipIf(skip)('userspace MPTCP against the Linux kernel over two paths', () => {
  let pair: MultipathPair;
  let seedBase = 300;
  let port = 6100;
  const digests = new Map<string, string>();
  const digest = (size: number, seed: number) => {
    const k = `${size}/${seed}`;
    let d = digests.get(k);
    if (!d) digests.set(k, (d = expected(size, seed)));
    return d;
  };

  function nsShell(ns: string, script: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout kills the whole pipeline, not only the shell.
      const p = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      live.add(p);
      let out = '';
      let err = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => killGroup(p), timeoutMs);
      p.on('close', (code) => {
        clearTimeout(timer);
        live.delete(p);
        // A peer that finished but had something to report (our peer's stall reports).
        if (code === 0 && /stalled|did not take everything/.test(err)) console.error(`${ns}: ${err.trim()}`);
        if (code === 0) resolve(out);
        else reject(new Error(`${ns}: \`${script}\` exited ${code}\n${err}\n${out}`));
      });
    });
  }

  const kernel = (mode: 'listen' | 'connect', addr: string, p: number, send: number, seed: number, extra = '') =>
    nsShell(pair.kernel, `node ${PEERS}/gen.mjs ${send} ${seed} | python3 ${PEERS}/mptcp-cat.py ${mode} ${addr} ${p} ${extra} | node ${PEERS}/hash.mjs`, 240_000).then((t) => lastJson<Hashed>(t));
  const ours = (o: Record<string, unknown>) => nsShell(pair.ours, `node ${PEERS}/our-mptcp-peer.mjs '${JSON.stringify(o)}'`, 240_000).then((t) => lastJson<OurResult>(t));
  const kip = (...args: string[]) => pair.exec(pair.kernel, 'ip', args);

  /** Both peers' results; when either fails, an error that carries both sides' reports. */
  async function bothOrReport<K, O extends { error?: string | null }>(kernelSide: Promise<K>, ourSide: Promise<O>): Promise<[K, O]> {
    // Our peer gives up on a stalled transfer (its watchdog): stop the kernel side too.
    const ours = ourSide.then((r) => {
      if (r.error) for (const p of live) killGroup(p);
      return r;
    });
    const [k, o] = await Promise.allSettled([kernelSide, ours]);
    if (k.status === 'fulfilled' && o.status === 'fulfilled') return [k.value, o.value];
    const side = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? JSON.stringify(r.value).slice(0, 2000) : String(r.reason));
    throw new Error(`kernel side: ${side(k)}\nour side: ${side(o)}`);
  }

  function kernelDelta(before: Record<string, number>): Record<string, number> {
    const after = pair.mptcpCounters(pair.kernel);
    const d: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) d[k] = v - (before[k] ?? 0);
    return d;
  }
  function expectNoKernelErrors(d: Record<string, number>): void {
    for (const k of KERNEL_ERRORS_STRICT) expect(d[k] ?? 0, `kernel MPTcpExt${k}`).toBe(0);
  }

  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    pair = createMultipathPair('i', 93, 2);
    for (const ns of [pair.ours, pair.kernel]) pair.exec(ns, 'ip', ['mptcp', 'limits', 'set', 'subflows', '8', 'add_addr_accepted', '8']);
  }, 180_000);
  afterAll(() => pair?.destroy());
  afterEach(() => {
    for (const p of live) killGroup(p);
    live.clear();
  });
  beforeEach(() => {
    kip('mptcp', 'endpoint', 'flush');
    pair.exec(pair.kernel, 'sysctl', ['-qw', 'net.mptcp.checksum_enabled=0']);
  });

  /** Our client (one local address per path) to a kernel server on its first address. */
  async function ourClient(family: 4 | 6, opts: { size?: number; locals?: { address: string; backup?: boolean }[]; remotes?: string[]; checksums?: boolean; actions?: unknown[]; during?: () => Promise<void>; dualStack?: boolean } = {}) {
    const size = opts.size ?? SIZE;
    const p = port++;
    const up = seedBase++;
    const down = seedBase++;
    const a = (i: number) => (family === 4 ? pair.paths[i].ours4 : pair.paths[i].ours6);
    const k0 = family === 4 ? pair.paths[0].kernel4 : pair.paths[0].kernel6;
    const before = pair.mptcpCounters(pair.kernel);
    const server = kernel('listen', family === 4 && !opts.dualStack ? '0.0.0.0' : '::', p, size, down);
    await new Promise((r) => setTimeout(r, 300));
    const client = ours({ mode: 'connect', locals: opts.locals ?? [{ address: a(0) }, { address: a(1) }], remotes: opts.remotes ?? [k0], port: p, send: size, seed: up, checksums: opts.checksums, actions: opts.actions });
    if (opts.during) await opts.during();
    const [k, o] = await bothOrReport(server, client);
    expect(o.error ?? null).toBeNull();
    expect(k).toMatchObject({ bytes: size, sha256: digest(size, up) });
    expect(o).toMatchObject({ bytes: size, sha256: digest(size, down) });
    const d = kernelDelta(before);
    expectNoKernelErrors(d);
    return { kernel: d, ours: o };
  }

  /** A kernel client (subflow endpoints on its other paths) to our listener on our first address. */
  async function kernelClient(family: 4 | 6, opts: { size?: number; endpoints?: string[][]; announce?: boolean; ourLocals?: string[] } = {}) {
    const size = opts.size ?? SIZE;
    const p = port++;
    const up = seedBase++;
    const down = seedBase++;
    const a0 = family === 4 ? pair.paths[0].ours4 : pair.paths[0].ours6;
    for (const e of opts.endpoints ?? [[family === 4 ? pair.paths[1].kernel4 : pair.paths[1].kernel6, 'dev', pair.paths[1].devKernel, 'subflow']]) kip('mptcp', 'endpoint', 'add', ...e);
    const before = pair.mptcpCounters(pair.kernel);
    const listener = ours({ mode: 'listen', locals: (opts.ourLocals ?? [a0]).map((address) => ({ address })), port: p, send: size, seed: down, announce: opts.announce });
    await new Promise((r) => setTimeout(r, 500));
    const client = kernel('connect', a0, p, size, up);
    const [k, o] = await bothOrReport(client, listener);
    expect(o.error ?? null).toBeNull();
    expect(o).toMatchObject({ bytes: size, sha256: digest(size, up) });
    expect(k).toMatchObject({ bytes: size, sha256: digest(size, down) });
    const d = kernelDelta(before);
    expectNoKernelErrors(d);
    return { kernel: d, ours: o };
  }

  const everyPathCarries = (o: OurResult, min: number) => {
    const byLocal = new Map<string, number>();
    const byRemote = new Map<string, number>();
    for (const s of o.subflows) {
      byLocal.set(s.local, (byLocal.get(s.local) ?? 0) + s.sent + s.received);
      byRemote.set(s.remote, (byRemote.get(s.remote) ?? 0) + s.sent + s.received);
    }
    return { byLocal: Object.fromEntries(byLocal), byRemote: Object.fromEntries(byRemote), min };
  };

  it(`our client -> kernel server, IPv4, two paths, ${SIZE / MiB} MiB each way`, async () => {
    const r = await ourClient(4);
    expect(r.kernel.MPJoinSynRx ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.kernel.MPJoinAckRx ?? 0).toBeGreaterThanOrEqual(1);
    const use = everyPathCarries(r.ours, SIZE / 20);
    for (const v of Object.values(use.byLocal)) expect(v).toBeGreaterThan(use.min);
    expect(Object.keys(use.byLocal)).toHaveLength(2);
    console.log('our client v4:', JSON.stringify({ kernel: r.kernel, paths: use.byLocal }));
  }, 300_000);

  it(`kernel client -> our listener, IPv4, two paths, ${SIZE / MiB} MiB each way`, async () => {
    const r = await kernelClient(4);
    expect(r.kernel.MPJoinSynTx ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.kernel.MPJoinSynAckRx ?? 0).toBeGreaterThanOrEqual(1);
    const use = everyPathCarries(r.ours, SIZE / 20);
    expect(Object.keys(use.byRemote)).toHaveLength(2);
    for (const v of Object.values(use.byRemote)) expect(v).toBeGreaterThan(use.min);
    console.log('kernel client v4:', JSON.stringify({ kernel: r.kernel, paths: use.byRemote }));
  }, 300_000);
  it(`IPv6: our client -> kernel server and kernel client -> our listener, ${SIZE / MiB} MiB each way`, async () => {
    const a = await ourClient(6);
    expect(a.kernel.MPJoinAckRx ?? 0).toBeGreaterThanOrEqual(1);
    for (const v of Object.values(everyPathCarries(a.ours, 0).byLocal)) expect(v).toBeGreaterThan(SIZE / 20);
    const b = await kernelClient(6);
    expect(b.kernel.MPJoinSynAckRx ?? 0).toBeGreaterThanOrEqual(1);
    for (const v of Object.values(everyPathCarries(b.ours, 0).byRemote)) expect(v).toBeGreaterThan(SIZE / 20);
    console.log('ipv6:', JSON.stringify({ ourClient: a.kernel, kernelClient: b.kernel }));
  }, 300_000);

  it('mixed IPv4 and IPv6 paths in one connection', async () => {
    const r = await ourClient(4, { locals: [{ address: pair.paths[0].ours4 }, { address: pair.paths[1].ours6 }], remotes: [pair.paths[0].kernel4, pair.paths[0].kernel6], dualStack: true });
    const use = everyPathCarries(r.ours, 0).byLocal;
    expect(Object.keys(use).sort()).toEqual([pair.paths[0].ours4, pair.paths[1].ours6].sort());
    for (const v of Object.values(use)) expect(v).toBeGreaterThan(SIZE / 20);
    expect(r.kernel.MPJoinAckRx ?? 0).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('the initial path goes down mid-transfer: completes; when it returns, it carries data again', async () => {
    try {
      await failover();
    } finally {
      pair.setRate(0, null);
      pair.setRate(1, null);
    }
  }, 300_000);

  async function failover() {
    let upAt = 0;
    let downAt = 0;
    let otherLinkAtDown = 0;
    let otherLinkAtUp = 0;
    // 300 Mbit/s per path: the transfer lasts long enough on any machine to see the path return.
    pair.setRate(0, 300);
    pair.setRate(1, 300);
    const r = await ourClient(4, {
      size: SIZE,
      during: async () => {
        await new Promise((res) => setTimeout(res, 1500));
        // The window counted as "down" runs from when the link is surely down (the command
        // returned) to just before it is brought up again (restoring routes takes a while).
        pair.setLink(0, false);
        downAt = Date.now();
        otherLinkAtDown = linkTotal(pair.ours, pair.paths[1].devOurs);
        await new Promise((res) => setTimeout(res, 2000));
        upAt = Date.now();
        otherLinkAtUp = linkTotal(pair.ours, pair.paths[1].devOurs);
        pair.setLink(0, true);
      },
    });
    const a0 = pair.paths[0].ours4;
    const at = (t: number) => r.ours.samples.filter((s) => s.t <= t).at(-1)?.perLocal[a0] ?? 0;
    // Samples come every 100 ms unless the peer's event loop is busy: take the first sample
    // inside the window, not the last one before it (which may predate the link going down).
    const from = (t: number) => r.ours.samples.find((x) => x.t >= t)?.perLocal[a0] ?? 0;
    const whileDown = at(upAt) - from(downAt + 500);
    const afterUp = (r.ours.samples.at(-1)?.perLocal[a0] ?? 0) - at(upAt + 200);
    console.log('failover:', JSON.stringify({ whileDown, afterUp, subflows: r.ours.subflows, counters: r.ours.counters, lastSample: r.ours.samples.at(-1), kernel: r.kernel }));
    // By local address, not by link: with path 0's link down, segments from its address may
    // still reach the kernel over the other link (no device binding, rp_filter off), and the
    // subflow then works that way. What must hold: the other link carries the transfer while
    // path 0's is down, nothing is lost (sha256 above), and path 0 carries data once it is back.
    const otherLink = otherLinkAtUp - otherLinkAtDown;
    console.log(`failover: other link carried ${otherLink} bytes while path 0's link was down; ${whileDown} data bytes were counted on path 0's address then`);
    expect(otherLink, 'bytes on the other link while path 0 was down').toBeGreaterThan(SIZE / 20);
    expect(afterUp, 'bytes on path 0 after it came back').toBeGreaterThan(SIZE / 50);
  }

  it('ADD_ADDR from the kernel (signal endpoint) is used by our client; REMOVE_ADDR from the kernel closes it', async () => {
    kip('mptcp', 'endpoint', 'add', pair.paths[1].kernel4, 'id', '7', 'signal');
    const r = await ourClient(4, {
      locals: [{ address: pair.paths[0].ours4 }],
      during: async () => {
        await new Promise((res) => setTimeout(res, 1500));
        kip('mptcp', 'endpoint', 'del', 'id', '7');
      },
    });
    const toSignalled = r.ours.subflows.filter((s) => s.remote === pair.paths[1].kernel4);
    console.log('add_addr from kernel:', JSON.stringify({ kernel: r.kernel, counters: r.ours.counters, subflows: r.ours.subflows }));
    expect(r.ours.counters.addAddrReceived).toBeGreaterThanOrEqual(1);
    expect(r.kernel.EchoAdd ?? 0, 'kernel received our echo').toBeGreaterThanOrEqual(1);
    expect(toSignalled.length).toBeGreaterThanOrEqual(1);
    expect(toSignalled[0].sent + toSignalled[0].received).toBeGreaterThan(0);
    expect(r.ours.counters.removeAddrReceived).toBeGreaterThanOrEqual(1);
    expect(toSignalled[0].closeReason).toMatch(/removed/);
    // The kernel also resets the removed subflow with MP_TCPRST (MPRstTx). Whether that RST
    // finds our subflow alive is a race with the REMOVE_ADDR on the other path: when the
    // REMOVE_ADDR comes first we reset the subflow ourselves (RFC 8684 §3.4.2) and the kernel's
    // RST meets a closed 4-tuple (one CI run: MPRstTx 1, nothing for us to count). Reading the
    // kernel's MP_TCPRST is proven on its captures (test/kernel-traffic: v4-fastclose,
    // mp-fail-reset) and the reaction to it in the simulator (mptcp-basic).
    console.log(`kernel MPRstTx ${r.kernel.MPRstTx ?? 0}, our mpTcpRstReceived ${r.ours.counters.mpTcpRstReceived ?? 0}`);
  }, 300_000);

  it('our ADD_ADDR is accepted by the kernel client, which joins the announced address', async () => {
    const r = await kernelClient(4, { endpoints: [], announce: true, ourLocals: [pair.paths[0].ours4, pair.paths[1].ours4] });
    console.log('our add_addr:', JSON.stringify({ kernel: r.kernel, counters: r.ours.counters, subflows: r.ours.subflows }));
    expect(r.kernel.AddAddr ?? 0, 'kernel MPTcpExtAddAddr').toBeGreaterThanOrEqual(1);
    expect(r.ours.counters.addAddrSent).toBeGreaterThanOrEqual(1);
    const onAnnounced = r.ours.subflows.filter((s) => s.local === pair.paths[1].ours4);
    expect(onAnnounced.length).toBeGreaterThanOrEqual(1);
    expect(onAnnounced[0].sent + onAnnounced[0].received).toBeGreaterThan(SIZE / 20);
  }, 300_000);

  it('REMOVE_ADDR from us: the kernel closes the removed path, the transfer completes', async () => {
    const r = await ourClient(4, { actions: [{ afterMs: 1200, type: 'removeLocal', address: pair.paths[1].ours4 }] });
    console.log('our remove_addr:', JSON.stringify({ kernel: r.kernel, subflows: r.ours.subflows }));
    expect(r.kernel.RmAddr ?? 0, 'kernel MPTcpExtRmAddr').toBeGreaterThanOrEqual(1);
    expect(r.kernel.MPRstRx ?? 0, 'kernel saw our MP_TCPRST').toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('backup: the kernel sends nothing on our backup path (MP_JOIN B), and we send nothing on its', async () => {
    const a = await ourClient(4, { locals: [{ address: pair.paths[0].ours4 }, { address: pair.paths[1].ours4, backup: true }] });
    const backup = a.ours.subflows.filter((s) => s.local === pair.paths[1].ours4);
    console.log('backup (ours):', JSON.stringify(a.ours.subflows));
    expect(backup.length).toBeGreaterThanOrEqual(1);
    expect(backup.every((s) => s.localBackup)).toBe(true);
    // Linux schedules no data on a backup subflow while a regular one works; its connection-
    // level retransmission timer, though, may resend a few segments on any subflow (seen under
    // heavy CPU load: 6,664 bytes of 128 MiB). Regular use would be tens of MiB.
    expect(backup.reduce((n, s) => n + s.received, 0), 'bytes the kernel sent on our backup path').toBeLessThan(SIZE / 1000);
    const b = await kernelClient(4, { endpoints: [[pair.paths[1].kernel4, 'dev', pair.paths[1].devKernel, 'subflow', 'backup']] });
    const kb = b.ours.subflows.filter((s) => s.remote === pair.paths[1].kernel4);
    console.log('backup (kernel):', JSON.stringify(b.ours.subflows));
    expect(kb.length).toBeGreaterThanOrEqual(1);
    expect(kb.every((s) => s.backup)).toBe(true);
    expect(kb.reduce((n, s) => n + s.sent, 0), 'bytes we sent on the kernel\'s backup path').toBe(0);
  }, 300_000);

  it('MP_PRIO: our priority change reaches the kernel', async () => {
    const r = await ourClient(4, { size: 32 * MiB, actions: [{ afterMs: 300, type: 'setBackup', address: pair.paths[1].ours4, backup: true }] });
    expect(r.kernel.MPPrioRx ?? 0).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('fallback: MPTCP options stripped from the SYN -> plain TCP transfer, both roles', async () => {
    pair.setOptionStrip(0, true);
    try {
      const a = await ourClient(4, { size: 32 * MiB, locals: [{ address: pair.paths[0].ours4 }] });
      expect(a.ours.fallback).toBe(true);
      const b = await kernelClient(4, { size: 32 * MiB, endpoints: [] });
      expect(b.ours.fallback).toBe(true);
    } finally {
      pair.setOptionStrip(0, false);
    }
  }, 300_000);

  it('fallback: options stripped after establishment -> plain TCP without losing a byte', async () => {
    try {
      const r = await ourClient(4, {
        size: 64 * MiB,
        locals: [{ address: pair.paths[0].ours4 }],
        during: async () => {
          await new Promise((res) => setTimeout(res, 700));
          pair.setOptionStrip(0, true);
        },
      });
      console.log('stripped mid-stream:', JSON.stringify({ kernel: r.kernel, counters: r.ours.counters }));
      expect(r.ours.fallback).toBe(true);
    } finally {
      pair.setOptionStrip(0, false);
    }
  }, 300_000);

  it('DSS checksums: asked by the kernel server, asked by us, and by the kernel client', async () => {
    pair.exec(pair.kernel, 'sysctl', ['-qw', 'net.mptcp.checksum_enabled=1']);
    const a = await ourClient(4, { size: 32 * MiB });
    const b = await kernelClient(4, { size: 32 * MiB });
    pair.exec(pair.kernel, 'sysctl', ['-qw', 'net.mptcp.checksum_enabled=0']);
    const c = await ourClient(4, { size: 32 * MiB, checksums: true });
    for (const r of [a, b, c]) expect(r.ours.counters.dataChecksumErrors ?? 0).toBe(0);
    console.log('checksums:', JSON.stringify([a.kernel, b.kernel, c.kernel]));
  }, 300_000);

  it('the initial path black-holed at connect time: the connection is established over the other', async () => {
    pair.setBlackhole(0, true);
    const t0 = Date.now();
    try {
      const r = await ourClient(4, { size: 8 * MiB });
      const first = r.ours.subflows.find((s) => s.sent + s.received > 0);
      expect(first?.local).toBe(pair.paths[1].ours4);
    } finally {
      pair.setBlackhole(0, false);
    }
    console.log(`black-holed initial path: done in ${Date.now() - t0} ms`);
  }, 300_000);

  it.skipIf(tsharkMissing())('tshark decodes a capture of both paths without a malformed packet or expert error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mptcp-cap-'));
    const file = join(dir, 'cap.pcap');
    const p = port;
    const cap = pair.spawn(pair.kernel, 'tcpdump', ['-i', 'any', '-n', '-s', '200', '-c', '30000', '-w', file, `tcp port ${p}`]);
    await new Promise((r) => setTimeout(r, 500));
    await ourClient(4, { size: 8 * MiB });
    await new Promise((r) => setTimeout(r, 500));
    cap.kill('SIGINT');
    await new Promise((r) => cap.on('close', r));
    const tshark = (...args: string[]) => execFileSync('tshark', ['-r', file, '-d', `tcp.port==${p},data`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
    const bad = tshark('-Y', '_ws.malformed || _ws.expert.severity == error', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message');
    const dss = tshark('-Y', 'tcp.options.mptcp.subtype == 2', '-T', 'fields', '-e', 'frame.number').split('\n').filter(Boolean).length;
    const joins = tshark('-Y', 'tcp.options.mptcp.subtype == 1', '-T', 'fields', '-e', 'frame.number').split('\n').filter(Boolean).length;
    console.log(`tshark: ${dss} segments with DSS, ${joins} with MP_JOIN`);
    expect(bad).toBe('');
    expect(dss).toBeGreaterThan(2000);
    expect(joins).toBeGreaterThanOrEqual(3); // SYN, SYN/ACK and third ACK of the join
  }, 120_000);

  it('the proxy\'s userspace transport, ours at both ends, over both paths', async () => {
    const p = port++;
    const size = 32 * MiB;
    const server = nsShell(pair.kernel, `node ${PEERS}/transport-peer.mjs '${JSON.stringify({ mode: 'listen', host: '0.0.0.0', port: p, locals: [pair.paths[0].kernel4], send: size, seed: 21 })}'`, 120_000);
    await new Promise((r) => setTimeout(r, 800));
    const client = nsShell(pair.ours, `node ${PEERS}/transport-peer.mjs '${JSON.stringify({ mode: 'connect', host: pair.paths[0].kernel4, port: p, locals: [pair.paths[0].ours4, pair.paths[1].ours4], send: size, seed: 22 })}'`, 120_000);
    const [s, c] = [lastJson<OurResult>(await server), lastJson<OurResult>(await client)];
    expect(s).toMatchObject({ bytes: size, sha256: digest(size, 22), error: null });
    expect(c).toMatchObject({ bytes: size, sha256: digest(size, 21), error: null });
    const locals = new Set(c.subflows.filter((x) => x.sent + x.received > 0).map((x) => x.local));
    expect(locals.size, 'paths that carried data').toBe(2);
  }, 180_000);

  it('an address added at runtime is noticed and becomes a path (ip addr add mid-transfer)', async () => {
    const p = port++;
    const size = 256 * MiB; // long enough, on any machine, for the new path to join and carry data
    const added = pair.paths[1].ours4;
    pair.exec(pair.ours, 'ip', ['addr', 'del', `${added}/24`, 'dev', pair.paths[1].devOurs]);
    try {
      const server = nsShell(pair.kernel, `node ${PEERS}/transport-peer.mjs '${JSON.stringify({ mode: 'listen', host: '0.0.0.0', port: p, locals: [pair.paths[0].kernel4], send: size, seed: 23 })}'`, 120_000);
      await new Promise((r) => setTimeout(r, 800));
      const client = nsShell(pair.ours, `node ${PEERS}/transport-peer.mjs '${JSON.stringify({ mode: 'connect', host: pair.paths[0].kernel4, port: p, send: size, seed: 24, pollMs: 200 })}'`, 120_000);
      await new Promise((r) => setTimeout(r, 700));
      pair.exec(pair.ours, 'ip', ['addr', 'add', `${added}/24`, 'dev', pair.paths[1].devOurs]);
      const [s, c] = [lastJson<OurResult>(await server), lastJson<OurResult>(await client)];
      expect(s).toMatchObject({ bytes: size, sha256: digest(size, 24), error: null });
      expect(c).toMatchObject({ bytes: size, sha256: digest(size, 23), error: null });
      console.log('runtime address:', JSON.stringify(c.subflows));
      const onAdded = c.subflows.filter((x) => x.local === added);
      expect(onAdded.length).toBeGreaterThanOrEqual(1);
      // The new subflow reaches the kernel's only address (10.93.1.2) over the first link too,
      // so both subflows share one bottleneck: coupled congestion control (OLIA) and ECF rightly
      // give it a small share. What counts here is that it became a path that carries data.
      expect(onAdded.reduce((n, x) => n + x.sent + x.received, 0)).toBeGreaterThan(64 * 1024);
      expect(onAdded.reduce((n, x) => n + x.received, 0)).toBeGreaterThan(0);
    } finally {
      try {
        pair.exec(pair.ours, 'ip', ['addr', 'add', `${added}/24`, 'dev', pair.paths[1].devOurs]);
      } catch {
        /* already there */
      }
    }
  }, 180_000);

  it('MP_FASTCLOSE from us ends the kernel\'s connection; from the kernel, ours', async () => {
    const p = port++;
    const before = pair.mptcpCounters(pair.kernel);
    const server = nsShell(pair.kernel, `node ${PEERS}/gen.mjs ${SIZE} 1 | python3 ${PEERS}/mptcp-cat.py listen 0.0.0.0 ${p} > /dev/null; echo exit=$?`, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    const o = await ours({ mode: 'connect', locals: [{ address: pair.paths[0].ours4 }, { address: pair.paths[1].ours4 }], remotes: [pair.paths[0].kernel4], port: p, send: SIZE, seed: 2, abortAfterBytes: 4 * MiB });
    expect(o.error).toBe('aborted by us');
    expect(await server).toMatch(/exit=1/);
    expect(kernelDelta(before).MPFastcloseRx ?? 0).toBeGreaterThanOrEqual(1);
    const p2 = port++;
    const listener = ours({ mode: 'listen', locals: [{ address: pair.paths[0].ours4 }], port: p2, send: SIZE, seed: 3 });
    await new Promise((r) => setTimeout(r, 500));
    const k = await nsShell(pair.kernel, `node ${PEERS}/gen.mjs ${SIZE} 4 | python3 ${PEERS}/mptcp-cat.py connect ${pair.paths[0].ours4} ${p2} --abort-after ${4 * MiB} > /dev/null; echo exit=$?`, 60_000);
    expect(k).toMatch(/exit=3/);
    const r = await listener;
    expect(r.error).toMatch(/ECONNRESET/);
    expect(r.counters.fastclosesReceived).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
