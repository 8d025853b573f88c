/**
 * A condition that must hold without a break for some time before it counts (the hysteresis
 * of verdicts: a path's loss above a threshold for a second, calm for two). Pure: the caller
 * passes `now` (ms) and the condition at every update; nothing is allocated.
 */
export class Sustained {
  /** Since when the condition has held without a break (NaN: it does not hold now). */
  private since = NaN;

  /** Takes the condition at `now`; true once it has held for at least `ms` without a break. */
  check(now: number, holds: boolean, ms: number): boolean {
    if (!holds) {
      this.since = NaN;
      return false;
    }
    if (Number.isNaN(this.since)) this.since = now;
    return now - this.since >= ms;
  }

  /** Forgets the run (as if the condition had just failed). */
  reset(): void {
    this.since = NaN;
  }
}
