/**
 * Out-of-order segments waiting for the gap before them to fill (RFC 9293 §3.10.7.4 allows
 * keeping them), kept as disjoint, sorted ranges of bytes by relative sequence number, plus the
 * SACK blocks that describe them (RFC 2018 §4: the block containing the most recently
 * received segment first, then the most recently reported others).
 */
export interface OooRange {
  start: number;
  end: number;
  data: Uint8Array;
}

export class Reassembly {
  /** Disjoint, sorted by start, not adjacent to each other. */
  private ranges: OooRange[] = [];
  /** Range starts in order of most recent arrival (for SACK block order). */
  private recent: number[] = [];
  private bytes = 0;

  get bufferedBytes(): number {
    return this.bytes;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Stores [start, start + data.length), merging with neighbours. Data is copied. */
  insert(start: number, data: Uint8Array): void {
    let s = start;
    let e = start + data.length;
    if (e <= s) return;
    // Collect overlapping or adjacent ranges and build one merged range.
    let merged = data.slice();
    const keep: OooRange[] = [];
    for (const r of this.ranges) {
      if (r.end < s || r.start > e) {
        keep.push(r);
        continue;
      }
      const ns = Math.min(s, r.start);
      const ne = Math.max(e, r.end);
      const buf = new Uint8Array(ne - ns);
      buf.set(r.data, r.start - ns);
      buf.set(merged, s - ns); // newest data wins where they overlap (identical for honest peers)
      merged = buf;
      s = ns;
      e = ne;
      this.bytes -= r.data.length;
      this.recent = this.recent.filter((x) => x !== r.start);
    }
    const range = { start: s, end: e, data: merged };
    keep.push(range);
    keep.sort((a, b) => a.start - b.start);
    this.ranges = keep;
    this.bytes += merged.length;
    this.recent = [s, ...this.recent.filter((x) => x !== s)];
  }

  /**
   * Removes and returns the bytes that now follow `next` in order (the range starting at or
   * before `next`), trimmed to start at `next`; ranges entirely below `next` are discarded.
   */
  takeInOrder(next: number): Uint8Array | null {
    while (this.ranges.length && this.ranges[0].end <= next) this.dropFirst();
    const first = this.ranges[0];
    if (!first || first.start > next) return null;
    this.dropFirst();
    return first.data.subarray(next - first.start);
  }

  private dropFirst(): void {
    const r = this.ranges.shift();
    if (!r) return;
    this.bytes -= r.data.length;
    this.recent = this.recent.filter((x) => x !== r.start);
  }

  /** Up to `max` SACK blocks as [start, end) relative ranges, most recent first. */
  sackBlocks(max: number): { start: number; end: number }[] {
    const out: { start: number; end: number }[] = [];
    for (const s of this.recent) {
      const r = this.ranges.find((x) => x.start === s);
      if (r) out.push({ start: r.start, end: r.end });
      if (out.length === max) break;
    }
    return out;
  }
}
