/**
 * Independent reference helpers for the wire-layer tests. They share no code with
 * mptcp/wire on purpose: byte vectors are built from the RFC layouts with these, and the
 * Internet checksum is recomputed with the plainest possible loop (RFC 1071 §1), so a test
 * never checks the codec against itself.
 */

/** Bytes from hex text; spaces, colons, '|' and '_' are ignored so RFC layouts stay readable. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s:|_]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex of the bytes, for readable failure messages. */
export function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Concatenation of byte arrays or plain byte lists. */
export function cat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `value` as `size` big-endian bytes (network order), computed with BigInt arithmetic only. */
export function be(value: number | bigint, size: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * size)) throw new Error(`${value} does not fit in ${size} bytes`);
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * RFC 1071 ones' complement sum of 16-bit big-endian words, an odd last byte padded with a
 * zero on the right, with the carry folded back after every addition (end-around carry).
 */
export function refOnesSum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    const word = data[i] * 256 + (i + 1 < data.length ? data[i + 1] : 0);
    sum += word;
    if (sum > 0xffff) sum = sum - 0x10000 + 1;
  }
  return sum;
}

/** The checksum field value (ones' complement of the ones' complement sum). */
export function refChecksum(data: Uint8Array): number {
  return 0xffff - refOnesSum(data);
}

/** TCP pseudo-header for IPv4 (RFC 9293 §3.1): src, dst, zero, PTCL=6, TCP length (16 bits). */
export function refIpv4PseudoHeader(src: Uint8Array, dst: Uint8Array, tcpLength: number): Uint8Array {
  return cat(src, dst, [0, 6], be(tcpLength, 2));
}

/** Upper-layer pseudo-header for IPv6 (RFC 8200 §8.1): src, dst, 32-bit length, 3 zeros, next header. */
export function refIpv6PseudoHeader(src: Uint8Array, dst: Uint8Array, upperLength: number): Uint8Array {
  return cat(src, dst, be(upperLength, 4), [0, 0, 0, 6]);
}
