/**
 * A path's data budget (a data cap, issue 6 §2: "an LTE link used at most N GB a month except
 * as a backup"), shared by every connection on the path. Bytes the path carries are taken
 * from it in both directions (sent when scheduled, received when they arrive); once it is
 * spent the path ranks below every tier, so it carries data only when no other path can, and
 * the client asks the peer with MP_PRIO to treat it as backup as well. The proxy persists
 * `used` and refills the budget when a new period begins.
 */
export class ByteBudget {
  private usedBytes: number;

  /** `limitBytes` per period; `usedBytes` already spent in this period (from saved state). */
  constructor(
    private limitBytes: number,
    usedBytes = 0,
  ) {
    this.usedBytes = usedBytes;
  }

  get limit(): number {
    return this.limitBytes;
  }

  get used(): number {
    return this.usedBytes;
  }

  get exhausted(): boolean {
    return this.usedBytes >= this.limitBytes;
  }

  take(bytes: number): void {
    this.usedBytes += bytes;
  }

  /** A new period, or a new limit from a configuration reload. */
  reset(limitBytes: number, usedBytes = 0): void {
    this.limitBytes = limitBytes;
    this.usedBytes = usedBytes;
  }
}
