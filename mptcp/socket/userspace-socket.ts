/**
 * UserspaceSocket: a Node Duplex over one connection of our userspace TCP, familiar to
 * net.Socket users (connect, end, destroy, resetAndDestroy, setNoDelay, address info,
 * 'connect'/'end'/'close' events, backpressure through write()'s return value), and
 * UserspaceServer (listen, 'connection'). Data moves between the stream and the engine in
 * pump(), which the runtime calls after every batch of packets or timers.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { formatIp, parseIp } from '../wire/ip-address.js';
import type { HostConnection } from '../tcp/host.js';
import type { TcpStats } from '../tcp/tcp-types.js';
import type { ConnectionObserver, StackRuntime } from './runtime.js';

export class UserspaceSocketError extends Error {
  constructor(
    readonly code: 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'ECONNABORTED',
    message: string,
  ) {
    super(message);
    this.name = 'UserspaceSocketError';
  }
}

export class UserspaceSocket extends Duplex implements ConnectionObserver {
  connecting: boolean;
  private pendingWrite: { chunk: Uint8Array; cb: (err?: Error | null) => void } | null = null;
  private readPaused = false;
  private ended = false;
  private finished = false;
  private resetError: UserspaceSocketError | null = null;
  private eofPushed = false;

  constructor(
    private readonly runtime: StackRuntime,
    readonly connection: HostConnection,
    connected: boolean,
  ) {
    super({ allowHalfOpen: true });
    this.connecting = !connected;
    runtime.observe(connection, this);
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

  /** Nagle is always off in our engine; kept for net.Socket compatibility. */
  setNoDelay(_noDelay = true): this {
    return this;
  }

  stats(): TcpStats {
    return this.connection.tcp.stats();
  }

  /** Sends a RST and destroys the stream (as net.Socket.resetAndDestroy). */
  resetAndDestroy(): this {
    this.connection.tcp.abort();
    this.runtime.wake();
    this.destroy();
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = this.connection.tcp.write(data);
    this.runtime.wake();
    if (n === data.length) cb();
    else this.pendingWrite = { chunk: data.subarray(n), cb };
  }

  override _read(): void {
    this.readPaused = false;
    this.pump(this.runtime.now());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.connection.tcp.shutdown();
    this.runtime.wake();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const tcp = this.connection.tcp;
    // Like closing a kernel socket: a graceful FIN when nothing is pending, RST otherwise.
    if (!tcp.isClosed) {
      if (err || tcp.readableBytes > 0 || this.pendingWrite) tcp.abort();
      else tcp.shutdown();
      this.runtime.wake();
    }
    this.pendingWrite?.cb(err ?? new UserspaceSocketError('ECONNABORTED', 'socket destroyed'));
    this.pendingWrite = null;
    cb(err);
  }

  /** Moves events and data between the engine and the stream. */
  pump(now: number): boolean {
    const tcp = this.connection.tcp;
    for (let e = tcp.pollEvent(); e; e = tcp.pollEvent()) {
      switch (e.type) {
        case 'connected':
          this.connecting = false;
          this.emit('connect');
          this.emit('ready');
          break;
        case 'writable':
          break;
        case 'end':
          this.ended = true;
          break;
        case 'closed':
          this.finished = true;
          break;
        case 'reset': {
          const code = e.reason === 'refused' ? 'ECONNREFUSED' : e.reason === 'timeout' ? 'ETIMEDOUT' : e.reason === 'aborted' ? 'ECONNABORTED' : 'ECONNRESET';
          this.resetError = new UserspaceSocketError(code, `${code}: ${this.remoteAddress}:${this.remotePort}`);
          break;
        }
        case 'readable':
          break;
      }
    }
    if (!this.readPaused) {
      for (let d = tcp.read(now, 256 * 1024); d; d = tcp.read(now, 256 * 1024)) {
        if (!this.push(d)) {
          this.readPaused = true;
          break;
        }
      }
      this.runtime.wake(); // reading may open the receive window
    }
    if (this.ended && tcp.readableBytes === 0 && !this.eofPushed) {
      this.eofPushed = true;
      this.push(null); // 'end' follows once the application has read what is buffered
    }
    if (this.pendingWrite) {
      const p = this.pendingWrite;
      const n = tcp.write(p.chunk);
      if (n === p.chunk.length) {
        this.pendingWrite = null;
        p.cb();
      } else p.chunk = p.chunk.subarray(n);
      if (n > 0) this.runtime.wake();
    }
    // As with a kernel socket, data received before a reset is still delivered, then the error.
    if (this.resetError && (tcp.readableBytes === 0 || this.destroyed)) {
      if (!this.destroyed) this.destroy(this.resetError);
      return false;
    }
    // Both directions done in the engine: the stream closes by itself (autoDestroy) once the
    // application has consumed the data and finished writing, as net.Socket does.
    if (this.destroyed || (this.finished && this.eofPushed && this.writableFinished)) return false;
    return true;
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
