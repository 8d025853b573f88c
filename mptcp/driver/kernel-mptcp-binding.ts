/**
 * The kernel-MPTCP addon (mptcp/native/kernel_mptcp.cc) as TypeScript sees it, and its loader.
 * The addon only creates sockets with protocol IPPROTO_MPTCP (Linux, RFC 8684 in the kernel);
 * Node does all I/O on the fd. Same style as binding.ts: importing this module never fails,
 * `loadKernelMptcpBinding()` returns the addon or a `BindingUnavailable` saying why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nativeDirCandidates, NOT_BUILT_FILE, type BindingUnavailable } from './binding.js';

export const IPPROTO_MPTCP = 262;
export const KERNEL_ADDON_FILE = 'mptcp_kernel.node';
/** Overrides where the addon is loaded from (a path to the .node file). */
export const KERNEL_ADDON_PATH_ENV = 'MPTCP_KERNEL_ADDON';

export interface KernelMptcpBinding {
  /**
   * A non-blocking, close-on-exec socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_MPTCP),
   * SO_REUSEADDR when `reuseAddress`, bound to `address`:`port` unless `address` is null
   * (IPv6 bound sockets are IPV6_V6ONLY). Returns the fd. Throws an Error with `code` (errno
   * name, e.g. EPROTONOSUPPORT when the kernel has no MPTCP or net.mptcp.enabled=0), `errno`
   * and `syscall`.
   */
  openMptcp(family: 4 | 6, address: string | null, port: number, reuseAddress: boolean): number;
  /** getsockopt(SO_PROTOCOL): IPPROTO_MPTCP (262) for an MPTCP socket, 6 for TCP. */
  socketProtocol(fd: number): number;
  /** close(2) for an fd that was never handed to Node. */
  closeFd(fd: number): void;
}

export function isKernelBindingUnavailable(b: KernelMptcpBinding | BindingUnavailable): b is BindingUnavailable {
  return 'unavailable' in b;
}

let cached: KernelMptcpBinding | BindingUnavailable | undefined;

/** The real addon, or why it is unavailable. Never throws; the result is cached. */
export function loadKernelMptcpBinding(): KernelMptcpBinding | BindingUnavailable {
  cached ??= probeKernelMptcpBinding();
  return cached;
}

export interface KernelProbeOptions {
  dirs?: readonly string[];
  override?: string | undefined;
  platform?: NodeJS.Platform;
}

/** Loads the addon (uncached), or says why it cannot. Never throws. */
export function probeKernelMptcpBinding(opts: KernelProbeOptions = {}): KernelMptcpBinding | BindingUnavailable {
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') return { unavailable: true, reason: `kernel MPTCP needs Linux (this is ${platform})` };
  const override = 'override' in opts ? opts.override : process.env[KERNEL_ADDON_PATH_ENV];
  const dirs = opts.dirs ?? nativeDirCandidates();
  const files = override !== undefined && override !== '' ? [override] : dirs.map((d) => join(d, 'build', 'Release', KERNEL_ADDON_FILE));
  const file = files.find((f) => existsSync(f));
  if (file === undefined) {
    const note = dirs.map((d) => join(d, 'build', NOT_BUILT_FILE)).find((f) => existsSync(f));
    const why = note !== undefined ? readFileSync(note, 'utf8').trim() : `${files.join(' or ')} does not exist`;
    return { unavailable: true, reason: `${why} (build it with: npm run build:native)` };
  }
  try {
    const required: unknown = createRequire(import.meta.url)(file);
    if (!looksLikeKernelBinding(required)) return { unavailable: true, reason: `${file} does not export openMptcp (an old placeholder build? run npm run build:native)` };
    return required;
  } catch (e) {
    return { unavailable: true, reason: `${file} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function looksLikeKernelBinding(x: unknown): x is KernelMptcpBinding {
  if (typeof x !== 'object' || x === null) return false;
  return ['openMptcp', 'socketProtocol', 'closeFd'].every((n) => typeof (x as Record<string, unknown>)[n] === 'function');
}
