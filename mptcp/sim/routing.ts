/**
 * A simulated host's route table: which outgoing link a packet takes, chosen by its source and
 * destination addresses read straight from the IPv4 or IPv6 header, so that parallel paths
 * between the same two hosts (multipath) are distinct links picked by source address. A
 * (source, destination) route wins over a destination-only one. Lookups allocate nothing.
 */
import { formatIp } from '../wire/ip-address.js';
import type { Link } from './link.js';

interface Route {
  readonly src: Uint8Array | undefined;
  readonly dst: Uint8Array;
  readonly link: Link;
}

export class RouteTable {
  /** Routes bucketed by a hash of the destination address. */
  private readonly buckets = new Map<number, Route[]>();

  /** Adds a route (`src` undefined: any source); throws if one for the same addresses exists. */
  add(src: Uint8Array | undefined, dst: Uint8Array, link: Link): void {
    checkAddress(dst, 'route dst');
    if (src !== undefined) {
      checkAddress(src, 'route src');
      if (src.length !== dst.length) throw new Error('route src and dst are of different families');
    }
    const key = hashAddress(dst, 0, dst.length);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = []));
    const clash = bucket.find((r) => sameBytes(r.dst, dst) && (r.src === undefined ? src === undefined : src !== undefined && sameBytes(r.src, src)));
    if (clash !== undefined) {
      const from = src === undefined ? '*' : formatIp(src);
      throw new Error(`host ${link.from.name} already has a route ${from} -> ${formatIp(dst)} (link ${clash.link.name})`);
    }
    bucket.push({ src: src?.slice(), dst: dst.slice(), link });
  }

  /** The link for the IP packet in buf[0, len): the (src, dst) route, else the dst-only route. */
  lookup(buf: Uint8Array, len: number): Link | undefined {
    const version = buf[0] >> 4;
    let srcOff: number;
    let dstOff: number;
    let n: number;
    if (version === 4 && len >= 20) {
      srcOff = 12;
      dstOff = 16;
      n = 4;
    } else if (version === 6 && len >= 40) {
      srcOff = 8;
      dstOff = 24;
      n = 16;
    } else {
      return undefined;
    }
    const bucket = this.buckets.get(hashAddress(buf, dstOff, n));
    if (bucket === undefined) return undefined;
    let fallback: Link | undefined;
    for (let i = 0; i < bucket.length; i++) {
      const r = bucket[i];
      if (r.dst.length !== n || !equalAt(r.dst, buf, dstOff)) continue;
      if (r.src === undefined) fallback = r.link;
      else if (r.src.length === n && equalAt(r.src, buf, srcOff)) return r.link;
    }
    return fallback;
  }
}

export function checkAddress(a: Uint8Array, what: string): void {
  if (a.length !== 4 && a.length !== 16) throw new Error(`${what}: an address has ${a.length} bytes (4 or 16 expected)`);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && equalAt(a, b, 0);
}

function equalAt(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

function hashAddress(b: Uint8Array, off: number, n: number): number {
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[off + i], 0x01000193);
  return h >>> 0;
}
