/**
 * The client's local listeners. A mixed listener reads the first byte of each connection:
 * 0x05 is SOCKS5 (RFC 1928 §3), an ASCII letter starts an HTTP request line (RFC 9112 §3);
 * anything else (SOCKS4's 0x04, TLS's 0x16, garbage) is counted and closed. SOCKS-only and
 * HTTP-only listeners skip the test. Connections allow half-open so each direction's FIN is
 * relayed on its own.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'node:net';
import type { Endpoint } from '../transport/transport.js';
import type { ClientCounters } from './counters.js';

export type ListenerMode = 'mixed' | 'socks' | 'http';

export interface LocalListener {
  address: Endpoint;
  mode: ListenerMode;
  /** Application connections open on this listener now. */
  active(): number;
  close(): Promise<void>;
}

export function isHttpStart(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

export async function listenLocal(
  on: Endpoint,
  mode: ListenerMode,
  handlers: { socks: (s: Socket) => void; http: HttpServer; counters: ClientCounters; handshakeTimeoutMs: number },
): Promise<LocalListener> {
  const sockets = new Set<Socket>();
  const server = new Server({ allowHalfOpen: true, noDelay: true }, (socket) => {
    handlers.counters.inc('connections');
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (mode === 'socks') return handlers.socks(socket);
    if (mode === 'http') return void handlers.http.emit('connection', socket);
    const timer = setTimeout(() => {
      handlers.counters.inc('handshakeTimeout');
      socket.destroy();
    }, handlers.handshakeTimeoutMs);
    const onEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.once('end', onEnd);
    socket.once('readable', () => {
      clearTimeout(timer);
      socket.removeListener('end', onEnd);
      const first = socket.read() as Buffer | null;
      if (first === null || first.length === 0) return void socket.destroy();
      socket.unshift(first);
      if (first[0] === 0x05) handlers.socks(socket);
      else if (isHttpStart(first[0])) handlers.http.emit('connection', socket);
      else {
        handlers.counters.inc('unknownProtocol');
        socket.destroy();
      }
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: on.host, port: on.port, ipv6Only: on.host.includes(':') }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const a = server.address();
  return {
    address: a !== null && typeof a === 'object' ? { host: a.address, port: a.port } : on,
    mode,
    active: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
