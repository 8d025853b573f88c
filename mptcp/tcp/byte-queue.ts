/**
 * A FIFO of bytes: append at the tail, read or copy any range from the head, drop from the
 * head. The send buffer (unacknowledged + unsent data, indexed from SND.UNA) and the in-order
 * part of the receive buffer are ByteQueues; an MPTCP subflow appends one segment's worth at a
 * time, so appends must be cheap and deep reads must not walk the whole queue.
 *
 * Bytes live in blocks: push() copies into the tail block while it has room (a new 64 KiB
 * block otherwise), pushOwned() adopts the caller's buffer as a block. Each block's absolute
 * start is kept, so copyOut() finds its first block by binary search, and drop() advances a
 * head index (the arrays are compacted now and then) instead of shifting.
 */

const BLOCK = 64 * 1024;

export class ByteQueue {
  private blocks: Uint8Array[] = [];
  /** Absolute offset (since the queue was made) of each block's first byte. */
  private starts: number[] = [];
  /** Bytes used in each block (all of it for adopted buffers). */
  private fills: number[] = [];
  /** Whether a block is ours to append to. */
  private writable: boolean[] = [];
  private head = 0;
  private headAbs = 0;
  private tailAbs = 0;

  get length(): number {
    return this.tailAbs - this.headAbs;
  }

  /** Appends a copy of `data`. */
  push(data: Uint8Array): void {
    let off = 0;
    const n = data.length;
    while (off < n) {
      const last = this.blocks.length - 1;
      if (last >= this.head && this.writable[last] && this.fills[last] < this.blocks[last].length) {
        const b = this.blocks[last];
        const k = Math.min(b.length - this.fills[last], n - off);
        b.set(off === 0 && k === n ? data : data.subarray(off, off + k), this.fills[last]);
        this.fills[last] += k;
        this.tailAbs += k;
        off += k;
        continue;
      }
      this.addBlock(new Uint8Array(Math.max(BLOCK, Math.min(n - off, 1 << 20))), 0, true);
    }
  }

  /** Appends `data` without copying: the caller gives up ownership. */
  pushOwned(data: Uint8Array): void {
    if (data.length === 0) return;
    this.addBlock(data, data.length, false);
    this.tailAbs += data.length;
  }

  private addBlock(b: Uint8Array, fill: number, writable: boolean): void {
    this.blocks.push(b);
    this.starts.push(this.tailAbs);
    this.fills.push(fill);
    this.writable.push(writable);
  }

  /** Index of the block holding absolute offset `abs` (which must be inside the queue). */
  private blockAt(abs: number): number {
    let lo = this.head;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= abs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies bytes [offset, offset + length) (relative to the head) into out[outOff..]; returns bytes copied. */
  copyOut(offset: number, length: number, out: Uint8Array, outOff: number): number {
    const want = Math.max(0, Math.min(length, this.length - offset));
    if (want === 0 || offset < 0) return 0;
    let abs = this.headAbs + offset;
    let i = this.blockAt(abs);
    let copied = 0;
    while (copied < want) {
      const b = this.blocks[i];
      const from = abs - this.starts[i];
      const k = Math.min(this.fills[i] - from, want - copied);
      out.set(b.subarray(from, from + k), outOff + copied);
      copied += k;
      abs += k;
      i++;
    }
    return copied;
  }

  /** Appends a copy of `src`'s bytes [offset, offset + length) (relative to its head). */
  appendFrom(src: ByteQueue, offset: number, length: number): number {
    const want = Math.max(0, Math.min(length, src.length - offset));
    if (want === 0 || offset < 0) return 0;
    let abs = src.headAbs + offset;
    let i = src.blockAt(abs);
    let copied = 0;
    while (copied < want) {
      const from = abs - src.starts[i];
      const k = Math.min(src.fills[i] - from, want - copied);
      this.push(src.blocks[i].subarray(from, from + k));
      copied += k;
      abs += k;
      i++;
    }
    return copied;
  }

  /**
   * Hands the first `max` bytes to `visit` as views of the queue's own memory (one call per
   * block they span), then drops them. The views are valid only during the call: copy what
   * must be kept.
   */
  consume(max: number, visit: (view: Uint8Array) => void): number {
    const want = Math.min(max, this.length);
    let done = 0;
    while (done < want) {
      const i = this.head;
      const from = this.headAbs - this.starts[i];
      const k = Math.min(this.fills[i] - from, want - done);
      visit(this.blocks[i].subarray(from, from + k));
      this.drop(k);
      done += k;
    }
    return done;
  }

  /** Drops `n` bytes from the head. */
  drop(n: number): void {
    n = Math.min(n, this.length);
    if (n <= 0) return;
    this.headAbs += n;
    // A block is done when the next one starts at or before the head (or the queue is empty).
    while (this.head < this.blocks.length - 1 && this.starts[this.head + 1] <= this.headAbs) this.head++;
    if (this.headAbs === this.tailAbs) {
      // Empty: keep only a writable tail block (reused), forget the rest.
      const last = this.blocks.length - 1;
      if (last >= 0 && this.writable[last]) {
        this.blocks = [this.blocks[last]];
        this.fills = [0];
        this.starts = [this.tailAbs];
        this.writable = [true];
      } else {
        this.blocks = [];
        this.fills = [];
        this.starts = [];
        this.writable = [];
      }
      this.head = 0;
      return;
    }
    if (this.head > 64 && this.head * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.fills = this.fills.slice(this.head);
      this.writable = this.writable.slice(this.head);
      this.head = 0;
    }
  }

  /** Removes and returns up to `max` bytes from the head (one allocation). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    const out = new Uint8Array(n);
    this.copyOut(0, n, out, 0);
    this.drop(n);
    return out;
  }
}
