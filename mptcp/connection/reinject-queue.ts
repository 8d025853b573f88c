/**
 * Data to send again on another subflow (RFC 8684 §3.3.6): disjoint-enough [start, end) ranges
 * of relative DSNs, taken from the front as subflows have room. Ranges the Data ACK has passed
 * are skipped; a range already covered by a queued one is not added twice.
 */
export class ReinjectQueue {
  private readonly r: number[] = [];

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  add(start: number, end: number, sndUna: number): void {
    start = Math.max(start, sndUna);
    if (end <= start) return;
    const r = this.r;
    for (let i = 0; i < r.length; i += 2) if (r[i] <= start && r[i + 1] >= end) return;
    r.push(start, end);
  }

  /** The next chunk of at most `room` bytes below `sndNxt` not yet acknowledged, or null. */
  take(sndUna: number, sndNxt: number, room: number): { dsn: number; length: number } | null {
    const r = this.r;
    while (r.length > 0) {
      const start = Math.max(r[0], sndUna);
      const end = Math.min(r[1], sndNxt);
      if (end <= start) {
        r.splice(0, 2);
        continue;
      }
      const n = Math.min(room, end - start);
      r[0] = start + n;
      return { dsn: start, length: n };
    }
    return null;
  }

  clear(): void {
    this.r.length = 0;
  }
}
