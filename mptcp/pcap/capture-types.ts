/**
 * Shared shapes of the capture-file codec: the packet record both readers (classic pcap and
 * pcapng) produce, the link-type numbers from the tcpdump.org LINKTYPE_ registry, and the
 * size limit every reader enforces. No code lives here, only types and constants.
 */
import type { WireError } from '../wire/result.js';

/** BSD loopback: a 4-byte address family in the capturing host's byte order. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
/**
 * Raw IPv4 or IPv6 (version nibble decides). Files should carry 101, but some systems write
 * their DLT_RAW value instead: 12 on most BSDs and 14 on OpenBSD. We read all three alike.
 */
export const LINKTYPE_RAW = 101;
export const DLT_RAW_12 = 12;
export const DLT_RAW_14 = 14;
/** OpenBSD loopback: like NULL, but the address family is in network byte order. */
export const LINKTYPE_LOOP = 108;
/** Linux "cooked" capture v1 (tcpdump -i any): 16-byte header, protocol at offset 14. */
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
/** Linux "cooked" capture v2: 20-byte header, protocol at offset 0. */
export const LINKTYPE_LINUX_SLL2 = 276;

/**
 * Largest captured length we accept for one record (libpcap's MAXIMUM_SNAPLEN, 256 KiB).
 * Anything larger is taken as a corrupt length field rather than a packet.
 */
export const MAX_CAPTURE_LENGTH = 256 * 1024;

export interface CapturedPacket {
  /** 1-based position in the file, counting packets only (Wireshark's frame.number). */
  readonly index: number;
  /** LINKTYPE_ value of the interface the packet was captured on. */
  readonly linkType: number;
  /** Nanoseconds since the Unix epoch (0n for pcapng Simple Packet Blocks, which carry none). */
  readonly timestampNs: bigint;
  /** Length of the packet on the wire; at least `data.length`. */
  readonly originalLength: number;
  /** The captured bytes: a view into the buffer given to the parser, not a copy. */
  readonly data: Uint8Array;
}

export interface CaptureFile {
  readonly format: 'pcap' | 'pcapng';
  readonly packets: CapturedPacket[];
  /**
   * Set when the file ends in the middle of a record (a capture cut short): `packets` holds
   * every complete record before the cut, as Wireshark shows them.
   */
  readonly truncated?: WireError;
}
