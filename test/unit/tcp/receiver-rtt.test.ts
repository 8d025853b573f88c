/**
 * The receiver-side RTT estimate of the TCP engine (TcpConnection.receiverRtt, as Linux's
 * tcp_rcv_rtt_measure_ts): a pure receiver times our ACKs' timestamps echoed by the peer's
 * data, since its srtt has no sample after the handshake.
 */
import { describe, expect, it } from 'vitest';
import type { HostConnection } from '../../../mptcp/tcp/host.js';
import type { TcpConfig } from '../../../mptcp/tcp/tcp-types.js';
import { A, B, Pair } from './pair.js';

/** A sends `chunks` (bytes each, starting `gapMs` apart) to B, which reads everything; returns B's connection and its estimate after each chunk. */
function oneWay(cfg: Partial<TcpConfig>, chunks: number[], gapMs: number, delayMs = 10): { receiver: HostConnection; samples: (number | undefined)[] } {
  const pair = new Pair({ timeWaitMs: 1000, ...cfg }, delayMs);
  const accepted: { c: HostConnection | null } = { c: null };
  pair.b.listen(80, (c) => (accepted.c = c));
  const sender = pair.a.connect(0, A, B, 80);
  let received = 0;
  let expected = 0;
  const samples: (number | undefined)[] = [];
  for (const [i, size] of chunks.entries()) {
    const at = 100 + i * gapMs;
    pair.run(() => pair.now >= at, at);
    const data = new Uint8Array(size);
    expected += size;
    // Written before the run: the harness stops when nothing is in flight or due.
    let offset = sender.tcp.write(data);
    pair.run(() => {
      if (offset < size) offset += sender.tcp.write(data.subarray(offset));
      const r = accepted.c;
      if (r) for (let d = r.tcp.read(pair.now); d; d = r.tcp.read(pair.now)) received += d.length;
      return offset === size && received === expected;
    });
    samples.push(accepted.c?.tcp.receiverRtt);
  }
  expect(received).toBe(expected);
  if (!accepted.c) throw new Error('no connection accepted');
  return { receiver: accepted.c, samples };
}

describe('receiver-side RTT', () => {
  // This harness delivers each flight at one instant (no serialization), so no echo follows
  // later data of the same flight: the engine times none (it counts on an ACK-clocked flight
  // still arriving; test/sim/receive-buffer-sizing.test.ts measures it on rate-limited links).
  // A sample taken across the sender's pauses would be about 3 s here.
  it('a pause of the sender does not count as RTT', () => {
    const { samples } = oneWay({}, [200_000, 200_000, 200_000], 3000);
    for (const s of samples) expect(s ?? 0).toBeLessThan(100);
  });

  it('is undefined without timestamps', () => {
    const { receiver } = oneWay({ timestamps: false }, [200_000], 0);
    expect(receiver.tcp.receiverRtt).toBeUndefined();
  });
});
