/**
 * The per-connection path policy as the client sends it with each REQUEST (issue 6 §2): the
 * scheduler, and for each of the client's MPTCP address ids the path it belongs to with the
 * tier, weight, whether the connection may use it, and the path's download rate cap. The
 * aggregator knows the client's subflows by the address id of their MP_JOIN (0: the initial
 * subflow; RFC 8684 §3.2), which survives NAT where addresses do not. Pure codec; decoding
 * bad input returns a typed error, never throws.
 *
 * Layout (big-endian): version u8 (1) | scheduler u8 | count u8 | count x entry, where an
 * entry (12 bytes) is: address id u8 | path index u8 | tier u8 | flags u8 (bit 0: enabled) |
 * weight u16 | reserved u16 (0) | download cap in bytes per second u32 (0: none).
 */
import { isSchedulerKind, SCHEDULERS, type SchedulerKind } from '../../mptcp/sched/scheduler.js';

export const POLICY_WIRE_VERSION = 1;
export const POLICY_ENTRY_BYTES = 12;
/** More than any client has paths x addresses; keeps REQUEST within its maximum body. */
export const MAX_POLICY_ENTRIES = 24;
const FLAG_ENABLED = 1;

export interface WirePathEntry {
  /** The client's MPTCP address id for one of its local addresses. */
  addressId: number;
  /** Index of the path in the client's configuration (names the shared download cap). */
  pathIndex: number;
  tier: number;
  enabled: boolean;
  weight: number;
  /** The path's download rate cap (bytes per second), 0 for none. */
  downloadBytesPerSecond: number;
}

export interface WirePolicy {
  scheduler: SchedulerKind;
  paths: WirePathEntry[];
}

export interface PolicyWireError {
  field: string;
  message: string;
}

export function encodePolicy(p: WirePolicy): Uint8Array {
  if (p.paths.length > MAX_POLICY_ENTRIES) throw new RangeError(`at most ${MAX_POLICY_ENTRIES} path entries`);
  const out = new Uint8Array(3 + p.paths.length * POLICY_ENTRY_BYTES);
  const v = new DataView(out.buffer);
  out[0] = POLICY_WIRE_VERSION;
  out[1] = SCHEDULERS.indexOf(p.scheduler);
  out[2] = p.paths.length;
  p.paths.forEach((e, i) => {
    const o = 3 + i * POLICY_ENTRY_BYTES;
    for (const [name, value, max] of [
      ['addressId', e.addressId, 255],
      ['pathIndex', e.pathIndex, 255],
      ['tier', e.tier, 255],
      ['weight', e.weight, 0xffff],
      ['downloadBytesPerSecond', e.downloadBytesPerSecond, 0xffffffff],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value} out of range 0..${max}`);
    }
    out[o] = e.addressId;
    out[o + 1] = e.pathIndex;
    out[o + 2] = e.tier;
    out[o + 3] = e.enabled ? FLAG_ENABLED : 0;
    v.setUint16(o + 4, e.weight);
    v.setUint32(o + 8, e.downloadBytesPerSecond);
  });
  return out;
}

export function decodePolicy(b: Uint8Array): WirePolicy | PolicyWireError {
  if (b.length < 3) return { field: 'policy', message: 'policy shorter than its header' };
  if (b[0] !== POLICY_WIRE_VERSION) return { field: 'policy.version', message: `policy version ${b[0]} (we speak ${POLICY_WIRE_VERSION})` };
  const scheduler = SCHEDULERS[b[1]] as string | undefined;
  if (scheduler === undefined || !isSchedulerKind(scheduler)) return { field: 'policy.scheduler', message: `unknown scheduler ${b[1]}` };
  const count = b[2];
  if (count > MAX_POLICY_ENTRIES) return { field: 'policy.count', message: `${count} path entries (at most ${MAX_POLICY_ENTRIES})` };
  if (b.length !== 3 + count * POLICY_ENTRY_BYTES) return { field: 'policy', message: 'policy length does not match its entry count' };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const paths: WirePathEntry[] = [];
  const ids = new Set<number>();
  for (let i = 0; i < count; i++) {
    const o = 3 + i * POLICY_ENTRY_BYTES;
    const flags = b[o + 3];
    if ((flags & ~FLAG_ENABLED) !== 0) return { field: 'policy.flags', message: `unknown flags ${flags}` };
    const weight = v.getUint16(o + 4);
    if (weight === 0) return { field: 'policy.weight', message: 'weight 0' };
    if (ids.has(b[o])) return { field: 'policy.addressId', message: `address id ${b[o]} twice` };
    ids.add(b[o]);
    paths.push({ addressId: b[o], pathIndex: b[o + 1], tier: b[o + 2], enabled: (flags & FLAG_ENABLED) !== 0, weight, downloadBytesPerSecond: v.getUint32(o + 8) });
  }
  return { scheduler, paths };
}

export function isPolicyWireError(x: WirePolicy | PolicyWireError): x is PolicyWireError {
  return 'message' in x;
}
