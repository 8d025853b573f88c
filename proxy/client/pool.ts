/**
 * The pool of pre-established, authenticated streams to the aggregator, so that a new
 * proxied connection costs only its REQUEST/REPLY exchange. Streams enter the pool once the
 * aggregator's HELLO_OK has arrived. The target size adapts to demand: the number of requests
 * in the last second (a burst of page loads keeps that many warm), clamped to [min, max];
 * it is refilled in the background with a bounded number of opens in flight, backing off
 * exponentially (up to 2 s) while the aggregator cannot be reached. Idle streams are
 * replaced before the aggregator's own pool timeout closes them.
 */
import type { Duplex } from 'node:stream';
import { readFrame } from '../protocol/frame-stream.js';

export interface PoolOptions {
  min: number;
  max: number;
  idleMs: number;
  helloTimeoutMs: number;
  open: () => Promise<Duplex>;
  onOpenError?: (e: unknown) => void;
}

interface Entry {
  stream: Duplex;
  since: number;
  cleanup: () => void;
}

/** A stream handed out: `helloPending` when its HELLO_OK has not been read yet. */
export interface Lease {
  stream: Duplex;
  helloPending: boolean;
  fromPool: boolean;
}

const MAX_OPENING = 4;
const MAX_BACKOFF_MS = 2000;

export class StreamPool {
  private readonly idle: Entry[] = [];
  private opening = 0;
  private readonly recent: number[] = [];
  private backoffMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout;
  private closed = false;
  readonly stats = { opened: 0, openFailed: 0, hits: 0, misses: 0, expired: 0, died: 0 };

  constructor(private readonly opts: PoolOptions) {
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(100, Math.min(1000, opts.idleMs / 4)));
    this.sweepTimer.unref();
    this.refill();
  }

  /** Streams ready in the pool now. */
  get size(): number {
    return this.idle.length;
  }

  target(now = Date.now()): number {
    while (this.recent.length > 0 && this.recent[0] < now - 1000) this.recent.shift();
    return Math.max(this.opts.min, Math.min(this.opts.max, this.recent.length));
  }

  /**
   * A pooled stream if one is ready, else a fresh one (its HELLO_OK still to read). A pooled
   * stream is not replaced at once: the caller calls `refill()` when its request is answered,
   * so the replacement's TLS handshake does not delay that request on a busy CPU. `fresh`:
   * a new stream even when the pool has some (a retry after a pooled stream proved dead: its
   * pool mates are likely dead too, e.g. after the aggregator restarted).
   */
  async take(fresh = false): Promise<Lease> {
    this.recent.push(Date.now());
    const e = fresh ? undefined : this.idle.shift();
    if (e === undefined) this.refill();
    if (e !== undefined) {
      e.cleanup();
      this.stats.hits++;
      return { stream: e.stream, helloPending: false, fromPool: true };
    }
    this.stats.misses++;
    const stream = await this.opts.open();
    return { stream, helloPending: true, fromPool: false };
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const e of this.idle.splice(0)) {
      e.cleanup();
      e.stream.destroy();
    }
  }

  /** Opens streams in the background up to the target size. */
  refill(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    while (this.idle.length + this.opening < this.target() && this.opening < MAX_OPENING) {
      this.opening++;
      void this.openOne().finally(() => {
        this.opening--;
      });
    }
  }

  private async openOne(): Promise<void> {
    try {
      const stream = await this.opts.open();
      const r = await readFrame(stream, this.opts.helloTimeoutMs);
      if (!r.ok || r.frame.type !== 'helloOk') {
        stream.destroy();
        throw new Error(r.ok ? `expected HELLO_OK, got ${r.frame.type}` : `aggregator refused the stream (${r.reason === 'invalid' ? r.error.message : r.message}); check clientId and secret`);
      }
      if (this.closed) {
        stream.destroy();
        return;
      }
      this.stats.opened++;
      this.backoffMs = 0;
      this.add(stream);
      this.refill();
    } catch (e) {
      this.stats.openFailed++;
      this.opts.onOpenError?.(e);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? 100 : this.backoffMs * 2);
      if (!this.closed && this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.refill();
        }, this.backoffMs);
        this.retryTimer.unref();
      }
    }
  }

  private add(stream: Duplex): void {
    const entry: Entry = {
      stream,
      since: Date.now(),
      cleanup: () => {
        stream.removeListener('close', onGone);
        stream.removeListener('end', onGone);
        stream.removeListener('data', onGone);
        stream.pause();
      },
    };
    // An idle stream must stay silent; anything from it (data, end, close) retires it.
    const onGone = () => {
      const i = this.idle.indexOf(entry);
      if (i >= 0) this.idle.splice(i, 1);
      entry.cleanup();
      stream.destroy();
      this.stats.died++;
      this.refill();
    };
    stream.once('close', onGone);
    stream.once('end', onGone);
    stream.once('data', onGone);
    this.idle.push(entry);
  }

  private sweep(): void {
    const now = Date.now();
    const target = this.target(now);
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const e = this.idle[i];
      if (now - e.since > this.opts.idleMs || this.idle.length > target) {
        this.idle.splice(i, 1);
        e.cleanup();
        e.stream.destroy();
        this.stats.expired++;
      }
    }
    this.refill();
  }
}
