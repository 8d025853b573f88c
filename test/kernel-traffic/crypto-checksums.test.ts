/**
 * Our crypto and checksums on real kernel traffic: every MP_JOIN token names a key seen in
 * an MP_CAPABLE, every MP_JOIN SYN/ACK and third-ACK HMAC and every ADD_ADDR HMAC verifies
 * with our code, every MP_FASTCLOSE carries its receiver's key, every IPv4 header and TCP
 * checksum verifies, and every DSS checksum verifies over the mapped bytes.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../mptcp/wire/bytes.js';
import { dssPseudoHeaderSum, sumVerifies, sumWords } from '../../mptcp/wire/checksum.js';
import { addAddrHmac, joinAckHmac, joinSynAckHmac, keyIdsn, keyToken } from '../../mptcp/wire/crypto.js';
import { ADD_ADDR_FLAG_ECHO, DSS_FLAG_DATA_FIN, type MptcpOption } from '../../mptcp/wire/mptcp-option-types.js';
import { traceCapture, type Trace, type TracedOption } from '../support/mptcp-trace.js';
import { loadFixtures } from './fixtures.js';

const fixtures = loadFixtures();
const counts = { joins: 0, synAckHmacs: 0, ackHmacs: 0, addAddrHmacs: 0, fastcloses: 0, ipChecksums: 0, tcpChecksums: 0, dssChecksums: 0, mpcChecksums: 0 };

type Of<S extends MptcpOption['subtype']> = TracedOption & { option: Extract<MptcpOption, { subtype: S }> };
function ofType<S extends MptcpOption['subtype']>(t: Trace, s: S): Of<S>[] {
  return t.options.filter((o): o is Of<S> => o.option.subtype === s);
}

/** Verifies a DSS checksum over mapping bytes read back from the subflow stream. */
function dssChecksumHolds(t: Trace, flow: string, dsn: bigint, ssn: number, dataLength: number, dataFin: boolean, checksum: number): boolean | undefined {
  const s = t.streams.get(flow);
  if (s?.isn === undefined) return undefined;
  const payloadLength = dataFin ? dataLength - 1 : dataLength;
  const bytes = payloadLength > 0 ? s.read((s.isn + ssn) >>> 0, payloadLength) : new Uint8Array(0);
  if (!bytes) return undefined;
  const sum = sumWords(bytes, 0, bytes.length, dssPseudoHeaderSum(Number(dsn >> 32n), Number(dsn & 0xffffffffn), ssn, dataLength, checksum));
  return sumVerifies(sum);
}

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
  const t = traceCapture(fx.packets);

  it('every IPv4 header and TCP checksum verifies', () => {
    for (const d of fx.packets) {
      if (!d.packet) continue;
      if (d.packet.ip.version === 4) {
        expect(d.packet.ipChecksumValid, `frame ${d.frame} IPv4 checksum`).toBe(true);
        counts.ipChecksums++;
      }
      expect(d.packet.tcpChecksumValid, `frame ${d.frame} TCP checksum`).toBe(true);
      counts.tcpChecksums++;
    }
  });

  it('every connection has both keys, and tshark-independent tokens name them', () => {
    expect(t.connections.length).toBeGreaterThan(0);
    for (const c of t.connections) {
      expect(c.clientKey, `client key of ${c.initialFlow}`).toBeDefined();
      expect(c.serverKey, `server key of ${c.initialFlow}`).toBeDefined();
    }
  });

  it('every MP_JOIN token names a key seen in MP_CAPABLE; SYN/ACK and third-ACK HMACs verify', () => {
    for (const syn of ofType(t, 'MP_JOIN')) {
      if (syn.option.stage !== 'syn') continue;
      const token = syn.option.receiverToken;
      const c = t.connections.find((k) => (k.serverKey !== undefined && keyToken(k.serverKey) === token) || (k.clientKey !== undefined && keyToken(k.clientKey) === token));
      expect(c, `frame ${syn.frame}: token ${token.toString(16)} matches no MP_CAPABLE key`).toBeDefined();
      counts.joins++;
      const keys = t.keysFor(syn.flow);
      expect(keys.sender).toBeDefined();
      expect(keys.receiver).toBeDefined();
      if (keys.sender === undefined || keys.receiver === undefined) continue;
      expect(keyToken(keys.receiver)).toBe(token);
      const initiatorNonce = syn.option.senderNonce;
      // The SYN/ACK of this subflow (reverse direction), with the responder's nonce.
      const synAck = ofType(t, 'MP_JOIN').find((o) => o.flow === syn.reverse && o.option.stage === 'syn-ack' && o.frame > syn.frame);
      expect(synAck, `frame ${syn.frame}: no MP_JOIN SYN/ACK`).toBeDefined();
      if (synAck?.option.stage !== 'syn-ack') continue;
      const responderNonce = synAck.option.senderNonce;
      expect(joinSynAckHmac(keys.receiver, keys.sender, responderNonce, initiatorNonce), `frame ${synAck.frame} SYN/ACK HMAC`).toBe(synAck.option.truncatedHmac);
      counts.synAckHmacs++;
      for (const ack of ofType(t, 'MP_JOIN')) {
        if (ack.flow !== syn.flow || ack.option.stage !== 'ack' || ack.frame < synAck.frame) continue;
        const expected = joinAckHmac(keys.sender, keys.receiver, initiatorNonce, responderNonce);
        expect(toHex(ack.option.hmac), `frame ${ack.frame} third-ACK HMAC`).toBe(toHex(expected));
        counts.ackHmacs++;
      }
    }
  });

  it('every ADD_ADDR HMAC verifies with the sender and receiver keys', () => {
    for (const a of ofType(t, 'ADD_ADDR')) {
      if (a.option.flags & ADD_ADDR_FLAG_ECHO) continue;
      const keys = t.keysFor(a.flow);
      expect(keys.sender, `frame ${a.frame}: ADD_ADDR on an unknown subflow`).toBeDefined();
      if (keys.sender === undefined || keys.receiver === undefined) continue;
      const expected = addAddrHmac(keys.sender, keys.receiver, a.option.addressId, a.option.address, a.option.port ?? 0);
      expect(expected, `frame ${a.frame} ADD_ADDR HMAC`).toBe(a.option.truncatedHmac);
      counts.addAddrHmacs++;
    }
  });

  it('every MP_FASTCLOSE carries the receiver key', () => {
    for (const f of ofType(t, 'MP_FASTCLOSE')) {
      expect(f.option.receiverKey, `frame ${f.frame}`).toBe(t.keysFor(f.flow).receiver);
      counts.fastcloses++;
    }
  });

  it('every DSS and MP_CAPABLE data checksum verifies over the mapped bytes', () => {
    for (const o of t.options) {
      const opt = o.option;
      if (opt.subtype === 'DSS' && opt.checksum !== undefined && opt.dsn !== undefined && opt.subflowSeq !== undefined && opt.dataLength !== undefined) {
        expect(opt.flags & 0x08, `frame ${o.frame}: checksummed mapping with a 32-bit DSN`).toBeTruthy();
        const r = dssChecksumHolds(t, o.flow, opt.dsn, opt.subflowSeq, opt.dataLength, (opt.flags & DSS_FLAG_DATA_FIN) !== 0, opt.checksum);
        expect(r, `frame ${o.frame}: DSS checksum (undefined = mapped bytes not captured)`).toBe(true);
        counts.dssChecksums++;
      }
      if (opt.subtype === 'MP_CAPABLE' && opt.checksum !== undefined && opt.senderKey !== undefined && opt.dataLength !== undefined) {
        // RFC 8684 §3.1: the implicit mapping of the first data is DSN = IDSN + 1, SSN 1.
        const dsn = (keyIdsn(opt.senderKey) + 1n) & 0xffffffffffffffffn;
        expect(dssChecksumHolds(t, o.flow, dsn, 1, opt.dataLength, false, opt.checksum), `frame ${o.frame}: MP_CAPABLE checksum`).toBe(true);
        counts.mpcChecksums++;
      }
    }
  });
});

describe('totals', () => {
  it('verified something in every category the captures hold', () => {
    console.log(`real-traffic verification: ${JSON.stringify(counts)}`);
    expect(counts.joins).toBeGreaterThan(0);
    expect(counts.synAckHmacs).toBe(counts.joins);
    expect(counts.ackHmacs).toBeGreaterThanOrEqual(counts.joins);
    expect(counts.addAddrHmacs).toBeGreaterThan(0);
    expect(counts.fastcloses).toBeGreaterThan(0);
    expect(counts.dssChecksums).toBeGreaterThan(0);
    expect(counts.tcpChecksums).toBeGreaterThan(0);
  });
});

