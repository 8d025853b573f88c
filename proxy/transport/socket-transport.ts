/**
 * The shared part of the two transports that hand Node a net.Socket (kernel MPTCP and plain
 * TCP): connecting with a timeout, listening, accepting, counting. Each transport only says
 * how a socket is made (`SocketFactory`). Every stream allows half-open (our FIN and the
 * peer's are independent) and has Nagle off (the proxy writes whole frames).
 */
import type { Socket } from 'node:net';
import { isIP, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Endpoint, StreamInfo, StreamListener, StreamTransport, TransportKind, TransportStats } from './transport.js';

export interface SocketFactory {
  /** An unconnected client socket for `family` (4 or 6). */
  clientSocket(family: 4 | 6): Socket;
  /** Starts `server` listening on `on`; resolves when listening. */
  listen(server: Server, on: Endpoint): Promise<void>;
}

function endpointOf(address: string | undefined, port: number | undefined): Endpoint | undefined {
  return address !== undefined && port !== undefined ? { host: address, port } : undefined;
}

export class SocketTransport implements StreamTransport {
  private readonly counters: TransportStats;
  private readonly servers = new Set<Server>();

  constructor(
    readonly kind: TransportKind,
    private readonly factory: SocketFactory,
    private readonly lookup: (host: string) => Promise<{ address: string; family: 4 | 6 }>,
  ) {
    this.counters = { kind, opened: 0, openFailed: 0, accepted: 0, active: 0 };
  }

  async connect(to: Endpoint, timeoutMs: number): Promise<Duplex> {
    let target: { address: string; family: 4 | 6 };
    const fam = isIP(to.host);
    try {
      target = fam === 0 ? await this.lookup(to.host) : { address: to.host, family: fam === 6 ? 6 : 4 };
    } catch (e) {
      this.counters.openFailed++;
      throw e;
    }
    let socket: Socket;
    try {
      socket = this.factory.clientSocket(target.family);
    } catch (e) {
      this.counters.openFailed++;
      throw e;
    }
    return new Promise<Duplex>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect to ${to.host}:${to.port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
        socket.destroy();
        fail(err);
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.removeListener('connect', ok);
        this.counters.openFailed++;
        reject(err);
      };
      const ok = () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        socket.setNoDelay(true);
        this.counters.opened++;
        this.track(socket);
        resolve(socket);
      };
      socket.once('error', fail);
      socket.once('connect', ok);
      socket.connect(to.port, target.address);
    });
  }

  async listen(on: Endpoint, onStream: (stream: Duplex, info: StreamInfo) => void): Promise<StreamListener> {
    const server = new Server({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, (s) => {
      this.counters.accepted++;
      this.track(s);
      onStream(s, { remote: endpointOf(s.remoteAddress, s.remotePort), local: endpointOf(s.localAddress, s.localPort) });
    });
    // A failed accept (EMFILE...) must not kill the process.
    server.on('error', () => undefined);
    await this.factory.listen(server, on);
    this.servers.add(server);
    const addr = server.address();
    const address = addr !== null && typeof addr === 'object' ? { host: addr.address, port: addr.port } : on;
    return {
      address,
      close: () =>
        new Promise<void>((resolve) => {
          this.servers.delete(server);
          server.close(() => resolve());
        }),
    };
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
  }

  private track(s: Socket): void {
    this.counters.active++;
    s.once('close', () => this.counters.active--);
  }
}
