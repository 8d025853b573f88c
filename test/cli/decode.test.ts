/**
 * `mptcp-proxy decode` end to end (in-process, output captured): a capture with a valid MPTCP
 * packet, a malformed one and a non-TCP one; text and JSON output; exit codes; a file that is
 * not a capture; a missing file; bad arguments.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LINKTYPE_RAW, writePcap } from '../../mptcp/pcap/pcap-file.js';
import { fromHex } from '../../mptcp/wire/bytes.js';
import { runDecode } from '../../proxy/cli/commands/decode.js';
import { buildTcpPacket } from '../support/packet-builder.js';

let out = '';
let err = '';
beforeEach(() => {
  out = err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'mptcp-decode-'));
const src = fromHex('0a000001');
const dst = fromHex('0a000002');
const good = buildTcpPacket({
  src,
  dst,
  srcPort: 40000,
  dstPort: 443,
  seq: 7,
  ack: 9,
  flags: 0x10,
  options: [{ kind: 'mptcp', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 1, addressId: 2, receiverToken: 0xabcdef01, senderNonce: 5 } }],
});
const truncated = good.slice(0, 30); // IPv4 total length says more than there is
const udp = fromHex('4500001c000100004011f9d40a0000010a0000020035003500080000');

function capture(name: string, packets: Uint8Array[]): string {
  const file = join(dir, name);
  writeFileSync(file, writePcap(packets.map((data, i) => ({ data, timestampNs: 1_000_000_000n + BigInt(i) * 1_500_000n })), LINKTYPE_RAW));
  return file;
}

describe('mptcp-proxy decode', () => {
  it('prints each packet and its MPTCP options, and exits 1 when one is malformed', () => {
    const file = capture('mixed.pcap', [good, truncated, udp]);
    expect(runDecode([file])).toBe(1);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('1 0.000000000 IPv4 10.0.0.1:40000 > 10.0.0.2:443 [.] seq 7 ack 9 win 65535 len 0');
    expect(lines[1]).toBe('    MP_JOIN SYN len 12 backup addr-id 2 token abcdef01 nonce 00000005');
    expect(lines[2]).toMatch(/^2 0\.001500000 MALFORMED ipv4: totalLength at byte 2: 52 exceeds the 30 bytes captured$/);
    expect(lines[3]).toBe('3 0.003000000 (not TCP: carries protocol 17, not TCP)');
    expect(err).toContain('3 packets (pcap), 1 malformed');
  });

  it('emits one JSON object per packet with 64-bit-safe fields, --mptcp-only filters', () => {
    const file = capture('good.pcap', [good, udp]);
    expect(runDecode([file, '--json', '--mptcp-only'])).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      frame: 1,
      ip: { version: 4, src: '10.0.0.1', dst: '10.0.0.2', checksumValid: true },
      tcp: { srcPort: 40000, dstPort: 443, flags: '.', checksumValid: true, options: [{ kind: 'mptcp', subtype: 'MP_JOIN', stage: 'syn', receiverToken: 0xabcdef01 }] },
    });
  });

  it('refuses a file that is not a capture, a missing file, and bad arguments with exit 2', () => {
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a pcap file at all');
    expect(runDecode([junk])).toBe(2);
    expect(err).toMatch(/is not a capture file we can read: pcap: /);
    expect(runDecode([join(dir, 'missing.pcap')])).toBe(2);
    expect(err).toContain('ENOENT');
    expect(runDecode([])).toBe(2);
    expect(runDecode(['--bogus', junk])).toBe(2);
    expect(runDecode(['--help'])).toBe(0);
    expect(out).toContain('Usage: mptcp-proxy decode');
  });
});
