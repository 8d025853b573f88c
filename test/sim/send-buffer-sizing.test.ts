/**
 * The send buffer sized from the paths (MptcpConnection.sendBufferLimit; issue 7: "send and
 * receive buffers sized from path bandwidth and RTT"): a 50 Mbit/s terrestrial path with a
 * 10 Mbit/s satellite-like path of 500 ms RTT. Data stays in the send buffer until the Data
 * ACK, so while the long path holds the oldest bytes for its RTT the short one can only send
 * what the buffer has left: a fixed 4 MiB buffer (sendBufferBytes) covers 0.56 s of the two
 * paths' 7.5 MB/s, less than 2 x RTT_max. Grown to 2 x sum(rates) x max RTT it does not bind.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import { makePair, startDownload } from './mptcp-harness.js';

function goodput(mptcp: Partial<MptcpConfig>): number {
  const paths = [
    { delayMs: 10, rateBitsPerSec: 50e6, queueLimitBytes: 250_000 },
    { delayMs: 250, rateBitsPerSec: 10e6, queueLimitBytes: 400_000 },
  ];
  const p = makePair({ seed: 61, paths, clientMptcp: mptcp, serverMptcp: mptcp });
  const { app } = startDownload(p, 200_000_000, 61);
  let at3 = 0;
  p.sim.at(3000, () => (at3 = app.receivedBytes));
  p.sim.runWhile(() => p.sim.now < 12_000 && app.error === null, 12_000);
  expect(app.error).toBeNull();
  return ((app.receivedBytes - at3) * 8) / 9 / 1e6;
}

describe('send buffer sized from the paths (simulator)', () => {
  it('50 Mbit/s 20 ms + 10 Mbit/s 500 ms: a grown buffer beats the fixed 4 MiB one', () => {
    const grown = goodput({});
    const fixed = goodput({ maxSendBufferBytes: DEFAULT_MPTCP_CONFIG.sendBufferBytes });
    console.log(`50 Mbit/s 20 ms + 10 Mbit/s 500 ms, 3-12 s: ${grown.toFixed(1)} Mbit/s with the send buffer grown up to ${DEFAULT_MPTCP_CONFIG.maxSendBufferBytes / 2 ** 20} MiB, ${fixed.toFixed(1)} with a fixed ${DEFAULT_MPTCP_CONFIG.sendBufferBytes / 2 ** 20} MiB`);
    expect(grown).toBeGreaterThan(fixed * 1.03);
    expect(grown).toBeGreaterThan(0.97 * 50 * 0.956);
  });
});
