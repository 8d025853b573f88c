/**
 * UserspaceSocket: a StreamSocket (stream-socket.ts) over one connection of our userspace TCP,
 * with net.Socket's address info and the engine's statistics; UserspaceServer (listen,
 * 'connection') and connectUserspace.
 */
import { EventEmitter } from 'node:events';
import { formatIp, parseIp } from '../wire/ip-address.js';
import type { HostConnection } from '../tcp/host.js';
import type { TcpStats } from '../tcp/tcp-types.js';
import type { StackRuntime } from './runtime.js';
import { StreamSocket } from './stream-socket.js';

export { UserspaceSocketError } from './stream-socket.js';

export class UserspaceSocket extends StreamSocket {
  constructor(
    runtime: StackRuntime,
    readonly connection: HostConnection,
    connected: boolean,
  ) {
    super(runtime, connection, connection.tcp, connected);
  }

  get remoteAddress(): string {
    return formatIp(this.connection.remote);
  }
  get remotePort(): number {
    return this.connection.tcp.remotePort;
  }
  get localAddress(): string {
    return formatIp(this.connection.local);
  }
  get localPort(): number {
    return this.connection.tcp.localPort;
  }
  get remoteFamily(): 'IPv4' | 'IPv6' {
    return this.connection.remote.length === 4 ? 'IPv4' : 'IPv6';
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.remoteFamily, port: this.localPort };
  }

  stats(): TcpStats {
    return this.connection.tcp.stats();
  }

  protected describePeer(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }
}

export class UserspaceServer extends EventEmitter {
  constructor(private readonly runtime: StackRuntime) {
    super();
  }

  listen(port: number): this {
    this.runtime.host.listen(port, (c) => {
      const s = new UserspaceSocket(this.runtime, c, true);
      this.emit('connection', s);
    });
    queueMicrotask(() => this.emit('listening'));
    return this;
  }
}

/** Opens a connection from `localAddress` to `host:port` (IP literals; resolution is the proxy's job). */
export function connectUserspace(runtime: StackRuntime, opts: { host: string; port: number; localAddress: string }): UserspaceSocket {
  const remote = parseIp(opts.host);
  const local = parseIp(opts.localAddress);
  if (!remote || !local) throw new TypeError(`connect: ${opts.host} and ${opts.localAddress} must be IP addresses`);
  const c = runtime.host.connect(runtime.now(), local, remote, opts.port);
  const s = new UserspaceSocket(runtime, c, false);
  runtime.wake();
  return s;
}
