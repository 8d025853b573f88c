/**
 * Sequence numbers. On the wire they are 32-bit and wrap (RFC 9293 §3.4); inside the engine
 * every sequence number is relative to the ISN (send side) or IRS (receive side) and kept as
 * a plain Number that never wraps (exact to 2^53 bytes). Conversions happen once per segment.
 */

/** Relative -> wire: (base + rel) mod 2^32. */
export function toWire(base: number, rel: number): number {
  return (base + rel) >>> 0;
}

/**
 * Wire -> relative, choosing the value closest to `ref` (a relative number known to be
 * within 2^31 of the answer, e.g. SND.UNA or RCV.NXT).
 */
export function fromWire(base: number, wire: number, ref: number): number {
  return ref + ((wire - base - ref) | 0);
}

/** Wrap-aware a < b for 32-bit values (e.g. timestamps, RFC 7323 §5.3). */
export function u32Less(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
