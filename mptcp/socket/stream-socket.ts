/**
 * StreamSocket: the Node Duplex over one connection of a sans-IO stream engine (a TCP
 * connection of our userspace TCP, or an MPTCP connection), familiar to net.Socket users
 * (end, destroy, resetAndDestroy, 'connect'/'end'/'close' events, backpressure through
 * write()'s return value). Data moves between the stream and the engine in pump(), which the
 * runtime calls after every batch of packets or timers. TCP and MPTCP sockets add their own
 * addressing and statistics on top (userspace-socket.ts, mptcp-socket.ts).
 */
import { Duplex } from 'node:stream';
import type { ConnectionObserver, StackRuntime, StreamStack } from './runtime.js';

export class UserspaceSocketError extends Error {
  constructor(
    readonly code: 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'ECONNABORTED',
    message: string,
  ) {
    super(message);
    this.name = 'UserspaceSocketError';
  }
}

/** What a socket needs from its engine (TcpConnection and MptcpConnection both offer it). */
export interface StreamEngine {
  write(data: Uint8Array): number;
  read(now: number, max?: number): Uint8Array | null;
  shutdown(): void;
  abort(): void;
  pollEvent(): { type: string; reason?: string } | undefined;
  readonly readableBytes: number;
  /** Closed and nothing left to send. */
  readonly isClosed: boolean;
}

export abstract class StreamSocket extends Duplex implements ConnectionObserver {
  connecting: boolean;
  private pendingWrite: { chunk: Uint8Array; cb: (err?: Error | null) => void } | null = null;
  private readPaused = false;
  private ended = false;
  private finished = false;
  private resetError: UserspaceSocketError | null = null;
  private eofPushed = false;

  protected constructor(
    protected readonly runtime: StackRuntime<StreamStack>,
    key: object,
    protected readonly engine: StreamEngine,
    connected: boolean,
  ) {
    super({ allowHalfOpen: true });
    this.connecting = !connected;
    runtime.observe(key, this);
  }

  /**
   * The engine's connection is over: both directions acknowledged, or reset. 'close' can come
   * before this (as a kernel socket closes while its send buffer still drains): data written
   * before end() may be in flight until then, and tearing the stack down earlier resets it.
   */
  get settled(): boolean {
    return this.engine.isClosed;
  }

  /** Where the connection goes, for error messages. */
  protected abstract describePeer(): string;

  /** Events beyond the common ones (MPTCP subflow and address events). */
  protected onEngineEvent(_e: { type: string; reason?: string }): void {
    /* none by default */
  }

  /** Nagle is always off in our engine; kept for net.Socket compatibility. */
  setNoDelay(_noDelay = true): this {
    return this;
  }

  /** Aborts the connection (RST; MP_FASTCLOSE for MPTCP) and destroys the stream. */
  resetAndDestroy(): this {
    this.engine.abort();
    this.runtime.wake();
    this.destroy();
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = this.engine.write(data);
    this.runtime.wake();
    if (n === data.length) cb();
    else this.pendingWrite = { chunk: data.subarray(n), cb };
  }

  override _read(): void {
    this.readPaused = false;
    this.pump(this.runtime.now());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.engine.shutdown();
    this.runtime.wake();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const engine = this.engine;
    // Like closing a kernel socket: a graceful close when nothing is pending, abort otherwise.
    if (!engine.isClosed) {
      if (err || engine.readableBytes > 0 || this.pendingWrite) engine.abort();
      else engine.shutdown();
      this.runtime.wake();
    }
    this.pendingWrite?.cb(err ?? new UserspaceSocketError('ECONNABORTED', 'socket destroyed'));
    this.pendingWrite = null;
    cb(err);
  }

  /** Moves events and data between the engine and the stream. */
  pump(now: number): boolean {
    const engine = this.engine;
    for (let e = engine.pollEvent(); e; e = engine.pollEvent()) {
      switch (e.type) {
        case 'connected':
          this.connecting = false;
          this.emit('connect');
          this.emit('ready');
          break;
        case 'end':
          this.ended = true;
          break;
        case 'closed':
          this.finished = true;
          break;
        case 'reset': {
          const code = e.reason === 'refused' ? 'ECONNREFUSED' : e.reason === 'timeout' ? 'ETIMEDOUT' : e.reason === 'aborted' ? 'ECONNABORTED' : 'ECONNRESET';
          this.resetError = new UserspaceSocketError(code, `${code}: ${this.describePeer()}${e.reason && code === 'ECONNRESET' ? ` (${e.reason})` : ''}`);
          break;
        }
        default:
          this.onEngineEvent(e);
      }
    }
    if (!this.readPaused) {
      for (let d = engine.read(now, 256 * 1024); d; d = engine.read(now, 256 * 1024)) {
        if (!this.push(d)) {
          this.readPaused = true;
          break;
        }
      }
      this.runtime.wake(); // reading may open the receive window
    }
    if (this.ended && engine.readableBytes === 0 && !this.eofPushed) {
      this.eofPushed = true;
      this.push(null); // 'end' follows once the application has read what is buffered
    }
    if (this.pendingWrite) {
      const p = this.pendingWrite;
      const n = engine.write(p.chunk);
      if (n === p.chunk.length) {
        this.pendingWrite = null;
        p.cb();
      } else p.chunk = p.chunk.subarray(n);
      if (n > 0) this.runtime.wake();
    }
    // As with a kernel socket, data received before a reset is still delivered, then the error.
    if (this.resetError && (engine.readableBytes === 0 || this.destroyed)) {
      if (!this.destroyed) this.destroy(this.resetError);
      return false;
    }
    // Both directions done in the engine: the stream closes by itself (autoDestroy) once the
    // application has consumed the data and finished writing, as net.Socket does.
    if (this.destroyed || (this.finished && this.eofPushed && this.writableFinished)) return false;
    return true;
  }
}
