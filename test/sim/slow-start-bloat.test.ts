/**
 * The initial slow start in front of a bufferbloated queue (RFC 9406 HyStart++, issue 7): a
 * download over one 10 Mbit/s path with a 1000-frame drop-tail queue (1.2 s of queue, as in
 * the lab's simult_flows cases). Plain slow start doubles the window until the queue
 * overflows and then loses about a window's worth at once; HyStart++ sees the RTT rise and
 * leaves slow start long before. Measured for the default congestion control (OLIA) and for
 * CUBIC: retransmitted bytes and goodput over the first 6 s.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import { makePair, startDownload } from './mptcp-harness.js';

function firstSeconds(congestion: MptcpConfig['congestion']): { retransmitted: number; goodputMbit: number } {
  const mptcp: Partial<MptcpConfig> = { congestion };
  const p = makePair({ seed: 21, paths: [{ delayMs: 5, rateBitsPerSec: 10e6, queueLimitBytes: 1000 * 1514 }], clientMptcp: mptcp, serverMptcp: mptcp });
  const { app, server } = startDownload(p, 40_000_000, 3);
  p.sim.runWhile(() => p.sim.now < 6000 && app.error === null, 6000);
  expect(app.error).toBeNull();
  const stats = server()?.subflowStats(true) ?? [];
  const retransmitted = stats.reduce((n, s) => n + s.tcp.retransmittedBytes, 0);
  return { retransmitted, goodputMbit: (app.receivedBytes * 8) / 6 / 1e6 };
}

describe('initial slow start in front of a 1000-frame queue at 10 Mbit/s (simulator)', () => {
  for (const congestion of ['olia', 'cubic'] as const) {
    it(`${congestion}: slow start ends before the queue overflows (few retransmissions), the link stays busy`, () => {
      const r = firstSeconds(congestion);
      console.log(`${congestion}: first 6 s: ${r.retransmitted} bytes retransmitted, goodput ${r.goodputMbit.toFixed(2)} Mbit/s`);
      // Plain slow start overshoots the 1.5 MB queue and loses hundreds of kB at once.
      expect(r.retransmitted).toBeLessThan(100_000);
      // Leaving slow start early must not leave the link idle: 9.56 Mbit/s of payload at most.
      expect(r.goodputMbit).toBeGreaterThan(8.5);
    });
  }
});
