/**
 * Focused MPTCP cases in the simulator: handshake, joins, transfer over two paths, close,
 * path failure and return, fallback.
 */
import { describe, expect, it } from 'vitest';
import { makePair, MptcpApp, pattern, sha256 } from './mptcp-harness.js';

describe('MPTCP in the simulator', () => {
  it('two paths: connects, joins, transfers 2 MB both ways byte-exact, closes', () => {
    const p = makePair({ seed: 1, paths: [{ delayMs: 5, rateBitsPerSec: 50e6 }, { delayMs: 10, rateBitsPerSec: 20e6 }] });
    const up = pattern(2_000_000, 1);
    const down = pattern(2_000_000, 2);
    p.server.stack.listen(80, (c) => p.server.apps.push(new MptcpApp(c, down)));
    const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address) => ({ address })), remotes: p.serverAddresses, port: 80 });
    const app = new MptcpApp(conn, up);
    p.client.apps.push(app);
    p.sim.poll();
    const done = () => app.closed && p.server.apps.length === 1 && p.server.apps[0].closed;
    p.sim.runWhile(() => !done() && app.error === null, 120_000);
    const srv = p.server.apps[0];
    expect(app.error).toBeNull();
    expect(srv?.error ?? null).toBeNull();
    expect(app.receivedBytes).toBe(down.length);
    expect(sha256(app.data())).toBe(sha256(down));
    expect(sha256(srv.data())).toBe(sha256(up));
    expect(done()).toBe(true);
    const c = p.client.stack.counters;
    expect(c.joinsSent).toBeGreaterThanOrEqual(1);
    expect(p.server.stack.counters.joinsAccepted).toBeGreaterThanOrEqual(1);
    // Both paths carried data in both directions.
    for (const l of p.links) expect(l.forward.counters.deliveredBytes).toBeGreaterThan(100_000);
    for (const l of p.links) expect(l.reverse.counters.deliveredBytes).toBeGreaterThan(100_000);
    console.log(`t=${p.sim.now.toFixed(0)} ms`, p.links.map((l) => [l.forward.counters.deliveredBytes, l.reverse.counters.deliveredBytes]));
  });
});
