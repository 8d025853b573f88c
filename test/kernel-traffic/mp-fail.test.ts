/**
 * The kernel's MP_FAIL and infinite-mapping behaviour (RFC 8684 §3.7), captured with one DSS
 * mapping deliberately corrupted in flight (test/fixtures/pcap/mp-fail): our decoder finds the
 * MP_FAIL options, and recomputing every finite checksummed mapping finds exactly one that
 * fails, at the DSN the MP_FAIL names (within the failed mapping). Everything else verifies.
 */
import { describe, expect, it } from 'vitest';
import { dssPseudoHeaderSum, sumVerifies, sumWords } from '../../mptcp/wire/checksum.js';
import { DSS_FLAG_DATA_FIN } from '../../mptcp/wire/mptcp-option-types.js';
import { traceCapture } from '../support/mptcp-trace.js';
import { loadFixtures } from './fixtures.js';

describe.each(loadFixtures('mp-fail').map((f) => [f.name, f] as const))('%s', (_name, fx) => {
  const t = traceCapture(fx.packets);

  it('decodes the MP_FAIL options and exactly one corrupted mapping, which the MP_FAIL names', () => {
    const fails = t.options.filter((o) => o.option.subtype === 'MP_FAIL');
    expect(fails.length).toBeGreaterThan(0);
    const bad: { dsn: bigint; len: number; frame: number; flow: string }[] = [];
    let verified = 0;
    for (const o of t.options) {
      const d = o.option;
      if (d.subtype !== 'DSS' || d.checksum === undefined || d.dsn === undefined || d.subflowSeq === undefined || !d.dataLength) continue;
      const s = t.streams.get(o.flow);
      if (s?.isn === undefined) continue;
      const n = d.flags & DSS_FLAG_DATA_FIN ? d.dataLength - 1 : d.dataLength;
      const bytes = n > 0 ? s.read((s.isn + d.subflowSeq) >>> 0, n) : new Uint8Array(0);
      if (!bytes) continue;
      const sum = sumWords(bytes, 0, bytes.length, dssPseudoHeaderSum(Number(d.dsn >> 32n), Number(d.dsn & 0xffffffffn), d.subflowSeq, d.dataLength, d.checksum));
      if (sumVerifies(sum)) verified++;
      else if (!bad.some((b) => b.dsn === d.dsn)) bad.push({ dsn: d.dsn, len: d.dataLength, frame: o.frame, flow: o.flow });
    }
    console.log(`${fx.name}: ${fails.length} MP_FAIL, ${verified} mappings verified, ${bad.length} corrupted`);
    expect(bad).toHaveLength(1);
    expect(verified).toBeGreaterThan(10);
    // The receiver of the bad data reports it (the MP_FAIL travelling against the mapping's
    // direction); an MP_FAIL in the other direction is the data sender's reply.
    const reports = fails.filter((f) => f.reverse === bad[0].flow);
    expect(reports.length).toBeGreaterThan(0);
    for (const f of reports) {
      if (f.option.subtype !== 'MP_FAIL') continue;
      // The MP_FAIL's DSN lies within the corrupted mapping (RFC 8684 §3.7: the start of the
      // data that failed, as far as the receiver could tell).
      expect(f.option.dsn >= bad[0].dsn && f.option.dsn <= bad[0].dsn + BigInt(bad[0].len), `frame ${f.frame} MP_FAIL dsn ${f.option.dsn} vs mapping ${bad[0].dsn}+${bad[0].len}`).toBe(true);
    }
  });
});
