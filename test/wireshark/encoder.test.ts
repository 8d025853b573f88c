/**
 * Our encoder, judged by Wireshark: every kind and length of MPTCP option we emit is put in
 * a real IPv4 and IPv6 TCP packet, written to a pcap, and decoded by tshark. Each must come
 * back with no malformed-packet mark, no expert error, and every tshark field equal to ours.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_RAW, writePcap } from '../../mptcp/pcap/pcap-file.js';
import { fromHex } from '../../mptcp/wire/bytes.js';
import { mptcpOptionLength } from '../../mptcp/wire/mptcp-options.js';
import { parseTcpPacket } from '../../mptcp/wire/packet.js';
import { buildTcpPacket } from '../support/packet-builder.js';
import { diffAgainstTshark, EXPERT_ERROR, runTshark, tsharkFrames, tsharkMissing } from '../support/tshark.js';
import { encoderCases } from './encoder-cases.js';

const skip = tsharkMissing();

describe.skipIf(skip)('MPTCP options we emit, decoded by Wireshark (tshark)', () => {
  const cases = encoderCases();
  const addrs = [
    { src: fromHex('c0a80001'), dst: fromHex('c0a80002') },
    { src: fromHex('fd000000000000000000000000000001'), dst: fromHex('fd000000000000000000000000000002') },
  ];
  /** `name` is null for context packets that only set up tshark's connection state. */
  const packets: { name: string | null; bytes: Uint8Array }[] = [];
  for (const [ai, a] of addrs.entries()) {
    cases.forEach((c, i) => {
      const flow = { ...a, srcPort: 20000 + i, dstPort: 443 };
      // A distinct connection per case so tshark's MPTCP analysis does not relate them. A
      // checksum is only decoded by tshark when the connection negotiated checksums, so
      // those cases are preceded by an MP_CAPABLE SYN with flag A (checksum required).
      const needsChecksumContext = c.option.subtype === 'DSS' && c.option.checksum !== undefined;
      if (needsChecksumContext) {
        packets.push({
          name: null,
          bytes: buildTcpPacket({ ...flow, seq: 999 + i, flags: 0x02, options: [{ kind: 'mptcp', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x81 } }] }),
        });
      }
      const bytes = buildTcpPacket({
        ...flow,
        seq: 1000 + i,
        ack: c.flags & 0x10 ? 5000 : 0,
        flags: c.flags,
        options: [{ kind: 'mptcp', option: c.option }],
        payload: new Uint8Array(c.payloadLength).fill(0x61 + (i % 26)),
      });
      packets.push({ name: `${c.name} over IPv${ai === 0 ? 4 : 6}`, bytes });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-encoder-'));
  const file = join(dir, 'encoded.pcap');
  writeFileSync(file, writePcap(packets.map((p, i) => ({ data: p.bytes, timestampNs: BigInt(i) * 1000n })), LINKTYPE_RAW));
  const frames = tsharkFrames(runTshark(['-r', file, '-T', 'json', '--no-duplicate-keys']));

  const checked = packets.flatMap((p, i) => (p.name === null ? [] : [[p.name, i] as const]));

  it(`covers ${cases.length} option kinds/lengths in ${checked.length} packets`, () => {
    expect(frames).toHaveLength(packets.length);
    const covered = new Set(cases.map((c) => `${c.option.subtype} ${mptcpOptionLength(c.option)}`));
    // Every legal length of every subtype (RFC 8684 §3): REMOVE_ADDR shown for 1 and 3 ids.
    const legal = [
      ...[4, 12, 20, 22, 24].map((n) => `MP_CAPABLE ${n}`),
      ...[12, 16, 24].map((n) => `MP_JOIN ${n}`),
      ...[4, 8, 12, 14, 16, 18, 20, 22, 24, 26, 28].map((n) => `DSS ${n}`),
      ...[8, 10, 16, 18, 20, 22, 28, 30].map((n) => `ADD_ADDR ${n}`),
      'REMOVE_ADDR 4',
      'REMOVE_ADDR 6',
      'MP_PRIO 3',
      'MP_FAIL 12',
      'MP_FASTCLOSE 12',
      'MP_TCPRST 4',
    ];
    expect([...covered].sort()).toEqual(legal.sort());
  });

  it.each(checked)('%s', (_name, i) => {
    const f = frames[i];
    expect(f.malformed, 'tshark marked the packet malformed').toBe(false);
    expect(f.experts.filter((e) => e.severity === EXPERT_ERROR).map((e) => e.message)).toEqual([]);
    expect(f.mptcp).toHaveLength(1);
    const ours = parseTcpPacket(packets[i].bytes);
    expect(ours.ok).toBe(true);
    if (!ours.ok) return;
    const opt = ours.value.tcp.header.options.find((o) => o.kind === 'mptcp');
    if (opt?.kind !== 'mptcp') throw new Error('our parser lost the option');
    expect(diffAgainstTshark(opt.option, f.mptcp[0])).toEqual([]);
  });
});
