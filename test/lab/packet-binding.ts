/**
 * The lab's AF_PACKET addon (mptcp/native/packet_io.cc, built as mptcp_packet.node) as
 * TypeScript sees it, and its loader. The emulator takes a PacketBinding by injection; importing
 * this module never fails: loadPacketBinding() returns the addon or a PacketBindingUnavailable
 * value saying why it cannot be used, and requirePacketBinding() turns that into an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** uv_poll event bits. */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;

/**
 * Frames live in a pool: a Uint8Array of `slotSize`-byte slots, frame in slot k at
 * [k * slotSize, k * slotSize + length). Batches name the slots to use.
 */
export interface PacketBinding {
  /**
   * An AF_PACKET SOCK_RAW socket (non-blocking, close-on-exec) bound to interface `ifname`,
   * receiving every protocol there but not its own transmissions (PACKET_IGNORE_OUTGOING), with
   * socket buffers of `bufferBytes` (0 = system default). Returns the fd; throws an Error with
   * `code`, `errno` and `syscall` (the failed step).
   */
  openPacket(ifname: string, bufferBytes: number): number;
  /**
   * One recvmmsg(MSG_DONTWAIT) of up to `count` (<= 1024) whole Ethernet frames, frame i into
   * slot slots[i]; lengths[i] = its length, 0 when it did not fit a slot; ages[i] = ms since the
   * kernel received it (kernel timestamp; 0 when unknown). Returns how many arrived (0 when none
   * waits) or -errno.
   */
  recvInto(fd: number, pool: Uint8Array, slotSize: number, slots: Uint32Array, count: number, lengths: Uint32Array, ages: Float64Array): number;
  /**
   * Sends frame i from slot slots[i] (lengths[i] bytes) out of the bound interface, i < count
   * (<= 1024), with sendmmsg. errors[i] = 0 when it left, else its errno (frame dropped).
   * Returns how many frames were consumed: less than count only when the buffer is full.
   */
  sendFrom(fd: number, pool: Uint8Array, slotSize: number, slots: Uint32Array, count: number, lengths: Uint32Array, errors: Int32Array): number;
  /** A CLOCK_MONOTONIC timerfd; readable when it expires (poll it with startPolling). */
  timerCreate(): number;
  /** Clears a pending expiry and fires once after delayMs (<= 0: at once; Infinity: never). */
  timerArm(fd: number, delayMs: number): void;
  /** Starts (or changes) a uv_poll for `events`; `onEvent` gets the ready bits. */
  startPolling(fd: number, events: number, onEvent: (events: number) => void): void;
  stopPolling(fd: number): void;
  /** Stops polling and closes a socket or timer; unknown fds are ignored. */
  close(fd: number): void;
}

export interface PacketBindingUnavailable {
  readonly unavailable: true;
  readonly reason: string;
}

export const PACKET_ADDON_FILE = 'mptcp_packet.node';
/** Overrides where the addon is loaded from (a path to the .node file). */
export const PACKET_ADDON_ENV = 'MPTCP_PACKET_ADDON';

function nativeDirs(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // test/lab in the source tree, dist/test/lab when built.
  return [join(here, '..', '..', 'mptcp', 'native'), join(here, '..', '..', '..', 'mptcp', 'native')];
}

let cached: PacketBinding | PacketBindingUnavailable | undefined;

export function isPacketBindingUnavailable(b: PacketBinding | PacketBindingUnavailable): b is PacketBindingUnavailable {
  return 'unavailable' in b;
}

/** The real addon, or why it is unavailable. Never throws; cached. */
export function loadPacketBinding(): PacketBinding | PacketBindingUnavailable {
  cached ??= probePacketBinding();
  return cached;
}

export function requirePacketBinding(): PacketBinding {
  const b = loadPacketBinding();
  if (isPacketBindingUnavailable(b)) throw new Error(`packet I/O addon unavailable: ${b.reason}`);
  return b;
}

/** Loads the addon (uncached), or says why it cannot. Never throws. */
export function probePacketBinding(dirs: readonly string[] = nativeDirs(), override = process.env[PACKET_ADDON_ENV]): PacketBinding | PacketBindingUnavailable {
  if (process.platform !== 'linux') return { unavailable: true, reason: `AF_PACKET needs Linux (this is ${process.platform})` };
  const files = override !== undefined && override !== '' ? [override] : dirs.map((d) => join(d, 'build', 'Release', PACKET_ADDON_FILE));
  const file = files.find((f) => existsSync(f));
  if (file === undefined) {
    const note = dirs.map((d) => join(d, 'build', 'not-built.txt')).find((f) => existsSync(f));
    const why = note !== undefined ? readFileSync(note, 'utf8').trim() : `${files.join(' or ')} does not exist`;
    return { unavailable: true, reason: `${why} (build it with: npm run build:native)` };
  }
  try {
    const required: unknown = createRequire(import.meta.url)(file);
    if (!looksLikeBinding(required)) return { unavailable: true, reason: `${file} does not export the packet I/O functions (an old placeholder build? run npm run build:native)` };
    return required;
  } catch (e) {
    return { unavailable: true, reason: `${file} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function looksLikeBinding(x: unknown): x is PacketBinding {
  if (typeof x !== 'object' || x === null) return false;
  const names = ['openPacket', 'recvInto', 'sendFrom', 'timerCreate', 'timerArm', 'startPolling', 'stopPolling', 'close'];
  return names.every((n) => typeof (x as Record<string, unknown>)[n] === 'function');
}
