/**
 * Transport selection by configuration (`transport: kernel | tcp | userspace`). The default
 * is 'userspace': our MPTCP stack on raw sockets (proxy/transport/userspace.ts).
 *
 * The userspace module is loaded on demand (it pulls in the stack and the raw-socket driver),
 * after a preflight that names the fix when it cannot run here: not Linux, not root (raw
 * sockets and nftables), or the native addon not built. A missing module and one that fails
 * to load are told apart.
 */
import { isUnavailable, loadRawSocketBinding } from '../../mptcp/driver/binding.js';
import { createKernelMptcpTransport } from './kernel.js';
import { createTcpTransport } from './tcp.js';
import { TransportUnavailableError, type StreamTransport, type TransportKind } from './transport.js';
import type { UserspaceTransportOptions } from './userspace.js';

export const DEFAULT_TRANSPORT: TransportKind = 'userspace';

/** Options a transport takes from the configuration (only the userspace one has any). */
export interface TransportOptions {
  userspace?: UserspaceTransportOptions;
}

const OTHER_TRANSPORTS = "or set 'transport: kernel' (Linux kernel MPTCP) in the config file";

/** Why the userspace transport cannot run here (with the fix), or undefined when it can. */
export function userspacePreflight(): { reason: string; fix: string } | undefined {
  if (process.platform !== 'linux') return { reason: `raw sockets of this kind need Linux (this is ${process.platform})`, fix: `use 'transport: tcp' in the config file` };
  if (process.geteuid?.() !== 0) return { reason: 'needs root (raw sockets, and nftables rules that keep the kernel from resetting our connections)', fix: `run as root (sudo), ${OTHER_TRANSPORTS}` };
  const b = loadRawSocketBinding();
  if (isUnavailable(b)) return { reason: `native addon not built: ${b.reason}`, fix: `install python3, make and g++ and run \`npm run build:native\`, ${OTHER_TRANSPORTS}` };
  return undefined;
}

/** The userspace transport's module (a variable, so that a missing file is a clear error). */
const USERSPACE_MODULE = './userspace.js';

async function loadUserspace(opts: UserspaceTransportOptions): Promise<StreamTransport> {
  const pre = userspacePreflight();
  if (pre) throw new TransportUnavailableError('userspace', pre.reason, pre.fix);
  let mod: unknown;
  try {
    mod = await import(USERSPACE_MODULE);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes('userspace');
    throw new TransportUnavailableError('userspace', missing ? `module ${USERSPACE_MODULE} is missing from this build` : `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
  const create = (mod as { createUserspaceTransport?: unknown }).createUserspaceTransport;
  if (typeof create !== 'function') throw new TransportUnavailableError('userspace', `${USERSPACE_MODULE} does not export createUserspaceTransport`);
  return await (create as (o: UserspaceTransportOptions) => StreamTransport | Promise<StreamTransport>)(opts);
}

export async function createTransport(kind: TransportKind, opts: TransportOptions = {}): Promise<StreamTransport> {
  switch (kind) {
    case 'kernel':
      return createKernelMptcpTransport();
    case 'tcp':
      return createTcpTransport();
    case 'userspace':
      return loadUserspace(opts.userspace ?? {});
  }
}
