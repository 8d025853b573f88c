/**
 * Big-endian integer access on Uint8Array, the byte order of every field we parse (RFC 791,
 * RFC 9293, RFC 8684). 32-bit reads return unsigned Numbers; 64-bit values are BigInt, used
 * only on control paths (keys, HMACs). Hot paths use the Hi/Lo u32 helpers instead.
 */
import { WireEncodeError, type WireLayer } from './result.js';

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function readU32(b: Uint8Array, o: number): number {
  return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

export function readU64(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32(b, o)) << 32n) | BigInt(readU32(b, o + 4));
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

export function writeU64(b: Uint8Array, o: number, v: bigint): void {
  writeU32(b, o, Number(v >> 32n));
  writeU32(b, o + 4, Number(v & 0xffffffffn));
}

const U64_MAX = (1n << 64n) - 1n;

/** Range checks for emitters: a value that does not fit its field is a caller bug. */
export function checkUint(layer: WireLayer, field: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) {
    throw new WireEncodeError(layer, field, `${v} is not an unsigned ${bits}-bit integer`);
  }
}

export function checkU64(layer: WireLayer, field: string, v: bigint): void {
  if (v < 0n || v > U64_MAX) {
    throw new WireEncodeError(layer, field, `${v} is not an unsigned 64-bit integer`);
  }
}

/** Same bytes? (Uint8Array has no structural equality.) */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/[^0-9a-fA-F]/g, ''), 'hex'));
}

/** A 64-bit value as its 16-digit hex text (how keys and DSNs are logged). */
export function u64Hex(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}
