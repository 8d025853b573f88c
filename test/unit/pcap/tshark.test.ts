/**
 * Wireshark as the oracle for the capture codec: tshark must read what writePcap writes, and
 * we must read what tshark writes (pcapng, microsecond and nanosecond pcap). Skipped with a
 * message when /usr/bin/tshark is missing, except in CI (CI=true), where that is a failure.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, parseCaptureFile, writePcap, type CaptureFile } from '../../../mptcp/pcap/pcap-file.js';
import { stripLinkLayer } from '../../../mptcp/pcap/link-layer.js';
import { TSHARK, tsharkMissing } from '../../support/tshark.js';
import { concat, fromHex, IPV4_TCP_SYN_HEX } from './builders.js';

const SYN = fromHex(IPV4_TCP_SYN_HEX);
const ETH_VLAN = concat(fromHex('020000000001' + '020000000002' + '81000064' + '0800'), SYN);
const PACKETS = [
  { data: SYN, timestampNs: 1_700_000_000_123_456_789n },
  { data: SYN, timestampNs: 1_700_000_001_000_000_001n, originalLength: 1500 },
];

const skip = tsharkMissing();

function tshark(args: string[]): string {
  return execFileSync(TSHARK, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
}

function fields(file: string, names: string[], extra: string[] = []): string[][] {
  const out = tshark(['-r', file, ...extra, '-T', 'fields', ...names.flatMap((n) => ['-e', n])]);
  return out
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
}

function parsed(file: string): CaptureFile {
  const r = parseCaptureFile(new Uint8Array(readFileSync(file)));
  if (!r.ok) throw new Error(`parse failed: ${JSON.stringify(r.error)}`);
  return r.value;
}

describe.skipIf(skip)('tshark interoperability', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('reads our raw-IP pcap: frame numbers, addresses, ns timestamps, lengths, valid checksums', () => {
    const file = join(dir, 'raw.pcap');
    writeFileSync(file, writePcap(PACKETS, LINKTYPE_RAW));
    const rows = fields(file, ['frame.number', 'ip.src', 'ip.dst', 'tcp.dstport', 'frame.time_epoch', 'frame.len', 'frame.cap_len']);
    expect(rows).toEqual([
      ['1', '192.0.2.1', '198.51.100.7', '443', '1700000000.123456789', '44', '44'],
      ['2', '192.0.2.1', '198.51.100.7', '443', '1700000001.000000001', '1500', '44'],
    ]);
    // Checksum status 1 = good: the hand-built packet really is valid.
    const verify = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];
    expect(fields(file, ['ip.checksum.status', 'tcp.checksum.status'], verify)).toEqual([['1', '1'], ['1', '1']]);
  });

  it('reads our Ethernet + 802.1Q pcap', () => {
    const file = join(dir, 'eth.pcap');
    writeFileSync(file, writePcap([{ data: ETH_VLAN, timestampNs: 5n }], LINKTYPE_ETHERNET));
    expect(fields(file, ['frame.number', 'vlan.id', 'ip.src', 'tcp.srcport'])).toEqual([['1', '100', '192.0.2.1', '40000']]);
  });

  for (const format of ['pcapng', 'nsecpcap', 'pcap'] as const) {
    it(`reads what tshark writes as ${format}`, () => {
      const src = join(dir, `src-${format}.pcap`);
      const out = join(dir, `out.${format}`);
      writeFileSync(src, writePcap(PACKETS, LINKTYPE_RAW));
      tshark(['-r', src, '-F', format, '-w', out]);
      const cap = parsed(out);
      expect(cap.format).toBe(format === 'pcapng' ? 'pcapng' : 'pcap');
      expect(cap.truncated).toBeUndefined();
      const unit = format === 'pcap' ? 1000n : 1n;
      expect(cap.packets.map((p) => [p.index, p.linkType, p.timestampNs, p.originalLength, Array.from(p.data)])).toEqual(
        PACKETS.map((p, i) => [i + 1, LINKTYPE_RAW, (p.timestampNs / unit) * unit, p.originalLength ?? p.data.length, Array.from(p.data)]),
      );
      for (const p of cap.packets) {
        const link = stripLinkLayer(p.linkType, p.data);
        expect(link.ok && link.value.etherType).toBe(0x0800);
      }
    });
  }

  it('reads a pcapng that mergecap builds from two link types', () => {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const merged = join(dir, 'merged.pcapng');
    writeFileSync(a, writePcap([{ data: SYN, timestampNs: 1_000_000_000n }], LINKTYPE_RAW));
    writeFileSync(b, writePcap([{ data: ETH_VLAN, timestampNs: 2_000_000_000n }], LINKTYPE_ETHERNET));
    execFileSync('/usr/bin/mergecap', ['-F', 'pcapng', '-w', merged, a, b], { stdio: 'ignore' });
    const cap = parsed(merged);
    expect(cap.packets.map((p) => [p.index, p.linkType, p.timestampNs, p.data.length])).toEqual([
      [1, LINKTYPE_RAW, 1_000_000_000n, SYN.length],
      [2, LINKTYPE_ETHERNET, 2_000_000_000n, ETH_VLAN.length],
    ]);
  });
});
