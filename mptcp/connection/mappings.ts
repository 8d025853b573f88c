/**
 * DSS mappings (RFC 8684 §3.3.1) of one subflow: which subflow bytes carry which data
 * sequence numbers. The send side records one mapping per chunk the scheduler handed the
 * subflow (so retransmissions carry the same mapping); the receive side records the mappings
 * the peer announced, in subflow sequence order, until the bytes they cover are read.
 * Both are queues in parallel number arrays, trimmed from the head: no object per segment.
 */

export class MappingQueue {
  /** Relative subflow sequence number of the mapping's first byte. */
  private ssn: number[] = [];
  /** Relative data sequence number of the mapping's first byte. */
  private dsn: number[] = [];
  /** Data-level length (a DATA_FIN counts one, as on the wire). */
  private len: number[] = [];
  /** DSS checksum of the mapping when checksums are in use (send side), else 0. */
  private csum: number[] = [];
  private flags: number[] = [];
  private head = 0;

  get count(): number {
    return this.ssn.length - this.head;
  }

  push(ssn: number, dsn: number, len: number, csum = 0, flags = 0): void {
    this.ssn.push(ssn);
    this.dsn.push(dsn);
    this.len.push(len);
    this.csum.push(csum);
    this.flags.push(flags);
  }

  /**
   * Records a received mapping, keeping ssn order (segments, and the mappings they carry, may
   * arrive out of order). Returns false when it contradicts a mapping already recorded for the
   * same subflow bytes (Linux counts this as DSSNotMatching).
   */
  insert(ssn: number, dsn: number, len: number, flags: number, csum = 0): boolean {
    const last = this.ssn.length - 1;
    if (last < this.head || ssn > this.ssn[last]) {
      this.push(ssn, dsn, len, csum, flags);
      return true;
    }
    let i = last;
    while (i >= this.head && this.ssn[i] > ssn) i--;
    if (i >= this.head && this.ssn[i] === ssn) {
      // The same mapping again (it rides on every segment it covers), or a DATA_FIN added to it.
      if (this.dsn[i] !== dsn) return false;
      if (len > this.len[i]) {
        this.len[i] = len;
        this.flags[i] |= flags;
      }
      return true;
    }
    this.ssn.splice(i + 1, 0, ssn);
    this.dsn.splice(i + 1, 0, dsn);
    this.len.splice(i + 1, 0, len);
    this.csum.splice(i + 1, 0, csum);
    this.flags.splice(i + 1, 0, flags);
    return true;
  }

  /** Index of the mapping covering subflow byte `seq`, or -1. */
  find(seq: number): number {
    // Mappings are few and sorted by ssn; the one in use is nearly always first or last.
    for (let i = this.ssn.length - 1; i >= this.head; i--) {
      const s = this.ssn[i];
      if (seq >= s) return seq < s + this.subflowLength(i) ? i : -1;
    }
    return -1;
  }

  /** Subflow bytes the mapping covers (a DATA_FIN takes a DSN but no subflow byte). */
  subflowLength(i: number): number {
    return this.len[i] - (this.flags[i] & MAPPING_DATA_FIN ? 1 : 0);
  }

  ssnAt(i: number): number {
    return this.ssn[i];
  }
  dsnAt(i: number): number {
    return this.dsn[i];
  }
  lengthAt(i: number): number {
    return this.len[i];
  }
  checksumAt(i: number): number {
    return this.csum[i];
  }
  flagsAt(i: number): number {
    return this.flags[i];
  }
  get lastIndex(): number {
    return this.ssn.length - 1;
  }
  get firstIndex(): number {
    return this.head;
  }

  /** Drops mappings that end at or before subflow sequence `seq`. */
  trimBefore(seq: number): void {
    while (this.head < this.ssn.length && this.ssn[this.head] + this.subflowLength(this.head) <= seq) this.head++;
    if (this.head > 64 && this.head * 2 > this.ssn.length) {
      this.ssn = this.ssn.slice(this.head);
      this.dsn = this.dsn.slice(this.head);
      this.len = this.len.slice(this.head);
      this.csum = this.csum.slice(this.head);
      this.flags = this.flags.slice(this.head);
      this.head = 0;
    }
  }

  /** Visits every mapping still queued (for reinjection of a failed subflow's data). */
  forEach(fn: (ssn: number, dsn: number, len: number) => void): void {
    for (let i = this.head; i < this.ssn.length; i++) fn(this.ssn[i], this.dsn[i], this.subflowLength(i));
  }

  clear(): void {
    this.ssn.length = this.dsn.length = this.len.length = this.csum.length = this.flags.length = 0;
    this.head = 0;
  }
}

/** The mapping's last DSN is a DATA_FIN (DSS flag F). */
export const MAPPING_DATA_FIN = 1;
