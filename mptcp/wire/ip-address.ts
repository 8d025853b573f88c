/**
 * IP addresses as bytes (4 or 16, network order) and their text forms. The wire layer keeps
 * addresses as bytes; text is for people, logs and configuration. IPv6 text follows RFC 5952
 * (lowercase, longest zero run compressed, IPv4-mapped shown dotted), so text <-> bytes is a
 * bijection and round trips are exact.
 */
import { isIP } from 'node:net';

export function formatIpv4(b: Uint8Array, o = 0): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

export function formatIpv6(b: Uint8Array, o = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 §5).
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, o + 12)}`;
  }
  // Longest run of zero words, length >= 2, first one on ties (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function formatIp(b: Uint8Array): string {
  return b.length === 4 ? formatIpv4(b) : formatIpv6(b);
}

/** Parses an IPv4 or IPv6 literal; undefined when the text is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  const family = isIP(text);
  if (family === 4) return new Uint8Array(text.split('.').map(Number));
  if (family !== 6) return undefined;
  let s = text;
  const out = new Uint8Array(16);
  // Embedded dotted quad in the last 32 bits.
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    out.set(v4, 12);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const headWords = head ? head.split(':') : [];
  const tailWords = tail ? tail.split(':') : [];
  const words = [...headWords, ...new Array<string>(8 - headWords.length - tailWords.length).fill('0'), ...tailWords];
  for (let i = 0; i < 8; i++) {
    const w = parseInt(words[i], 16);
    if (i >= 6 && text.indexOf('.', lastColon) >= 0) continue;
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}
