/**
 * The bounded bad-input fuzz run of issue 5 §6, against live processes: our client and
 * aggregator (the CLI, userspace MPTCP between them) in a proxy/demo/topology.ts network. A
 * seeded loop of 2,000 inputs (test/e2e/peers/fuzz.mjs, run inside the client host) sends
 * truncated and oversized SOCKS5 and HTTP requests, invalid methods, unsupported commands and
 * address types, non-ASCII and overlong host names and random bytes to the client's port, and
 * random bytes and broken TLS records to the aggregator's port (over MPTCP's fallback to TCP:
 * the fuzzer is a plain kernel TCP socket). Each input must get its exact error reply (or
 * only a close); the counters the processes print when they stop must have counted every one
 * (exactly); both processes must stay up and serve SOCKS5 and HTTP downloads afterwards.
 * Replay: FUZZ_SEED=N (the seed is logged).
 *
 * Root only (namespaces, raw sockets); always runs in CI, elsewhere skips saying why.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTopology } from '../../proxy/demo/topology.js';
import { privilegedSkipReason } from '../support/privileges.js';
import { body, sha256 } from '../unit/proxy/helpers.js';
import { buildCli, ROOT, startUserspaceProxy, stopAndReadCounters, type UserspaceProxy } from './support/userspace-proxy.js';

const skip = privilegedSkipReason('the proxy fuzz run in namespaces (test/e2e)', ['ip', 'tc', 'ethtool', 'nft', 'curl']) !== undefined;
const topo = defineTopology({ tag: 'fz', net: 75, rateMbit: [60, 60], rawSockets: true });
const { ns: NS, addr: ADDR } = topo;
const FUZZ = join(ROOT, 'test/e2e/peers/fuzz.mjs');
const INPUTS = 2000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);

interface FuzzSummary {
  inputs: number;
  ms: number;
  cases: Record<string, number>;
  counters: Record<string, number>;
  violations: { case: string; sent: string; why: string }[];
  violationCount: number;
}

function inClient(cmd: string, args: string[], timeoutS = 60): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', NS.client, cmd, ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutS * 1000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

describe.skipIf(skip)('bounded fuzz run against a live client and aggregator (userspace MPTCP, namespaces)', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-fuzz-');
  let proxy: UserspaceProxy | undefined;

  beforeAll(async () => {
    const cli = buildCli('mptcp-proxy-e2e-fuzz');
    topo.create();
    proxy = await startUserspaceProxy(topo, {
      cli,
      dir,
      secret: 'fuzz e2e secret, long enough',
      // Stalled inputs end at the handshake deadline: short, so that the run stays short.
      clientYaml: 'handshakeTimeoutSeconds: 1\nmaxHeaderBytes: 4096\n',
      aggregatorYaml: 'limits:\n  refusalDelayMs: 100\n  helloTimeoutSeconds: 2\n',
    });
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const download = async (way: string[], size: number) => {
    const r = await inClient('curl', ['-sS', '--max-time', '30', ...way, `http://${topo.webName}:8080/bytes/${size}`]);
    expect(r.stderr, way.join(' ')).toBe('');
    expect(sha256(r.stdout), way.join(' ')).toBe(sha256(body(size)));
  };
  const socks = ['--socks5-hostname', '127.0.0.1:1080'];
  const http = ['-x', 'http://127.0.0.1:1080'];

  it(`answers or closes each of ${INPUTS} bad inputs, counts every one, and keeps serving`, async () => {
    if (proxy === undefined) throw new Error('set-up failed');
    await download(socks, 100_000);
    const r = await inClient('node', [FUZZ, String(SEED), String(INPUTS), '127.0.0.1:1080', `${ADDR.agg1}:8443`, '32'], 90);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.toString()) as FuzzSummary;
    console.log(`e2e fuzz (seed ${SEED}): ${s.inputs} inputs in ${s.ms} ms, ${s.violationCount} violations; ${Object.entries(s.cases).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    expect(s.violations).toEqual([]);
    expect(s.violationCount).toBe(0);
    expect(Object.keys(s.cases).length).toBe(12);
    for (const n of Object.values(s.cases)) expect(n).toBeGreaterThan(INPUTS / 20);

    // Still up and serving, both protocols, through the same processes.
    expect(proxy.client.child.exitCode).toBeNull();
    expect(proxy.aggregator.child.exitCode).toBeNull();
    await Promise.all([download(socks, 3_000_000), download(http, 3_000_000), download(['-p', ...http], 1_000_000)]);

    // Every input counted by the process it went to, exactly (the downloads add no errors).
    const counted = { client: await stopAndReadCounters(proxy.client), aggregator: await stopAndReadCounters(proxy.aggregator) };
    console.log(`e2e fuzz: client counters ${JSON.stringify(counted.client)}; aggregator ${JSON.stringify(counted.aggregator)}`);
    for (const [key, n] of Object.entries(s.counters)) {
      const [who, name] = key.split('.') as ['client' | 'aggregator', string];
      expect(counted[who][name] ?? 0, key).toBe(n);
    }
    expect(counted.client.relayErrors ?? 0).toBe(0);
    expect(counted.client.tunnelsOk).toBeGreaterThanOrEqual(4);
  }, 150_000);
});
