/**
 * The native raw-socket addon (mptcp/native/raw_socket.cc) as TypeScript sees it, and its
 * loader. The driver takes a `RawSocketBinding` by injection, so tests can substitute an
 * in-memory fake and run without privileges; production loads the real addon here.
 *
 * Importing this module never fails: `loadRawSocketBinding()` returns the addon or a
 * `BindingUnavailable` value saying why it cannot be used (not built, build tools missing,
 * not Linux), and `requireRawSocketBinding()` turns the latter into a clear error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** uv_poll event bits (UV_READABLE, UV_WRITABLE). */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;

/**
 * The addon's functions. Buffers are batches of fixed-size slots: packet i lives at
 * `buf[i * slotSize, i * slotSize + lengths[i])`. Every packet is a full IPv4 or IPv6 packet,
 * in both directions (see recvBatch for IPv6).
 */
export interface RawSocketBinding {
  /**
   * Opens a raw IPPROTO_TCP socket (non-blocking, close-on-exec) with header inclusion
   * (IP_HDRINCL / IPV6_HDRINCL), the classic BPF `bpfProgram` attached (8-byte
   * `struct sock_filter` entries in host byte order; see bpf.ts), bound to `bindAddress`
   * (4 or 16 bytes), optionally pinned to `device` (SO_BINDTODEVICE), its packets marked with
   * `mark` (SO_MARK, 0 = none) and socket buffers of `bufferBytes` (SO_RCVBUFFORCE, falling back
   * to SO_RCVBUF; same for send). Returns the fd. Throws an Error with `code` (errno name),
   * `errno` and `syscall` (the failed step, e.g. "setsockopt(SO_MARK)").
   */
  openRaw(family: 4 | 6, bindAddress: Uint8Array, device: string | null, mark: number, bpfProgram: Uint8Array, bufferBytes: number): number;
  /**
   * One recvmmsg(MSG_DONTWAIT) of up to `maxCount` packets into slots of `buf`. Returns the
   * number received (0 when none is waiting), or -errno for a socket error (e.g. an ICMP error
   * reported through the socket); the error is consumed and the next call goes on. A packet
   * larger than its slot is reported with length 0. IPv6 raw sockets deliver data from the TCP
   * header on: the addon writes a synthesized 40-byte IPv6 header in front of it (addresses,
   * traffic class, hop limit from ancillary data; flow label 0; no extension headers).
   */
  recvBatch(fd: number, buf: Uint8Array, slotSize: number, maxCount: number, lengths: Uint32Array): number;
  /**
   * Sends `count` packets with sendmmsg(MSG_DONTWAIT), each to the destination in its own IP
   * header. Returns how many packets were consumed: `errors[i]` is 0 when packet i left, else
   * the errno that dropped it (EMSGSIZE, ENETUNREACH, EPERM from a firewall...). Returns less
   * than `count` only when the socket buffer is full (EAGAIN): retry the rest when writable.
   */
  sendBatch(fd: number, buf: Uint8Array, slotSize: number, count: number, lengths: Uint32Array, errors: Int32Array): number;
  /**
   * Starts (or changes) a uv_poll on the fd for `events` (POLL_READABLE | POLL_WRITABLE);
   * `onEvent` runs on the event loop with the ready bits.
   */
  startPolling(fd: number, events: number, onEvent: (events: number) => void): void;
  stopPolling(fd: number): void;
  /** Stops polling and closes the fd; unknown fds are ignored. */
  close(fd: number): void;
}

/** Why the real addon cannot be used. */
export interface BindingUnavailable {
  readonly unavailable: true;
  readonly reason: string;
}

/** Thrown when the driver needs the addon and it is not there. */
export class NativeAddonError extends Error {
  constructor(reason: string) {
    super(`native addon not built: ${reason}`);
    this.name = 'NativeAddonError';
  }
}

export const ADDON_FILE = 'mptcp_raw.node';
/** Written by mptcp/native/build.sh when the build could not run or failed. */
export const NOT_BUILT_FILE = 'not-built.txt';
/** Overrides where the addon is loaded from (a path to the .node file). */
export const ADDON_PATH_ENV = 'MPTCP_RAW_ADDON';

/** The native folder, seen from this module in the source tree and in dist/. */
export function nativeDirCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', 'native'), join(here, '..', '..', '..', 'mptcp', 'native')];
}

let cached: RawSocketBinding | BindingUnavailable | undefined;

/** The real addon, or why it is unavailable. Never throws; the result is cached. */
export function loadRawSocketBinding(): RawSocketBinding | BindingUnavailable {
  cached ??= probeRawSocketBinding();
  return cached;
}

/** The real addon; throws NativeAddonError explaining why it is unavailable. */
export function requireRawSocketBinding(): RawSocketBinding {
  const b = loadRawSocketBinding();
  if (isUnavailable(b)) throw new NativeAddonError(b.reason);
  return b;
}

export function isUnavailable(b: RawSocketBinding | BindingUnavailable): b is BindingUnavailable {
  return 'unavailable' in b;
}

export interface ProbeOptions {
  /** Folders holding build/Release/mptcp_raw.node (and build/not-built.txt). */
  dirs?: readonly string[];
  /** An explicit .node path (default: $MPTCP_RAW_ADDON). */
  override?: string | undefined;
  platform?: NodeJS.Platform;
}

/** Loads the addon (uncached), or says why it cannot. Never throws. */
export function probeRawSocketBinding(opts: ProbeOptions = {}): RawSocketBinding | BindingUnavailable {
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') return { unavailable: true, reason: `raw sockets need Linux (this is ${platform})` };
  const override = 'override' in opts ? opts.override : process.env[ADDON_PATH_ENV];
  const dirs = opts.dirs ?? nativeDirCandidates();
  const files = override !== undefined && override !== '' ? [override] : dirs.map((d) => join(d, 'build', 'Release', ADDON_FILE));
  const file = files.find((f) => existsSync(f));
  if (file === undefined) {
    const note = dirs.map((d) => join(d, 'build', NOT_BUILT_FILE)).find((f) => existsSync(f));
    const why = note !== undefined ? readFileSync(note, 'utf8').trim() : `${files.join(' or ')} does not exist`;
    return { unavailable: true, reason: `${why} (build it with: npm run build:native)` };
  }
  try {
    const required: unknown = createRequire(import.meta.url)(file);
    if (!looksLikeBinding(required)) return { unavailable: true, reason: `${file} does not export the raw-socket functions` };
    return required;
  } catch (e) {
    return { unavailable: true, reason: `${file} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function looksLikeBinding(x: unknown): x is RawSocketBinding {
  if (typeof x !== 'object' || x === null) return false;
  const names = ['openRaw', 'recvBatch', 'sendBatch', 'startPolling', 'stopPolling', 'close'];
  return names.every((n) => typeof (x as Record<string, unknown>)[n] === 'function');
}

const errnoNames = new Map<number, string>();
// First name wins for aliases (EAGAIN before EWOULDBLOCK, ENOTSUP before EOPNOTSUPP...).
for (const [name, n] of Object.entries(osConstants.errno)) if (!errnoNames.has(n)) errnoNames.set(n, name);

/** "EAGAIN" for 11, "errno 999" for unknown numbers. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The errno number for a name ("EAGAIN" -> 11). */
export function errnoNumber(name: keyof typeof osConstants.errno): number {
  return osConstants.errno[name];
}
