/**
 * Hand-built capture files for the pcap codec tests: classic pcap in either byte order and
 * resolution, and pcapng blocks in either byte order, written field by field independently
 * of the code under test, plus a valid IPv4/TCP SYN to put inside them.
 */

/** IPv4 192.0.2.1:40000 -> 198.51.100.7:443, TCP SYN with MSS 1460; both checksums valid. */
export const IPV4_TCP_SYN_HEX = '4500002c1234400040063c5cc0000201c63364079c4001bb000003e8000000006002ffff0a070000020405b4';

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Little helper writing fixed-width integers in a chosen byte order. */
export class Fields {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [(v >>> 8) & 0xff, v & 0xff];
    this.parts.push(...(this.le ? b.reverse() : b));
    return this;
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    this.parts.push(...(this.le ? b.reverse() : b));
    return this;
  }
  u64(v: bigint): this {
    const hi = Number((BigInt.asUintN(64, v) >> 32n) & 0xffffffffn);
    const lo = Number(BigInt.asUintN(64, v) & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface ClassicRecord {
  sec: number;
  frac: number;
  data: Uint8Array;
  caplen?: number;
  origlen?: number;
}

export interface ClassicOptions {
  le: boolean;
  nano: boolean;
  linkType: number;
  snaplen?: number;
  major?: number;
  minor?: number;
  thiszone?: number;
  sigfigs?: number;
}

export function classicPcap(o: ClassicOptions, records: ClassicRecord[]): Uint8Array {
  const f = new Fields(o.le)
    .u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(o.major ?? 2)
    .u16(o.minor ?? 4)
    .u32(o.thiszone ?? 0)
    .u32(o.sigfigs ?? 0)
    .u32(o.snaplen ?? 65535)
    .u32(o.linkType);
  for (const r of records) {
    f.u32(r.sec).u32(r.frac).u32(r.caplen ?? r.data.length).u32(r.origlen ?? r.data.length).bytes(r.data);
  }
  return f.done();
}

/** One pcapng block: type, total length, body padded to 4, total length again. */
export function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  return new Fields(le).u32(type).u32(total).bytes(body).pad4().u32(total).done();
}

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

export function options(le: boolean, opts: PcapngOption[]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const f = new Fields(le);
  for (const o of opts) f.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
  return f.u16(0).u16(0).done();
}

export function shb(le: boolean, opts: PcapngOption[] = [], version: [number, number] = [1, 0]): Uint8Array {
  const body = new Fields(le).u32(0x1a2b3c4d).u16(version[0]).u16(version[1]).u64(-1n).bytes(options(le, opts)).done();
  return block(le, 0x0a0d0d0a, body);
}

export function idb(le: boolean, linkType: number, snaplen: number, opts: PcapngOption[] = []): Uint8Array {
  return block(le, 1, new Fields(le).u16(linkType).u16(0).u32(snaplen).bytes(options(le, opts)).done());
}

export function tsresol(v: number): PcapngOption {
  return { code: 9, value: Uint8Array.of(v) };
}

export function tsoffset(le: boolean, seconds: bigint): PcapngOption {
  return { code: 14, value: new Fields(le).u64(seconds).done() };
}

export function epb(le: boolean, ifid: number, units: bigint, data: Uint8Array, origlen?: number, caplen?: number): Uint8Array {
  const f = new Fields(le)
    .u32(ifid)
    .u32(Number(units >> 32n))
    .u32(Number(units & 0xffffffffn))
    .u32(caplen ?? data.length)
    .u32(origlen ?? data.length)
    .bytes(data)
    .pad4();
  // An epb_flags option, to prove options after the data are skipped.
  f.u16(2).u16(4).u32(1).u16(0).u16(0);
  return block(le, 6, f.done());
}

export function opb(le: boolean, ifid: number, units: bigint, data: Uint8Array): Uint8Array {
  const f = new Fields(le).u16(ifid).u16(0).u32(Number(units >> 32n)).u32(Number(units & 0xffffffffn));
  return block(le, 2, f.u32(data.length).u32(data.length).bytes(data).done());
}

export function spb(le: boolean, origlen: number, data: Uint8Array): Uint8Array {
  return block(le, 3, new Fields(le).u32(origlen).bytes(data).done());
}
