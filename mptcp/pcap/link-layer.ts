/**
 * Link-layer headers of captured frames: `stripLinkLayer` finds the network-layer bytes and
 * their EtherType for every link type our captures use (Ethernet with any number of VLAN
 * tags, Linux cooked v1/v2, raw IP, LINKTYPE_IPV4/IPV6, BSD and OpenBSD loopback). Pure, and
 * the payload is a view into the frame. Never throws; errors use layer 'link'.
 */
import { readU16 } from '../wire/bytes.js';
import { fail, ok, type ParseResult } from '../wire/result.js';
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
} from './capture-types.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q customer tag, 802.1ad service tag, and the pre-standard Q-in-Q value. */
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;

export interface NetworkPayload {
  /**
   * 0x0800 IPv4, 0x86dd IPv6; any other value is passed through as found (ARP, an 802.3
   * length below 0x0600, a Linux ETH_P_ code in cooked captures) for the caller to skip.
   */
  readonly etherType: number;
  /**
   * The network-layer bytes, a view into the frame. May run past the IP packet (Ethernet
   * padding or FCS): the IP header's own length is authoritative.
   */
  readonly payload: Uint8Array;
}

/** BSD address families meaning IPv6: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30. */
const AF_INET = 2;
const AF_INET6 = new Set([24, 28, 30]);

const SUPPORTED = 'Ethernet 1, NULL 0, LOOP 108, RAW 101/12/14, LINUX_SLL 113, LINUX_SLL2 276, IPV4 228, IPV6 229';

export function stripLinkLayer(linkType: number, frame: Uint8Array): ParseResult<NetworkPayload> {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernet(frame);
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return short('sll.header', frame, 16);
      return ok({ etherType: readU16(frame, 14), payload: frame.subarray(16) });
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return short('sll2.header', frame, 20);
      return ok({ etherType: readU16(frame, 0), payload: frame.subarray(20) });
    case LINKTYPE_RAW:
    case DLT_RAW_12:
    case DLT_RAW_14:
      return rawIp(frame);
    case LINKTYPE_IPV4:
      return ok({ etherType: ETHERTYPE_IPV4, payload: frame });
    case LINKTYPE_IPV6:
      return ok({ etherType: ETHERTYPE_IPV6, payload: frame });
    case LINKTYPE_NULL:
      return loopback(frame, false);
    case LINKTYPE_LOOP:
      return loopback(frame, true);
    default:
      return fail('link', 'linkType', `link type ${linkType} is not supported (supported: ${SUPPORTED})`);
  }
}

function short(field: string, frame: Uint8Array, need: number): ParseResult<never> {
  return fail('link', field, `frame is ${frame.length} bytes; the header needs ${need}`, 0);
}

function ethernet(frame: Uint8Array): ParseResult<NetworkPayload> {
  if (frame.length < 14) return short('ethernet.header', frame, 14);
  let at = 12;
  let type = readU16(frame, at);
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    // A tag is TPID (the type just read) + TCI; the next type follows it.
    if (frame.length < at + 6) {
      return fail('link', 'ethernet.vlanTag', `frame ends inside the VLAN tag (TPID 0x${type.toString(16)}) at byte ${at}`, at);
    }
    at += 4;
    type = readU16(frame, at);
  }
  return ok({ etherType: type, payload: frame.subarray(at + 2) });
}

function rawIp(frame: Uint8Array): ParseResult<NetworkPayload> {
  if (frame.length === 0) return fail('link', 'raw.version', 'frame is empty; raw IP needs a version nibble', 0);
  const version = frame[0] >> 4;
  if (version === 4) return ok({ etherType: ETHERTYPE_IPV4, payload: frame });
  if (version === 6) return ok({ etherType: ETHERTYPE_IPV6, payload: frame });
  return fail('link', 'raw.version', `IP version nibble ${version} is neither 4 nor 6`, 0);
}

/**
 * NULL stores the family in the capturing host's byte order, which the file does not say;
 * like Wireshark, a value with any of its upper 16 bits set is taken as byte-swapped.
 * LOOP (OpenBSD) always uses network byte order.
 */
function loopback(frame: Uint8Array, networkOrder: boolean): ParseResult<NetworkPayload> {
  const field = networkOrder ? 'loop.family' : 'null.family';
  if (frame.length < 4) return short(field, frame, 4);
  const bigEndian = frame[0] * 0x1000000 + ((frame[1] << 16) | (frame[2] << 8) | frame[3]);
  const littleEndian = frame[3] * 0x1000000 + ((frame[2] << 16) | (frame[1] << 8) | frame[0]);
  const family = networkOrder || littleEndian > 0xffff ? bigEndian : littleEndian;
  const payload = frame.subarray(4);
  if (family === AF_INET) return ok({ etherType: ETHERTYPE_IPV4, payload });
  if (AF_INET6.has(family)) return ok({ etherType: ETHERTYPE_IPV6, payload });
  return fail('link', field, `address family ${family} is neither AF_INET (2) nor AF_INET6 (24, 28, 30)`, 0);
}
