/**
 * The Internet checksum (RFC 1071) and the sums built on it: the IPv4 header checksum
 * (RFC 791), TCP's pseudo-headers for IPv4 (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1), and the
 * MPTCP DSS checksum (RFC 8684 §3.3.1).
 *
 * Sums are kept unfolded in a Number (safe: each step adds < 2^16, so overflow would take
 * 2^37 steps) and folded once at the end. No allocation: these run on every segment.
 */

/**
 * Adds the bytes in [start, end) to `sum` as big-endian 16-bit words. An odd final byte is
 * padded with zero on the right, as RFC 1071 prescribes for the last byte of the data.
 */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  const evenEnd = start + ((end - start) & ~7);
  // Unrolled by four words: measurably faster on V8 than one word per iteration.
  for (; i < evenEnd; i += 8) {
    sum +=
      ((buf[i] << 8) | buf[i + 1]) +
      ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) +
      ((buf[i + 6] << 8) | buf[i + 7]);
  }
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Folds carries into 16 bits (ones' complement addition), without complementing. */
export function foldSum(sum: number): number {
  // Two folds suffice for any sum below 2^32; loop for the general Number case.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for data whose unfolded sum (with the field zeroed) is `sum`. */
export function checksumFromSum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** Data including its checksum field verifies when its folded sum is all ones. */
export function sumVerifies(sum: number): boolean {
  return foldSum(sum) === 0xffff;
}

export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return checksumFromSum(sumWords(buf, start, end));
}

/** IPv4 pseudo-header sum: source, destination, zero, protocol, upper-layer length. */
export function ipv4PseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  upperLength: number,
): number {
  return sumWords(src, 0, 4) + sumWords(dst, 0, 4) + protocol + upperLength;
}

/** IPv6 pseudo-header sum: source, destination, 32-bit length, zero, next header. */
export function ipv6PseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  upperLength: number,
): number {
  return (
    sumWords(src, 0, 16) +
    sumWords(dst, 0, 16) +
    Math.floor(upperLength / 0x10000) +
    (upperLength & 0xffff) +
    nextHeader
  );
}

/**
 * Sum of the DSS checksum pseudo-header (RFC 8684 §3.3.1): 64-bit DSN, 32-bit relative
 * subflow sequence number, 16-bit data-level length, then the 16-bit checksum field (zero
 * when computing, the received value when verifying). The DSN is given as two u32 halves so
 * the hot path needs no BigInt.
 */
export function dssPseudoHeaderSum(
  dsnHi: number,
  dsnLo: number,
  subflowSeq: number,
  dataLength: number,
  checksumField: number,
): number {
  return (
    (dsnHi >>> 16) +
    (dsnHi & 0xffff) +
    (dsnLo >>> 16) +
    (dsnLo & 0xffff) +
    (subflowSeq >>> 16) +
    (subflowSeq & 0xffff) +
    dataLength +
    checksumField
  );
}

/** DSS checksum over the pseudo-header and the mapping's payload [start, end) of `payload`. */
export function dssChecksum(
  dsnHi: number,
  dsnLo: number,
  subflowSeq: number,
  dataLength: number,
  payload: Uint8Array,
  start = 0,
  end = payload.length,
): number {
  return checksumFromSum(
    sumWords(payload, start, end, dssPseudoHeaderSum(dsnHi, dsnLo, subflowSeq, dataLength, 0)),
  );
}
