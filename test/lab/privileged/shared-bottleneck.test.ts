// The lab's shared bottleneck (test/lab/shared-bottleneck.ts) measured with kernel TCP: one
// download over one path gets the bottleneck's rate (within 5%, as the emulator's accuracy
// test), and two at once, one per path, get that rate together, not each: the paths really
// share it. The topology's tcpCongestion (reno) is what the aggregator's connections run, even
// where the machine's default is another. Harness accuracy, not our product's performance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab.js';
import { FLOW_PEER } from '../paths.js';
import { labSkipReason } from './skip.js';

const skip = labSkipReason('lab shared bottleneck', ['ip', 'ethtool', 'iptables', 'tc']);

interface Transfer {
  bytes: number;
  error: string | null;
  /** [wall-clock ms, bytes] */
  progress: [number, number][];
}

const MBIT = 20;
/** TCP payload per Ethernet frame with timestamps: 1448 of 1514 bytes. */
const EXPECTED = MBIT * 1e6 * (1448 / 1514);

/**
 * Goodput (bit/s) between 2 s after the first progress sample and the last: Reno's slow start
 * overshoots the 100-frame FIFO, and the data held out of order during that recovery reaches
 * the application in one go, so a window starting earlier can show more than the link's rate.
 */
function steadyGoodput(t: Transfer): number {
  const p = t.progress;
  const start = p.find(([at]) => at >= p[0][0] + 2000) ?? p[0];
  const end = p[p.length - 1];
  return ((end[1] - start[1]) * 8 * 1000) / (end[0] - start[0]);
}

describe.skipIf(skip !== undefined)('lab shared bottleneck', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.up({
      name: 'shared-bottleneck',
      tcpCongestion: 'reno',
      sharedBottleneck: { rate: `${MBIT}mbit`, queue: 100 },
      paths: [
        { name: 'a', delay: '5ms' },
        { name: 'b', delay: '5ms' },
      ],
    });
    lab.spawn('aggregator', ['node', FLOW_PEER, 'server', '--port', '5201']);
    await new Promise((r) => setTimeout(r, 500));
  }, 60_000);
  afterAll(async () => {
    await lab?.down();
  });

  /** Downloads `bytes` over each given path at once (one kernel TCP connection per path). */
  const download = async (paths: number[], bytes: number): Promise<Transfer[]> =>
    Promise.all(
      paths.map(async (i) => {
        const r = await lab.exec('client', ['node', FLOW_PEER, 'get', '--connect', `${lab.plan.paths[i].aggregator.v4}:5201`, '--local', lab.plan.paths[i].client.v4, '--bytes', String(bytes), '--progress', '100', '--timeout', '20000'], 30_000);
        const t = (JSON.parse(r.stdout) as { results: Transfer[] }).results[0];
        expect(t.error).toBeNull();
        return t;
      }),
    );

  it(`one kernel TCP download gets the bottleneck's ${MBIT} Mbit/s (within 5%), through its FIFO`, async () => {
    const before = lab.bottleneckStats();
    const running = download([0], Math.round((MBIT * 1e6 * 6) / 8));
    await new Promise((r) => setTimeout(r, 1000));
    const ss = lab.execSync('aggregator', ['ss', '-tin', 'sport', '=', ':5201']);
    const [t] = await running;
    const after = lab.bottleneckStats();
    expect(ss, ss).toMatch(/\breno\b/);
    const g = steadyGoodput(t);
    console.log(`one flow: ${(g / 1e6).toFixed(2)} Mbit/s (expected ${(EXPECTED / 1e6).toFixed(2)}); ${after.sentPackets - before.sentPackets} frames through the FIFO, ${after.drops - before.drops} dropped`);
    expect(Math.abs(g - EXPECTED) / EXPECTED).toBeLessThan(0.05);
    expect(after.sentBytes - before.sentBytes).toBeGreaterThan(t.bytes);
  }, 30_000);

  it('two downloads on different paths share it: together the same rate', async () => {
    // Frames leaving the FIFO while both run (from 1.5 s to 4 s in), and on each path.
    const running = download([0, 1], Math.round((MBIT * 1e6 * 4) / 8));
    await new Promise((r) => setTimeout(r, 1500));
    const [b0, p0, p1, t0] = [lab.bottleneckStats().sentBytes, (await lab.paths[0].stats()).downlink.deliveredBytes, (await lab.paths[1].stats()).downlink.deliveredBytes, performance.now()];
    await new Promise((r) => setTimeout(r, 2500));
    const [b1, q0, q1, t1] = [lab.bottleneckStats().sentBytes, (await lab.paths[0].stats()).downlink.deliveredBytes, (await lab.paths[1].stats()).downlink.deliveredBytes, performance.now()];
    await running;
    const mbit = (bytes: number) => (bytes * 8) / ((t1 - t0) * 1000);
    console.log(`two flows: ${mbit(q0 - p0).toFixed(2)} + ${mbit(q1 - p1).toFixed(2)} Mbit/s of frames on the paths, ${mbit(b1 - b0).toFixed(2)} through the FIFO`);
    expect(Math.abs(mbit(b1 - b0) - MBIT) / MBIT).toBeLessThan(0.05);
    expect(mbit(q0 - p0)).toBeGreaterThan(1);
    expect(mbit(q1 - p1)).toBeGreaterThan(1);
  }, 30_000);
});
