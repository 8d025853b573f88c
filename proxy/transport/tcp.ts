/**
 * Plain TCP transport (diagnostic): the same proxy over one ordinary TCP connection per
 * stream, no multipath. Useful to tell a proxy problem from an MPTCP one.
 */
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';
import { SocketTransport } from './socket-transport.js';

export async function resolveOne(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const r = await lookup(host);
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}

export function createTcpTransport(): SocketTransport {
  return new SocketTransport(
    'tcp',
    {
      clientSocket: () => new Socket({ allowHalfOpen: true }),
      listen: (server, on) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: on.host, port: on.port, ipv6Only: on.host.includes(':') }, () => {
            server.removeListener('error', reject);
            resolve();
          });
        }),
    },
    resolveOne,
  );
}
