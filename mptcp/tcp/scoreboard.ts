/**
 * The sender's view of what the receiver holds, for loss recovery with SACK (RFC 6675):
 * SACKed ranges above SND.UNA, which bytes are deemed lost, what has been retransmitted in
 * the current recovery (HighRxt), and the resulting `pipe` (bytes believed in flight).
 * Sequence numbers are relative (see seq.ts). Without SACK the same rules degrade to NewReno
 * (RFC 6582): the caller marks the first segment lost on three duplicate ACKs or a partial ACK.
 */
export const DUP_THRESH = 3;

export class Scoreboard {
  /** Disjoint sorted SACKed ranges [start, end), all above SND.UNA. */
  private sacked: { start: number; end: number }[] = [];
  /** Unsacked bytes below this are deemed lost. */
  lostBelow = 0;
  /** Highest sequence retransmitted in this recovery episode. */
  highRxt = 0;

  get hasSacks(): boolean {
    return this.sacked.length > 0;
  }

  get highestSacked(): number {
    return this.sacked.length ? this.sacked[this.sacked.length - 1].end : 0;
  }

  reset(): void {
    this.sacked = [];
    this.lostBelow = 0;
    this.highRxt = 0;
  }

  /** Records a SACK block (already clipped to (SND.UNA, SND.MAX]). Returns true if new bytes were SACKed. */
  addSack(start: number, end: number): boolean {
    if (end <= start) return false;
    const before = this.sackedBytesIn(start, end);
    const out: { start: number; end: number }[] = [];
    let s = start;
    let e = end;
    for (const r of this.sacked) {
      if (r.end < s || r.start > e) out.push(r);
      else {
        s = Math.min(s, r.start);
        e = Math.max(e, r.end);
      }
    }
    out.push({ start: s, end: e });
    out.sort((a, b) => a.start - b.start);
    this.sacked = out;
    return before < end - start;
  }

  /** Forgets everything below the new SND.UNA. */
  advance(sndUna: number): void {
    while (this.sacked.length && this.sacked[0].end <= sndUna) this.sacked.shift();
    if (this.sacked.length && this.sacked[0].start < sndUna) this.sacked[0] = { start: sndUna, end: this.sacked[0].end };
    if (this.highRxt < sndUna) this.highRxt = sndUna;
  }

  sackedBytesIn(a: number, b: number): number {
    let n = 0;
    for (const r of this.sacked) {
      const s = Math.max(a, r.start);
      const e = Math.min(b, r.end);
      if (e > s) n += e - s;
    }
    return n;
  }

  isSacked(seq: number): boolean {
    for (const r of this.sacked) if (seq >= r.start && seq < r.end) return true;
    return false;
  }

  /**
   * RFC 6675 §4 IsLost, applied to holes: a hole is lost when DupThresh discontiguous SACKed
   * ranges, or more than (DupThresh - 1) * SMSS bytes, are SACKed above it. Raises lostBelow
   * accordingly; returns it.
   */
  updateLost(mss: number): number {
    let acc = 0;
    for (let i = this.sacked.length - 1; i >= 0; i--) {
      acc += this.sacked[i].end - this.sacked[i].start;
      if (acc > (DUP_THRESH - 1) * mss || this.sacked.length - i >= DUP_THRESH) {
        if (this.sacked[i].start > this.lostBelow) this.lostBelow = this.sacked[i].start;
        break;
      }
    }
    return this.lostBelow;
  }

  /** RFC 6675 §4 SetPipe: bytes in [sndUna, sndMax) neither SACKed nor lost-and-not-retransmitted. */
  pipe(sndUna: number, sndMax: number): number {
    const outstanding = sndMax - sndUna - this.sackedBytesIn(sndUna, sndMax);
    const lostFrom = Math.max(this.highRxt, sndUna);
    const lostTo = Math.min(this.lostBelow, sndMax);
    const lostNotRetx = lostTo > lostFrom ? lostTo - lostFrom - this.sackedBytesIn(lostFrom, lostTo) : 0;
    return Math.max(0, outstanding - lostNotRetx);
  }

  /**
   * RFC 6675 §4 NextSeg rule 1: the first lost, unSACKed, not yet retransmitted byte, and how
   * many bytes from it (up to `max`) can go in one retransmission. Null when none.
   */
  nextLost(sndUna: number, sndMax: number, max: number): { seq: number; len: number } | null {
    let s = Math.max(this.highRxt, sndUna);
    const limit = Math.min(this.lostBelow, sndMax);
    while (s < limit) {
      const covering = this.sacked.find((r) => s >= r.start && s < r.end);
      if (covering) {
        s = covering.end;
        continue;
      }
      const nextSacked = this.sacked.find((r) => r.start > s);
      const end = Math.min(limit, s + max, nextSacked ? nextSacked.start : Infinity);
      return { seq: s, len: end - s };
    }
    return null;
  }
}
