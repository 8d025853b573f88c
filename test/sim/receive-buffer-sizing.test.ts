/**
 * The receive buffer sized from the paths (receive-buffer-tuner.ts; issue 7: "send and receive
 * buffers sized from path bandwidth and RTT"). The connection-level window must cover about
 * 2 x the sum of the paths' rates x the largest RTT (NSDI 2012 §4). Dynamic right-sizing starts
 * at receiveBufferBytes (1 MiB) and grows from what the application consumes per RTT up to
 * maxReceiveBufferBytes, against the former fixed 8 MiB:
 * - 200 + 100 Mbit/s with 200 and 300 ms RTTs and 100 ms queues: 8 MiB covers 0.34 s of the
 *   paths' 37.5 MB/s, less than the loaded RTT of the first path alone, so a fixed 8 MiB caps
 *   the download; the grown buffer does not.
 * - 10 + 10 Mbit/s at 20 ms: the buffer stays at its initial size, far below 8 MiB, with the
 *   same goodput as the fixed 8 MiB.
 * Both ends run the same configuration; the sender's send buffer may grow to 64 MiB in both
 * runs, so only the receive buffer differs.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { makePair, startDownload } from './mptcp-harness.js';

const mbit = 1e6;
const MiB = 2 ** 20;
/** Queue of `ms` milliseconds at `rate`. */
const queue = (rate: number, ms: number) => Math.round((rate / 8) * (ms / 1000));
const FIXED_8_MIB: Partial<MptcpConfig> = { receiveBufferBytes: 8 * MiB, maxReceiveBufferBytes: 8 * MiB };

interface Run {
  /** Download goodput from `fromMs` to `untilMs` (Mbit/s). */
  mbit: number;
  /** The client's receive buffer at the end (bytes). */
  buffer: number;
}

function download(seed: number, paths: Partial<LinkConfig>[], mptcp: Partial<MptcpConfig>, fromMs: number, untilMs: number): Run {
  const cfg = { maxSendBufferBytes: 64 * MiB, ...mptcp };
  const p = makePair({ seed, paths, clientMptcp: cfg, serverMptcp: cfg });
  const { app } = startDownload(p, 200_000_000, seed);
  let atFrom = 0;
  p.sim.at(fromMs, () => (atFrom = app.receivedBytes));
  p.sim.runWhile(() => p.sim.now < untilMs && app.error === null, untilMs);
  expect(app.error).toBeNull();
  return { mbit: ((app.receivedBytes - atFrom) * 8) / ((untilMs - fromMs) / 1000) / mbit, buffer: app.conn.receiveBufferSize };
}

const describeRun = (r: Run) => `${r.mbit.toFixed(1)} Mbit/s, buffer ${(r.buffer / MiB).toFixed(1)} MiB`;

describe('receive buffer sized from the paths (simulator)', () => {
  it('200 Mbit/s 200 ms + 100 Mbit/s 300 ms: the grown buffer beats a fixed 8 MiB one', () => {
    const paths = [
      { delayMs: 100, rateBitsPerSec: 200 * mbit, queueLimitBytes: queue(200 * mbit, 100) },
      { delayMs: 150, rateBitsPerSec: 100 * mbit, queueLimitBytes: queue(100 * mbit, 100) },
    ];
    const tuned = download(81, paths, {}, 3000, 6000);
    const fixed = download(81, paths, FIXED_8_MIB, 3000, 6000);
    console.log(`200M/200ms + 100M/300ms, 3-6 s: ${describeRun(tuned)} grown from ${DEFAULT_MPTCP_CONFIG.receiveBufferBytes / MiB} MiB (max ${DEFAULT_MPTCP_CONFIG.maxReceiveBufferBytes / MiB}); ${describeRun(fixed)} fixed`);
    expect(tuned.buffer).toBeGreaterThan(8 * MiB);
    expect(tuned.buffer).toBeLessThanOrEqual(DEFAULT_MPTCP_CONFIG.maxReceiveBufferBytes);
    expect(tuned.mbit).toBeGreaterThan(fixed.mbit * 1.2);
  });

  it('10 Mbit/s + 10 Mbit/s at 20 ms: the buffer stays small, with the goodput of a fixed 8 MiB', () => {
    const paths = [
      { delayMs: 10, rateBitsPerSec: 10 * mbit, queueLimitBytes: queue(10 * mbit, 30) },
      { delayMs: 10, rateBitsPerSec: 10 * mbit, queueLimitBytes: queue(10 * mbit, 30) },
    ];
    const tuned = download(82, paths, {}, 1000, 6000);
    const fixed = download(82, paths, FIXED_8_MIB, 1000, 6000);
    console.log(`10M/20ms + 10M/20ms, 1-6 s: ${describeRun(tuned)} tuned; ${describeRun(fixed)} fixed`);
    expect(tuned.buffer).toBeLessThanOrEqual(2 * MiB);
    expect(tuned.mbit).toBeGreaterThanOrEqual(0.98 * fixed.mbit);
  });

  it('a pure receiver measures its path RTT, queueing included, from the echoed timestamps', () => {
    // 20 Mbit/s, 40 ms RTT, a 100 ms queue: the sender fills part of the queue (its inflight
    // cap allows 40 ms of queueing), which the handshake's srtt never saw.
    const p = makePair({ seed: 83, paths: [{ delayMs: 20, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 100) }] });
    const { app } = startDownload(p, 20_000_000, 83);
    p.sim.runWhile(() => p.sim.now < 4000 && app.error === null, 4000);
    expect(app.error).toBeNull();
    const tcp = app.conn.subflows[0].tcp;
    console.log(`20M/40ms + 100 ms queue: receiver RTT ${tcp.receiverRtt?.toFixed(1)} ms, handshake srtt ${tcp.smoothedRtt?.toFixed(1)} ms`);
    expect(tcp.receiverRtt).toBeDefined();
    expect(tcp.receiverRtt!).toBeGreaterThan(tcp.smoothedRtt! + 5);
    expect(tcp.receiverRtt!).toBeLessThan(40 + 100 + 10);
  });
});
