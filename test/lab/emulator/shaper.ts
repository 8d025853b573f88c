/**
 * One direction of one emulated path, sans-IO: frames (known by a caller-chosen integer id and
 * their length) go in with `offer(now, id, bytes)`, and come out with `take(now)` when due;
 * `nextDue()` is the next deadline. Time is milliseconds from any origin; randomness is injected
 * (seeded in tests). No allocation per frame: frames wait in typed-array rings and a small heap.
 *
 * A frame's way through, in order:
 *  1. state: while blocked (path blackholed or down) every offered frame is dropped (`state`),
 *     and blocking drops every frame held (a dead link loses what is on it).
 *  2. serialization: with a finite rate a frame occupies the link for bytes*8/rate after the
 *     frames before it (FIFO). A frame that finds queuePackets frames (or queueBytes bytes,
 *     itself included) in the bottleneck, waiting or on the wire, is dropped (`queue`,
 *     drop-tail). Bytes are whole Ethernet frames, as HTB counts them.
 *  3. loss: independent (`loss`) and Gilbert-Elliott (`burst`), decided after serialization, so
 *     a lost frame used the bottleneck (a radio link's view).
 *  4. delay: delivery = end of serialization + delayMs + uniform(-jitterMs, +jitterMs), never
 *     earlier than an earlier frame (FIFO: jitter does not reorder) nor than the end of
 *     serialization.
 *  5. reordering: with probability `reorder` a frame is held back reorderDelayMs more and is
 *     exempt from FIFO order, so later frames overtake it. The only way frames reorder.
 * A configuration change applies to frames offered from then on.
 */
import type { Random } from '../../../mptcp/core/sans-io.js';
import type { DirectionConfig } from '../link-config.js';

export interface ShaperCounters {
  offeredPackets: number;
  offeredBytes: number;
  deliveredPackets: number;
  deliveredBytes: number;
  droppedQueue: number;
  droppedLoss: number;
  droppedState: number;
  reordered: number;
}

/** A FIFO of (id, bytes, time) in typed arrays; grows by doubling (rarely). */
class Ring {
  ids: Int32Array;
  bytes: Int32Array;
  at: Float64Array;
  head = 0;
  size = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
    this.bytes = new Int32Array(capacity);
    this.at = new Float64Array(capacity);
  }

  push(id: number, bytes: number, at: number): void {
    if (this.size === this.ids.length) this.grow();
    const i = (this.head + this.size) & (this.ids.length - 1);
    this.ids[i] = id;
    this.bytes[i] = bytes;
    this.at[i] = at;
    this.size++;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.ids.length - 1);
    this.size--;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Int32Array(n);
    const bytes = new Int32Array(n);
    const at = new Float64Array(n);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) & (this.ids.length - 1);
      ids[k] = this.ids[i];
      bytes[k] = this.bytes[i];
      at[k] = this.at[i];
    }
    this.ids = ids;
    this.bytes = bytes;
    this.at = at;
    this.head = 0;
  }
}

/** A binary min-heap of (id, bytes, time) by time, for the frames held back to reorder. */
class Heap {
  ids = new Int32Array(256);
  bytes = new Int32Array(256);
  at = new Float64Array(256);
  size = 0;

  push(id: number, bytes: number, at: number): void {
    if (this.size === this.ids.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.ids = grow(this.ids, (n) => new Int32Array(n));
      this.bytes = grow(this.bytes, (n) => new Int32Array(n));
      this.at = grow(this.at, (n) => new Float64Array(n));
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p] <= at) break;
      this.move(p, i);
      i = p;
    }
    this.ids[i] = id;
    this.bytes[i] = bytes;
    this.at[i] = at;
  }

  pop(): void {
    const last = --this.size;
    const id = this.ids[last];
    const bytes = this.bytes[last];
    const at = this.at[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.at[c + 1] < this.at[c]) c++;
      if (this.at[c] >= at) break;
      this.move(c, i);
      i = c;
    }
    this.ids[i] = id;
    this.bytes[i] = bytes;
    this.at[i] = at;
  }

  private move(from: number, to: number): void {
    this.ids[to] = this.ids[from];
    this.bytes[to] = this.bytes[from];
    this.at[to] = this.at[from];
  }
}

export class DirectionShaper {
  readonly counters: ShaperCounters = { offeredPackets: 0, offeredBytes: 0, deliveredPackets: 0, deliveredBytes: 0, droppedQueue: 0, droppedLoss: 0, droppedState: 0, reordered: 0 };
  private config: DirectionConfig;
  private blocked = false;
  private burstBad = false;
  /** Frames on their way in FIFO order (deliverAt ascending). */
  private readonly fifo = new Ring(1024);
  private readonly held = new Heap();
  /** Serialization end times (and bytes) of the frames in the bottleneck. */
  private readonly tx = new Ring(1024);
  private txBytes = 0;
  private txFree = -Infinity;
  private lastDeliver = -Infinity;
  /** Bytes of the frame last returned by take(). */
  lastBytes = 0;

  constructor(
    config: DirectionConfig,
    private readonly random: Random,
  ) {
    this.config = { ...config };
  }

  get settings(): Readonly<DirectionConfig> {
    return this.config;
  }

  configure(config: DirectionConfig): void {
    this.config = { ...config };
    if (config.burst === null) this.burstBad = false;
  }

  /**
   * Blocks (drops everything, now and from now on) or unblocks. On blocking, `release` gets the
   * id of every frame held, so the caller can free its buffer.
   */
  setBlocked(blocked: boolean, release: (id: number) => void): void {
    if (blocked && !this.blocked) {
      while (this.fifo.size > 0) {
        release(this.fifo.ids[this.fifo.head]);
        this.fifo.shift();
        this.counters.droppedState++;
      }
      while (this.held.size > 0) {
        release(this.held.ids[0]);
        this.held.pop();
        this.counters.droppedState++;
      }
      this.tx.head = this.tx.size = this.txBytes = 0;
      this.txFree = -Infinity;
    }
    this.blocked = blocked;
  }

  /** Frames waiting for serialization or on the wire of the bottleneck at `now`. */
  queued(now: number): number {
    this.expireTx(now);
    return this.tx.size;
  }

  /** Frames held (queued or in flight). */
  holding(): number {
    return this.fifo.size + this.held.size;
  }

  /**
   * A frame arrives at `now`. True: it was accepted and will come out of take(). False: it was
   * dropped (queue, loss or state); the caller frees it at once.
   */
  offer(now: number, id: number, bytes: number): boolean {
    const c = this.config;
    const k = this.counters;
    k.offeredPackets++;
    k.offeredBytes += bytes;
    if (this.blocked) {
      k.droppedState++;
      return false;
    }
    let txEnd = now;
    if (c.rateBitsPerSec !== Infinity) {
      this.expireTx(now);
      if (this.tx.size >= c.queuePackets || this.txBytes + bytes > c.queueBytes) {
        k.droppedQueue++;
        return false;
      }
      txEnd = Math.max(now, this.txFree) + (bytes * 8000) / c.rateBitsPerSec;
      this.txFree = txEnd;
      this.tx.push(id, bytes, txEnd);
      this.txBytes += bytes;
    }
    if (this.lost()) {
      k.droppedLoss++;
      return false;
    }
    let at = txEnd + c.delayMs;
    if (c.jitterMs > 0) at = Math.max(txEnd, at + (2 * this.random.nextFloat() - 1) * c.jitterMs);
    if (c.reorder > 0 && this.random.nextFloat() < c.reorder) {
      k.reordered++;
      this.held.push(id, bytes, at + c.reorderDelayMs);
      return true;
    }
    if (at < this.lastDeliver) at = this.lastDeliver;
    this.lastDeliver = at;
    this.fifo.push(id, bytes, at);
    return true;
  }

  /** When the next frame is due, or Infinity. */
  nextDue(): number {
    const a = this.fifo.size > 0 ? this.fifo.at[this.fifo.head] : Infinity;
    const b = this.held.size > 0 ? this.held.at[0] : Infinity;
    return a < b ? a : b;
  }

  /** The id of a frame due at `now` (its length in lastBytes), or -1 when none is due. */
  take(now: number): number {
    const f = this.fifo;
    const h = this.held;
    const fifoDue = f.size > 0 && f.at[f.head] <= now;
    const heldDue = h.size > 0 && h.at[0] <= now;
    let id: number;
    if (fifoDue && (!heldDue || f.at[f.head] <= h.at[0])) {
      id = f.ids[f.head];
      this.lastBytes = f.bytes[f.head];
      f.shift();
    } else if (heldDue) {
      id = h.ids[0];
      this.lastBytes = h.bytes[0];
      h.pop();
    } else {
      return -1;
    }
    this.counters.deliveredPackets++;
    this.counters.deliveredBytes += this.lastBytes;
    return id;
  }

  private expireTx(now: number): void {
    const t = this.tx;
    while (t.size > 0 && t.at[t.head] <= now) {
      this.txBytes -= t.bytes[t.head];
      t.shift();
    }
  }

  private lost(): boolean {
    const c = this.config;
    let lost = c.loss > 0 && this.random.nextFloat() < c.loss;
    const b = c.burst;
    if (b !== null) {
      const p = this.burstBad ? b.lossInBad : b.lossInGood;
      if (p > 0 && this.random.nextFloat() < p) lost = true;
      const flip = this.burstBad ? b.pBadToGood : b.pGoodToBad;
      if (this.random.nextFloat() < flip) this.burstBad = !this.burstBad;
    }
    return lost;
  }
}
