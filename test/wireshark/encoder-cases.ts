/**
 * One representation of every MPTCP option kind and length we can emit, each inside the
 * TCP segment it belongs on (MP_CAPABLE SYN on a SYN, its data form with a payload, MP_TCPRST
 * on a RST, ...), for the encoder-versus-Wireshark test. 64-bit fields use values above
 * 2^53 so that a precision loss anywhere would show.
 */
import { fromHex } from '../../mptcp/wire/bytes.js';
import { dssLength } from '../../mptcp/wire/dss.js';
import type { MptcpOption } from '../../mptcp/wire/mptcp-option-types.js';
import { TcpFlag } from '../../mptcp/wire/tcp-header.js';

export interface EncoderCase {
  name: string;
  option: MptcpOption;
  flags: number;
  payloadLength: number;
}

const { SYN, ACK, RST, PSH } = TcpFlag;
const KEY_A = 0xfedcba9876543210n;
const KEY_B = 0x8000000000000001n;
const BIG = 0xfffffffffffffff1n;

export function encoderCases(): EncoderCase[] {
  const cases: EncoderCase[] = [
    { name: 'MP_CAPABLE SYN (4)', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x01 }, flags: SYN, payloadLength: 0 },
    { name: 'MP_CAPABLE SYN csum (4)', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x81 }, flags: SYN, payloadLength: 0 },
    { name: 'MP_CAPABLE SYN/ACK (12)', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x21, senderKey: KEY_B }, flags: SYN | ACK, payloadLength: 0 },
    { name: 'MP_CAPABLE ACK (20)', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x01, senderKey: KEY_A, receiverKey: KEY_B }, flags: ACK, payloadLength: 0 },
    {
      name: 'MP_CAPABLE data (22)',
      option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x01, senderKey: KEY_A, receiverKey: KEY_B, dataLength: 100 },
      flags: ACK | PSH,
      payloadLength: 100,
    },
    {
      name: 'MP_CAPABLE data csum (24)',
      option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x81, senderKey: KEY_A, receiverKey: KEY_B, dataLength: 100, checksum: 0xbeef },
      flags: ACK | PSH,
      payloadLength: 100,
    },
    { name: 'MP_JOIN SYN (12)', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 0, addressId: 3, receiverToken: 0xdeadbeef, senderNonce: 0x01020304 }, flags: SYN, payloadLength: 0 },
    { name: 'MP_JOIN SYN backup (12)', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 1, addressId: 0, receiverToken: 0x80000000, senderNonce: 0xffffffff }, flags: SYN, payloadLength: 0 },
    { name: 'MP_JOIN SYN/ACK (16)', option: { subtype: 'MP_JOIN', stage: 'syn-ack', flags: 1, addressId: 7, truncatedHmac: BIG, senderNonce: 0x0a0b0c0d }, flags: SYN | ACK, payloadLength: 0 },
    { name: 'MP_JOIN ACK (24)', option: { subtype: 'MP_JOIN', stage: 'ack', reserved: 0, hmac: fromHex('000102030405060708090a0b0c0d0e0f10111213') }, flags: ACK, payloadLength: 0 },
  ];
  // DSS: all 32 combinations of F m M a A, and with a checksum whenever a mapping is present.
  for (let flags = 0; flags < 32; flags++) {
    for (const withChecksum of flags & 0x04 ? [false, true] : [false]) {
      const ack64 = (flags & 0x02) !== 0;
      const dsn64 = (flags & 0x08) !== 0;
      const hasMapping = (flags & 0x04) !== 0;
      const dataLength = hasMapping ? ((flags & 0x10) && flags % 3 === 0 ? 1 : 200) : 0;
      const dataFinOnly = hasMapping && (flags & 0x10) !== 0 && dataLength === 1;
      const option: MptcpOption = {
        subtype: 'DSS',
        reserved: 0,
        flags,
        ...(flags & 0x01 ? { dataAck: ack64 ? BIG : 0x89abcdefn } : {}),
        ...(hasMapping
          ? { dsn: dsn64 ? BIG - 5n : 0xfedcba98n, subflowSeq: dataFinOnly ? 0 : 0x11223344, dataLength, ...(withChecksum ? { checksum: 0x1234 } : {}) }
          : {}),
      };
      cases.push({
        name: `DSS flags 0x${flags.toString(16)}${withChecksum ? ' csum' : ''} (${dssLength(flags, withChecksum)})`,
        option,
        flags: ACK | (hasMapping && !dataFinOnly ? PSH : 0),
        payloadLength: hasMapping && !dataFinOnly ? dataLength : 0,
      });
    }
  }
  const v4 = fromHex('c0000201');
  const v6 = fromHex('20010db8000000000000000000000042');
  for (const address of [v4, v6]) {
    for (const port of [undefined, 8443]) {
      for (const echo of [false, true]) {
        const option: MptcpOption = {
          subtype: 'ADD_ADDR',
          flags: echo ? 1 : 0,
          addressId: 9,
          address,
          ...(port !== undefined ? { port } : {}),
          ...(echo ? {} : { truncatedHmac: BIG - 1n }),
        };
        cases.push({ name: `ADD_ADDR v${address.length === 4 ? 4 : 6}${port ? ' port' : ''}${echo ? ' echo' : ''}`, option, flags: ACK, payloadLength: 0 });
      }
    }
  }
  cases.push(
    { name: 'REMOVE_ADDR one id (4)', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [5] }, flags: ACK, payloadLength: 0 },
    { name: 'REMOVE_ADDR three ids (6)', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [1, 2, 255] }, flags: ACK, payloadLength: 0 },
    { name: 'MP_PRIO backup (3)', option: { subtype: 'MP_PRIO', flags: 1 }, flags: ACK, payloadLength: 0 },
    { name: 'MP_PRIO regular (3)', option: { subtype: 'MP_PRIO', flags: 0 }, flags: ACK, payloadLength: 0 },
    { name: 'MP_FAIL (12)', option: { subtype: 'MP_FAIL', reserved: 0, dsn: BIG - 9n }, flags: ACK, payloadLength: 0 },
    { name: 'MP_FASTCLOSE (12)', option: { subtype: 'MP_FASTCLOSE', reserved: 0, receiverKey: KEY_B }, flags: ACK, payloadLength: 0 },
  );
  for (let reason = 0; reason <= 6; reason++) {
    cases.push({ name: `MP_TCPRST reason ${reason}`, option: { subtype: 'MP_TCPRST', flags: reason % 2, reason }, flags: RST | ACK, payloadLength: 0 });
  }
  cases.push({ name: 'MP_TCPRST all flags', option: { subtype: 'MP_TCPRST', flags: 0xf, reason: 1 }, flags: RST | ACK, payloadLength: 0 });
  return cases;
}
