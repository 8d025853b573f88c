/**
 * Kernel MPTCP transport (Linux): sockets with protocol IPPROTO_MPTCP made by the native addon
 * (mptcp/native/kernel_mptcp.cc) and handed to Node by fd: net.Server.listen({fd}) for
 * listeners, new net.Socket({fd}).connect() for clients. The kernel then opens extra subflows
 * as its path manager is told (`ip mptcp endpoint ... subflow`, `ip mptcp limits`); a peer
 * without MPTCP gets plain TCP (RFC 8684 §3.7 fallback).
 */
import { Socket } from 'node:net';
import { isIP } from 'node:net';
import { isKernelBindingUnavailable, loadKernelMptcpBinding, type KernelMptcpBinding } from '../../mptcp/driver/kernel-mptcp-binding.js';
import { SocketTransport } from './socket-transport.js';
import { resolveOne } from './tcp.js';
import { TransportUnavailableError } from './transport.js';

export function createKernelMptcpTransport(binding?: KernelMptcpBinding): SocketTransport {
  let b = binding;
  if (b === undefined) {
    const loaded = loadKernelMptcpBinding();
    if (isKernelBindingUnavailable(loaded)) throw new TransportUnavailableError('kernel', loaded.reason);
    b = loaded;
  }
  const addon = b;
  return new SocketTransport(
    'kernel',
    {
      clientSocket(family) {
        const fd = addon.openMptcp(family, null, 0, false);
        return new Socket({ fd, allowHalfOpen: true, readable: true, writable: true });
      },
      listen(server, on) {
        const family = isIP(on.host);
        if (family === 0) return Promise.reject(new Error(`kernel transport listens on an IP literal, not '${on.host}'`));
        const fd = addon.openMptcp(family === 6 ? 6 : 4, on.host, on.port, true);
        return new Promise<void>((resolve, reject) => {
          server.once('error', (e) => {
            addon.closeFd(fd);
            reject(e);
          });
          server.listen({ fd }, () => {
            server.removeAllListeners('error');
            server.on('error', () => undefined);
            resolve();
          });
        });
      },
    },
    resolveOne,
  );
}
