/**
 * Transport selection by configuration (`transport: kernel | tcp | userspace`).
 *
 * The userspace slot: issue 4 adds proxy/transport/userspace.ts exporting
 * `createUserspaceTransport(): StreamTransport | Promise<StreamTransport>` (our MPTCP stack on
 * raw sockets). Until that file exists, selecting 'userspace' fails with a clear message. The
 * default is 'kernel' for now and becomes 'userspace' when issue 4 lands.
 */
import { createKernelMptcpTransport } from './kernel.js';
import { createTcpTransport } from './tcp.js';
import { TransportUnavailableError, type StreamTransport, type TransportKind } from './transport.js';

export const DEFAULT_TRANSPORT: TransportKind = 'kernel';

/** The module the userspace transport will live in (a variable: it does not exist yet). */
const USERSPACE_MODULE = './userspace.js';

async function loadUserspace(): Promise<StreamTransport> {
  let mod: unknown;
  try {
    mod = await import(USERSPACE_MODULE);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes('userspace');
    throw new TransportUnavailableError('userspace', missing ? 'not implemented yet (issue 4)' : `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
  const create = (mod as { createUserspaceTransport?: unknown }).createUserspaceTransport;
  if (typeof create !== 'function') throw new TransportUnavailableError('userspace', `${USERSPACE_MODULE} does not export createUserspaceTransport`);
  return (await (create as () => StreamTransport | Promise<StreamTransport>)());
}

export async function createTransport(kind: TransportKind): Promise<StreamTransport> {
  switch (kind) {
    case 'kernel':
      return createKernelMptcpTransport();
    case 'tcp':
      return createTcpTransport();
    case 'userspace':
      return loadUserspace();
  }
}
