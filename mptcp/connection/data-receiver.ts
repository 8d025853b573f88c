/**
 * The receive half of an MPTCP connection's data sequence space (RFC 8684 §3.3): data from
 * all subflows placed by DSN, in-order bytes queued for the application, out-of-order ones
 * kept until the gap fills, duplicates (reinjected data arriving twice) dropped and counted,
 * the peer's DATA_FIN consumed when everything before it arrived, and the connection-level
 * receive window every subflow announces (§3.3.5): the free part of a buffer that grows with
 * what the application consumes per RTT (receive-buffer-tuner.ts).
 */
import { ByteQueue } from '../tcp/byte-queue.js';
import { Reassembly } from '../tcp/reassembly.js';
import { ReceiveBufferTuner } from './receive-buffer-tuner.js';

export class DataReceiver {
  /** Next DSN expected (relative; the Data ACK we send). */
  next = 1;
  private readonly reassembly = new Reassembly();
  private readonly queue = new ByteQueue();
  private peerFin = -1;
  /** The peer's DATA_FIN was consumed (it takes one DSN). */
  finConsumed = false;
  /** Free space the last window announcement was computed from. */
  lastAdvertised = 0;
  duplicateBytes = 0;
  /** The buffer's size, grown from consumption between `initialBytes` and `maxBytes`. */
  readonly tuner: ReceiveBufferTuner;

  constructor(initialBytes: number, maxBytes: number) {
    this.tuner = new ReceiveBufferTuner(initialBytes, maxBytes);
  }

  get readableBytes(): number {
    return this.queue.length;
  }

  /** Places `data` (copied) at `dsn`; returns true when new in-order bytes became readable. */
  onData(dsn: number, data: Uint8Array): boolean {
    let len = data.length;
    if (dsn + len <= this.next) {
      this.duplicateBytes += len;
      return false;
    }
    if (dsn < this.next) {
      const cut = this.next - dsn;
      this.duplicateBytes += cut;
      data = data.subarray(cut);
      dsn = this.next;
      len = data.length;
    }
    if (dsn !== this.next) {
      this.reassembly.insert(dsn, data);
      return false;
    }
    this.queue.push(data); // a copy: `data` may be a view of a subflow's buffer
    this.next += len;
    for (let more = this.reassembly.takeInOrder(this.next); more; more = this.reassembly.takeInOrder(this.next)) {
      this.queue.pushOwned(more);
      this.next += more.length;
    }
    return true;
  }

  /** The peer's DATA_FIN is at `dsn` (it may arrive before the data it follows). */
  onDataFin(dsn: number): void {
    if (this.peerFin < 0) this.peerFin = dsn;
  }

  /** Consumes the DATA_FIN if everything before it arrived; true when that happens now. */
  consumeFin(): boolean {
    if (this.peerFin < 0 || this.finConsumed || this.next !== this.peerFin) return false;
    this.finConsumed = true;
    this.next += 1;
    return true;
  }

  read(max: number): Uint8Array | null {
    return this.queue.length === 0 ? null : this.queue.take(max);
  }

  /** Free buffer space: the window the subflows announce. */
  space(): number {
    const free = Math.max(0, this.tuner.size - this.queue.length - this.reassembly.bufferedBytes);
    this.lastAdvertised = free;
    return free;
  }
}
