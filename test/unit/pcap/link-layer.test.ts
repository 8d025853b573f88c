import { describe, it, expect } from 'vitest';
import {
  DLT_RAW_12,
  DLT_RAW_14,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from '../../../mptcp/pcap/pcap-file.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, stripLinkLayer, type NetworkPayload } from '../../../mptcp/pcap/link-layer.js';
import type { ParseResult, WireError } from '../../../mptcp/wire/result.js';
import { concat, fromHex, IPV4_TCP_SYN_HEX } from './builders.js';

const V4 = fromHex(IPV4_TCP_SYN_HEX);
/** An IPv6 header start (version 6, payload length 0, next header 59, hop limit 64) + ::1 x2. */
const V6 = fromHex('60000000' + '00003b40' + '00'.repeat(15) + '01' + '00'.repeat(15) + '01');
const MACS = fromHex('020000000001' + '020000000002');

function value(r: ParseResult<NetworkPayload>): NetworkPayload {
  if (!r.ok) throw new Error(`unexpected error: ${JSON.stringify(r.error)}`);
  return r.value;
}

function error(r: ParseResult<NetworkPayload>): WireError {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** Asserts the payload is `expected` and a view into `frame` starting at `offset`. */
function expectView(p: NetworkPayload, frame: Uint8Array, offset: number, expected: Uint8Array): void {
  expect(Array.from(p.payload)).toEqual(Array.from(expected));
  expect(p.payload.buffer).toBe(frame.buffer);
  expect(p.payload.byteOffset).toBe(frame.byteOffset + offset);
}

describe('stripLinkLayer', () => {
  it('Ethernet II', () => {
    const frame = concat(MACS, fromHex('0800'), V4);
    const p = value(stripLinkLayer(LINKTYPE_ETHERNET, frame));
    expect(p.etherType).toBe(ETHERTYPE_IPV4);
    expectView(p, frame, 14, V4);
    const v6 = concat(MACS, fromHex('86dd'), V6);
    expect(value(stripLinkLayer(LINKTYPE_ETHERNET, v6)).etherType).toBe(ETHERTYPE_IPV6);
  });

  it('Ethernet with 802.1Q, 802.1ad + 802.1Q and three stacked tags', () => {
    const one = concat(MACS, fromHex('81000064' + '86dd'), V6);
    const p1 = value(stripLinkLayer(LINKTYPE_ETHERNET, one));
    expect(p1.etherType).toBe(ETHERTYPE_IPV6);
    expectView(p1, one, 18, V6);
    const two = concat(MACS, fromHex('88a800c8' + '81000064' + '0800'), V4);
    expectView(value(stripLinkLayer(LINKTYPE_ETHERNET, two)), two, 22, V4);
    const three = concat(MACS, fromHex('91000001' + '88a80002' + '81000003' + '0800'), V4);
    expectView(value(stripLinkLayer(LINKTYPE_ETHERNET, three)), three, 26, V4);
  });

  it('Ethernet passes other EtherTypes through and keeps trailing padding', () => {
    const arp = concat(MACS, fromHex('0806'), new Uint8Array(28));
    expect(value(stripLinkLayer(LINKTYPE_ETHERNET, arp)).etherType).toBe(0x0806);
    const padded = concat(MACS, fromHex('0800'), V4, new Uint8Array(6));
    expect(value(stripLinkLayer(LINKTYPE_ETHERNET, padded)).payload.length).toBe(V4.length + 6);
  });

  it('Ethernet errors: short header, cut VLAN tag', () => {
    expect(error(stripLinkLayer(LINKTYPE_ETHERNET, MACS))).toMatchObject({ layer: 'link', field: 'ethernet.header', offset: 0 });
    expect(error(stripLinkLayer(LINKTYPE_ETHERNET, concat(MACS, fromHex('810000'))))).toMatchObject({ field: 'ethernet.vlanTag', offset: 12 });
    expect(error(stripLinkLayer(LINKTYPE_ETHERNET, concat(MACS, fromHex('810000648100'))))).toMatchObject({ field: 'ethernet.vlanTag', offset: 16 });
    // A tag followed by nothing at all is still a valid (empty) payload once the type is present.
    expect(value(stripLinkLayer(LINKTYPE_ETHERNET, concat(MACS, fromHex('810000640800')))).payload.length).toBe(0);
  });

  it('Linux cooked v1 (SLL): protocol at offset 14, payload at 16', () => {
    // packet type 0 (to us), ARPHRD_ETHER, address length 6, address padded to 8, protocol.
    const frame = concat(fromHex('0000' + '0001' + '0006' + '020000000001' + '0000' + '0800'), V4);
    const p = value(stripLinkLayer(LINKTYPE_LINUX_SLL, frame));
    expect(p.etherType).toBe(ETHERTYPE_IPV4);
    expectView(p, frame, 16, V4);
    expect(error(stripLinkLayer(LINKTYPE_LINUX_SLL, frame.subarray(0, 15)))).toMatchObject({ layer: 'link', field: 'sll.header' });
  });

  it('Linux cooked v2 (SLL2): protocol at offset 0, payload at 20', () => {
    // protocol, reserved, ifindex 2, ARPHRD_ETHER, packet type 4 (outgoing), addr len 6, addr.
    const frame = concat(fromHex('86dd' + '0000' + '00000002' + '0001' + '04' + '06' + '0200000000010000'), V6);
    const p = value(stripLinkLayer(LINKTYPE_LINUX_SLL2, frame));
    expect(p.etherType).toBe(ETHERTYPE_IPV6);
    expectView(p, frame, 20, V6);
    expect(error(stripLinkLayer(LINKTYPE_LINUX_SLL2, frame.subarray(0, 19)))).toMatchObject({ field: 'sll2.header' });
  });

  for (const lt of [LINKTYPE_RAW, DLT_RAW_12, DLT_RAW_14]) {
    it(`raw IP (link type ${lt}) picks the version from the first nibble`, () => {
      const p4 = value(stripLinkLayer(lt, V4));
      expect(p4.etherType).toBe(ETHERTYPE_IPV4);
      expectView(p4, V4, 0, V4);
      expect(value(stripLinkLayer(lt, V6)).etherType).toBe(ETHERTYPE_IPV6);
      expect(error(stripLinkLayer(lt, Uint8Array.of(0x55)))).toMatchObject({ layer: 'link', field: 'raw.version', offset: 0 });
      expect(error(stripLinkLayer(lt, new Uint8Array(0)))).toMatchObject({ field: 'raw.version' });
    });
  }

  it('LINKTYPE_IPV4 and LINKTYPE_IPV6 are headerless', () => {
    const p4 = value(stripLinkLayer(LINKTYPE_IPV4, V4));
    expect(p4.etherType).toBe(ETHERTYPE_IPV4);
    expectView(p4, V4, 0, V4);
    const p6 = value(stripLinkLayer(LINKTYPE_IPV6, V6));
    expect(p6.etherType).toBe(ETHERTYPE_IPV6);
    expectView(p6, V6, 0, V6);
  });

  it('BSD loopback (NULL) reads the family in either host byte order', () => {
    const le4 = concat(Uint8Array.of(2, 0, 0, 0), V4);
    const p = value(stripLinkLayer(LINKTYPE_NULL, le4));
    expect(p.etherType).toBe(ETHERTYPE_IPV4);
    expectView(p, le4, 4, V4);
    expect(value(stripLinkLayer(LINKTYPE_NULL, concat(Uint8Array.of(0, 0, 0, 2), V4))).etherType).toBe(ETHERTYPE_IPV4);
    for (const af of [24, 28, 30]) {
      expect(value(stripLinkLayer(LINKTYPE_NULL, concat(Uint8Array.of(af, 0, 0, 0), V6))).etherType).toBe(ETHERTYPE_IPV6);
      expect(value(stripLinkLayer(LINKTYPE_NULL, concat(Uint8Array.of(0, 0, 0, af), V6))).etherType).toBe(ETHERTYPE_IPV6);
    }
    expect(error(stripLinkLayer(LINKTYPE_NULL, concat(Uint8Array.of(7, 0, 0, 0), V4)))).toMatchObject({ layer: 'link', field: 'null.family' });
    expect(error(stripLinkLayer(LINKTYPE_NULL, Uint8Array.of(2, 0, 0)))).toMatchObject({ field: 'null.family' });
  });

  it('OpenBSD loopback (LOOP) uses network byte order', () => {
    const frame = concat(Uint8Array.of(0, 0, 0, 24), V6);
    expectView(value(stripLinkLayer(LINKTYPE_LOOP, frame)), frame, 4, V6);
    expect(error(stripLinkLayer(LINKTYPE_LOOP, concat(Uint8Array.of(2, 0, 0, 0), V4)))).toMatchObject({ field: 'loop.family' });
  });

  it('names unsupported link types', () => {
    for (const lt of [105, 127, 147, 0xffff, -1]) {
      const e = error(stripLinkLayer(lt, V4));
      expect(e).toMatchObject({ layer: 'link', field: 'linkType' });
      expect(e.rule).toContain(`link type ${lt} `);
    }
  });
});
