/**
 * The control protocol between the lab (emulator-process.ts, in the test or benchmark process)
 * and an emulator process (main.ts, in the lab's emulator namespace): one JSON object per line,
 * commands on the emulator's stdin, events on its stdout. Infinity travels as "Infinity"
 * (encodeJson/decodeJson). The emulator exits when its stdin closes.
 */
import { decodeJson, type PathConfig, type PathState } from '../link-config.js';
import type { ShaperCounters } from './shaper.js';
import type { ScriptStep } from './path-emulator.js';

export type EmulatorCommand =
  /** Apply a whole path configuration now (stops nothing: a running script goes on). */
  | { cmd: 'set'; id: number; config: PathConfig }
  /** Start a script now, replacing any running one; repeatMs > 0 repeats it (a trace). */
  | { cmd: 'script'; id: number; steps: ScriptStep[]; repeatMs: number }
  | { cmd: 'stats'; id: number }
  /** Emit a `sample` event every intervalMs (0 stops). */
  | { cmd: 'sample'; id: number; intervalMs: number };

export interface EmulatorStats {
  uplink: ShaperCounters;
  downlink: ShaperCounters;
  /** Frames in the emulator now (queued or in flight), and the pool size. */
  holding: number;
  poolSlots: number;
  /** Frames dropped because the pool was full, too large for a slot, or the send failed. */
  droppedPool: number;
  droppedOversize: number;
  sendErrors: number;
  state: PathState;
}

/** Wall-clock times are ms since the epoch with sub-ms precision (performance.timeOrigin based). */
export type EmulatorEvent =
  | { ev: 'ready'; pid: number }
  | { ev: 'ok'; id: number }
  | { ev: 'error'; id: number | null; message: string }
  | { ev: 'stats'; id: number; stats: EmulatorStats }
  /** Cumulative delivered bytes per direction, and the frames queued at the bottleneck. */
  | { ev: 'sample'; t: number; uplinkBytes: number; downlinkBytes: number; uplinkQueue: number; downlinkQueue: number }
  /** The path changed state (by a command or a script step). */
  | { ev: 'state'; t: number; state: PathState };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Parses a line into a command, or returns an error message. */
export function parseCommand(line: string): EmulatorCommand | string {
  let v: unknown;
  try {
    v = decodeJson(line);
  } catch (e) {
    return `not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!isObject(v) || typeof v.id !== 'number') return 'a command is an object with a numeric id';
  switch (v.cmd) {
    case 'set':
      return isObject(v.config) ? (v as unknown as EmulatorCommand) : 'set: config missing';
    case 'script':
      return Array.isArray(v.steps) && typeof v.repeatMs === 'number' ? (v as unknown as EmulatorCommand) : 'script: steps and repeatMs needed';
    case 'stats':
      return v as unknown as EmulatorCommand;
    case 'sample':
      return typeof v.intervalMs === 'number' ? (v as unknown as EmulatorCommand) : 'sample: intervalMs needed';
    default:
      return `unknown command ${JSON.stringify(v.cmd)}`;
  }
}

/** Parses an event line from the emulator (undefined for anything else). */
export function parseEvent(line: string): EmulatorEvent | undefined {
  try {
    const v = decodeJson(line);
    return isObject(v) && typeof v.ev === 'string' ? (v as unknown as EmulatorEvent) : undefined;
  } catch {
    return undefined;
  }
}

/** Now as wall-clock ms since the epoch, sub-millisecond precision. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
