/**
 * Property: whatever the interleaving of application writes and reads, and whatever the link
 * does to packets (loss, duplication, reordering), both directions deliver exactly the bytes
 * written, in order (RFC 9293 §3.4's reliability), and both ends reach CLOSED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../../mptcp/core/sans-io.js';
import { bytes } from './segments.js';
import { A, B, LossyPair, RandomApp } from './lossy-pair.js';

// Applications act at every event and at least every 5 ms; the bounds keep the slowest reader
// at a few kB per virtual second, so that a run ends in reasonable virtual time.
const behaviour = fc.record({
  writeChunk: fc.integer({ min: 100, max: 20_000 }),
  writeProb: fc.double({ min: 0.2, max: 1, noNaN: true }),
  readProb: fc.double({ min: 0.2, max: 1, noNaN: true }),
  readMax: fc.integer({ min: 200, max: 30_000 }),
});

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  aToB: fc.integer({ min: 0, max: 200_000 }),
  bToA: fc.integer({ min: 0, max: 200_000 }),
  // Rates in per mille: fast-check's doubles cluster at the bounds, integers spread evenly.
  loss: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 150 })).map((x) => x / 1000),
  dup: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })).map((x) => x / 1000),
  jitterMs: fc.integer({ min: 0, max: 30 }),
  sack: fc.boolean(),
  timestamps: fc.boolean(),
  windowScaling: fc.boolean(),
  congestion: fc.constantFrom('cubic' as const, 'newreno' as const),
  smallBuffers: fc.boolean(),
  client: behaviour,
  server: behaviour,
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function runScenario(s: Scenario): void {
  const cfg = {
    sack: s.sack,
    timestamps: s.timestamps,
    windowScaling: s.windowScaling,
    congestion: s.congestion,
    timeWaitMs: 150_000, // longer than the largest RTO (120 s): a retransmitted FIN always finds TIME_WAIT
    ...(s.smallBuffers ? { initialReceiveBufferBytes: 8192, maxReceiveBufferBytes: 16384, sendBufferBytes: 16384 } : {}),
  };
  const pair = new LossyPair(cfg, { loss: s.loss, dup: s.dup, delayMs: 10, jitterMs: s.jitterMs }, s.seed);
  const appRng = new SeededRandom(s.seed + 1);
  const dataA = bytes(s.aToB, s.seed);
  const dataB = bytes(s.bToA, s.seed + 7);
  let server: RandomApp | null = null;
  pair.b.listen(80, (c) => (server = new RandomApp(c, dataB, appRng, s.server, () => pair.now)));
  const client = new RandomApp(pair.a.connect(0, A, B, 80), dataA, appRng, s.client, () => pair.now);
  const srv = (): RandomApp | null => server;
  const finished = (app: RandomApp | null, expected: number) =>
    app !== null && app.ended && app.receivedBytes === expected && app.conn.tcp.readableBytes === 0 && app.shutdownCalled;
  const ok = pair.run(
    () => {
      client.step();
      srv()?.step();
    },
    () => client.busy || (srv()?.busy ?? true),
    () => finished(client, s.bToA) && finished(srv(), s.aToB) && pair.a.connectionCount === 0 && pair.b.connectionCount === 0,
    10_000_000,
  );
  const server2 = srv();
  const where = `t=${pair.now} client=${client.conn.tcp.state} [${client.events.join(',')}] server=${server2?.conn.tcp.state} [${server2?.events.join(',') ?? ''}]`;
  expect(server2, where).not.toBeNull();
  expect(client.bytes.equals(Buffer.from(dataB)), `client received ${client.receivedBytes}/${s.bToA}; ${where}`).toBe(true);
  expect(server2!.bytes.equals(Buffer.from(dataA)), `server received ${server2!.receivedBytes}/${s.aToB}; ${where}`).toBe(true);
  expect(ok, where).toBe(true);
  if (process.env.TCP_PROPERTY_STATS) console.log(`${s.aToB}+${s.bToA} bytes, loss ${s.loss.toFixed(3)}: ${pair.packets} packets, ${pair.now.toFixed(0)} ms`);
  expect(client.conn.tcp.state).toBe('CLOSED');
  expect(server2!.conn.tcp.state).toBe('CLOSED');
  for (const app of [client, server2!]) {
    expect(app.events.filter((e) => e.startsWith('reset')), where).toEqual([]);
    expect(app.events.filter((e) => e === 'closed'), where).toHaveLength(1);
  }
}

describe('property: byte-exact delivery and clean close over a lossy, duplicating, reordering link', () => {
  it('RFC 9293 §3.4/§3.6: random writes/reads, loss, duplication and reordering -> exact bytes both ways, both CLOSED', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        runScenario(s);
      }),
      { numRuns: 100, verbose: 1 },
    );
  });
});
