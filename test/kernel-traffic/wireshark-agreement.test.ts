/**
 * Every MPTCP option in the kernel captures, decoded by us, equals Wireshark's decode field
 * by field: against the tshark JSON stored next to each pcap, and against a live tshark run
 * when tshark is installed (always in CI). Addresses, ports and raw seq/ack must agree too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../mptcp/wire/ip-address.js';
import { comparedFieldCount, diffAgainstTshark, runTshark, tsharkFixtureArgs, tsharkFrames, tsharkMissing, type TsharkFrame } from '../support/tshark.js';
import { loadFixtures, type Fixture } from './fixtures.js';

const fixtures = [...loadFixtures(), ...loadFixtures('mp-fail')];
const live = !tsharkMissing();
const totals = { packets: 0, options: 0, fields: 0 };

function compare(fx: Fixture, frames: TsharkFrame[]): { options: number; fields: number } {
  expect(frames).toHaveLength(fx.packets.length);
  let options = 0;
  let fields = 0;
  for (const d of fx.packets) {
    const t = frames[d.frame - 1];
    expect(t.frame).toBe(d.frame);
    expect(d.error, `frame ${d.frame}`).toBeUndefined();
    const p = d.packet;
    if (!p) continue;
    const h = p.tcp.header;
    expect(
      [formatIp(p.src), formatIp(p.dst), h.srcPort, h.dstPort, h.seq, h.ack, h.flags, h.window, p.tcp.payloadEnd - p.tcp.payloadOffset],
      `frame ${d.frame} addresses, ports, seq, ack, flags, window, payload length`,
    ).toEqual([t.ipSrc, t.ipDst, t.srcPort, t.dstPort, t.seqRaw, t.ackRaw, t.tcpFlags, t.windowRaw, t.payloadLength]);
    const ours = h.options.flatMap((o) => (o.kind === 'mptcp' ? [o.option] : []));
    expect(h.options.filter((o) => o.kind === 'invalid'), `frame ${d.frame} invalid options`).toEqual([]);
    expect(ours.length, `frame ${d.frame} MPTCP option count`).toBe(t.mptcp.length);
    ours.forEach((o, i) => {
      expect(diffAgainstTshark(o, t.mptcp[i]), `frame ${d.frame} option ${i} (${o.subtype})`).toEqual([]);
      fields += comparedFieldCount(o);
      options++;
    });
  }
  return { options, fields };
}

describe('kernel captures: our decode equals Wireshark, field by field', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('matches the stored tshark JSON', () => {
      const stored = tsharkFrames(JSON.parse(readFileSync(fx.tsharkJson, 'utf8')));
      const { options, fields } = compare(fx, stored);
      expect(options).toBeGreaterThan(0);
      totals.packets += fx.packets.length;
      totals.options += options;
      totals.fields += fields;
    });

    it.skipIf(!live)('matches a live tshark run', () => {
      const { options } = compare(fx, tsharkFrames(runTshark(tsharkFixtureArgs(fx.pcap))));
      expect(options).toBeGreaterThan(0);
    });
  });

  it('reports the totals', () => {
    console.log(`wireshark agreement: ${totals.packets} packets, ${totals.options} MPTCP options, ${totals.fields} fields compared`);
    expect(totals.options).toBeGreaterThan(0);
  });
});
