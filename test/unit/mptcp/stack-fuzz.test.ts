/**
 * Bad input against the MPTCP stack: segments recorded from a real two-path transfer in the
 * simulator are mutated (MPTCP option bytes, flags, sequence numbers, payload; lengths and
 * subtypes of MPTCP options rewritten) and given valid IP and TCP checksums, so they reach
 * the MPTCP code rather than dying at the checksum, then fed to both stacks mid-transfer.
 * Nothing may throw, and the stacks must still be able to serve a fresh connection.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { fillIpv4Checksum } from '../../../mptcp/wire/ipv4.js';
import { fillTcpChecksum } from '../../../mptcp/wire/tcp-header.js';
import { makePair, MptcpApp, pattern, sha256 } from '../../sim/mptcp-harness.js';

const ITERATIONS = Number(process.env.MPTCP_FUZZ ?? 30_000);

/** Offsets of MPTCP options (kind 30) in a TCP header starting at `l4`. */
function mptcpOptionOffsets(p: Uint8Array, l4: number): number[] {
  const out: number[] = [];
  const end = l4 + ((p[l4 + 12] >>> 4) << 2);
  let i = l4 + 20;
  while (i < end) {
    const k = p[i];
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const len = p[i + 1];
    if (len < 2 || i + len > end) break;
    if (k === 30) out.push(i);
    i += len;
  }
  return out;
}

function mutate(src: Uint8Array, r: SeededRandom): Uint8Array {
  const p = src.slice();
  const l4 = 20;
  const opts = mptcpOptionOffsets(p, l4);
  const choice = r.nextU32() % 6;
  if (choice === 0 && opts.length > 0) {
    // Rewrite one MPTCP option's body with random bytes (subtype nibble too).
    const o = opts[r.nextU32() % opts.length];
    for (let i = o + 2; i < o + p[o + 1]; i++) p[i] = r.nextU32() & 0xff;
  } else if (choice === 1 && opts.length > 0) {
    // Another subtype with the same length: a DSS read as ADD_ADDR, an MP_JOIN as MP_FAIL...
    const o = opts[r.nextU32() % opts.length];
    p[o + 2] = ((r.nextU32() % 9) << 4) | (p[o + 2] & 0x0f);
  } else if (choice === 2 && opts.length > 0) {
    // A wrong option length (the framing may break: the segment must then be refused).
    const o = opts[r.nextU32() % opts.length];
    p[o + 1] = r.nextU32() & 0xff;
  } else if (choice === 3) {
    p[l4 + 13] = r.nextU32() & 0xff; // random TCP flags
  } else if (choice === 4) {
    for (let i = 0; i < 4; i++) p[l4 + 4 + (r.nextU32() % 8)] = r.nextU32() & 0xff; // seq / ack
  } else {
    // Random bytes anywhere in the options or payload.
    for (let n = 1 + (r.nextU32() % 8); n > 0; n--) {
      const i = l4 + 20 + (r.nextU32() % Math.max(1, p.length - l4 - 20));
      p[i] = r.nextU32() & 0xff;
    }
  }
  fillIpv4Checksum(p, 0);
  fillTcpChecksum(p, l4, p.length, p.subarray(12, 16), p.subarray(16, 20));
  return p;
}

describe('MPTCP stack under mutated segments', () => {
  it(`${ITERATIONS} mutated segments mid-transfer: nothing throws, a fresh connection still works`, () => {
    const pair = makePair({ seed: 11, paths: [{ delayMs: 2, rateBitsPerSec: 50e6 }, { delayMs: 4, rateBitsPerSec: 50e6 }] });
    const recorded: { to: 'client' | 'server'; packet: Uint8Array }[] = [];
    pair.sim.setTracer((_t, link, ev, packet) => {
      if (ev !== 'deliver' || recorded.length >= 4000 || packet[0] >>> 4 !== 4) return;
      recorded.push({ to: link.endsWith('/fwd') ? 'server' : 'client', packet: packet.slice() });
    });
    pair.server.stack.listen(80, (c) => pair.server.apps.push(new MptcpApp(c, pattern(3_000_000, 1))));
    const conn = pair.client.stack.connect(0, { locals: pair.clientAddresses.map((address) => ({ address })), remotes: pair.serverAddresses, port: 80 });
    const app = new MptcpApp(conn, pattern(3_000_000, 2));
    pair.client.apps.push(app);
    pair.sim.poll();
    pair.sim.runWhile(() => recorded.length < 4000 && !app.closed, 60_000);
    pair.sim.setTracer(undefined);
    expect(recorded.length).toBeGreaterThan(1000);
    const r = new SeededRandom(99);
    for (let i = 0; i < ITERATIONS; i++) {
      const rec = recorded[r.nextU32() % recorded.length];
      const host = rec.to === 'server' ? pair.server : pair.client;
      host.handlePacket(pair.sim.now, mutate(rec.packet, r));
      if (i % 64 === 0) {
        const out = new Uint8Array(65535);
        for (let k = 0; k < 256 && host.pollTransmit(pair.sim.now, out) > 0; k++);
      }
    }
    // Whatever happened to the fuzzed connection, the stacks keep working.
    pair.sim.runFor(5_000);
    const before = pair.server.apps.length;
    const conn2 = pair.client.stack.connect(pair.sim.now, { locals: pair.clientAddresses.map((address) => ({ address })), remotes: pair.serverAddresses, port: 80 });
    const app2 = new MptcpApp(conn2, pattern(500_000, 3));
    pair.client.apps.push(app2);
    pair.sim.poll();
    pair.sim.runWhile(() => !app2.closed && app2.error === null, 120_000);
    const srv2 = pair.server.apps[before];
    expect(app2.error).toBeNull();
    expect(sha256(srv2.data())).toBe(sha256(pattern(500_000, 3)));
    const c = pair.client.stack.counters;
    const s = pair.server.stack.counters;
    console.log(`mptcp fuzz: ${ITERATIONS} segments; counters client ${JSON.stringify(Object.fromEntries(Object.entries(c).filter(([, v]) => v)))} server ${JSON.stringify(Object.fromEntries(Object.entries(s).filter(([, v]) => v)))}; hosts malformed ${pair.client.stack.host.counters.malformed + pair.server.stack.host.counters.malformed}`);
  });
});
