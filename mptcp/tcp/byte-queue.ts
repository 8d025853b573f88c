/**
 * A FIFO of bytes kept as a list of chunks: append at the tail, read or copy any range from
 * the head, drop from the head. The send buffer (unacknowledged + unsent data, indexed from
 * SND.UNA) and the in-order part of the receive buffer are ByteQueues. Appends copy the
 * caller's bytes once; reads copy into the caller's buffer; nothing else allocates per byte.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private headOffset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  /** Appends a copy of `data`. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data.slice());
    this.total += data.length;
  }

  /** Appends `data` without copying: the caller gives up ownership. */
  pushOwned(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.total += data.length;
  }

  /** Copies bytes [offset, offset + length) (relative to the head) into out[outOff..]; returns bytes copied. */
  copyOut(offset: number, length: number, out: Uint8Array, outOff: number): number {
    const want = Math.max(0, Math.min(length, this.total - offset));
    let skip = offset + this.headOffset;
    let copied = 0;
    for (let i = 0; i < this.chunks.length && copied < want; i++) {
      const c = this.chunks[i];
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const n = Math.min(c.length - skip, want - copied);
      out.set(c.subarray(skip, skip + n), outOff + copied);
      copied += n;
      skip = 0;
    }
    return copied;
  }

  /** Drops `n` bytes from the head. */
  drop(n: number): void {
    n = Math.min(n, this.total);
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const left = c.length - this.headOffset;
      if (n < left) {
        this.headOffset += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  /** Removes and returns up to `max` bytes from the head (one allocation). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.total);
    const out = new Uint8Array(n);
    this.copyOut(0, n, out, 0);
    this.drop(n);
    return out;
  }
}
