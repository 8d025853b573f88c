/**
 * The committed captures of Linux kernel MPTCP traffic (test/fixtures/pcap), decoded once by
 * our decoder and shared by the tests that prove the wire layer against them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCaptureBytes, type DecodedPacket } from '../../mptcp/inspect/decode-capture.js';
import { formatWireError } from '../../mptcp/wire/result.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));

export interface Fixture {
  name: string;
  pcap: string;
  tsharkJson: string;
  packets: DecodedPacket[];
}

/**
 * The captures in test/fixtures/pcap (`dir` '') or a subfolder: 'mp-fail' holds captures with
 * one deliberately corrupted DSS mapping (MP_FAIL, infinite mapping), kept apart because their
 * checksums are not all meant to verify.
 */
export function loadFixtures(dir = ''): Fixture[] {
  const base = FIXTURE_DIR + (dir ? `${dir}/` : '');
  const names = readdirSync(base).filter((f) => f.endsWith('.pcap')).sort();
  return names.map((name) => {
    const pcap = base + name;
    const r = decodeCaptureBytes(readFileSync(pcap));
    if (!r.ok) throw new Error(`${name}: ${formatWireError(r.error)}`);
    const tsharkJson = pcap.replace(/\.pcap$/, '.tshark.json');
    if (!existsSync(tsharkJson)) throw new Error(`${name}: missing ${tsharkJson}`);
    return { name, pcap, tsharkJson, packets: r.value.packets };
  });
}
