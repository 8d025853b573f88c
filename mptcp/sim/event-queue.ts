/**
 * The simulator's agenda: a binary min-heap of timed events ordered by time, then by insertion
 * order, so events at equal times run first-in first-out and every run is reproducible.
 *
 * An event is a (time, target, arg) triple kept in parallel arrays, so pushing and popping
 * allocate nothing once the arrays have grown. Read the earliest event with peekTime,
 * peekTarget and peekArg, then remove it with pop.
 */
export class EventQueue<T, A> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly targets: T[] = [];
  private readonly args: A[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.times.length;
  }

  /** Time of the earliest event, or Infinity when the queue is empty. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0] : Infinity;
  }

  /** Target of the earliest event; throws when the queue is empty. */
  peekTarget(): T {
    this.assertNonEmpty();
    return this.targets[0];
  }

  /** Argument of the earliest event; throws when the queue is empty. */
  peekArg(): A {
    this.assertNonEmpty();
    return this.args[0];
  }

  push(time: number, target: T, arg: A): void {
    if (Number.isNaN(time)) throw new RangeError('EventQueue.push: time is NaN');
    const seq = this.nextSeq++;
    const { times, seqs, targets, args } = this;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    targets.push(target);
    args.push(arg);
    // Sift up: move parents down into the hole until the new event's place is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < time || (pt === time && seqs[p] < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[p];
      targets[i] = targets[p];
      args[i] = args[p];
      i = p;
    }
    times[i] = time;
    seqs[i] = seq;
    targets[i] = target;
    args[i] = arg;
  }

  /** Removes the earliest event; throws when the queue is empty. */
  pop(): void {
    this.assertNonEmpty();
    const { times, seqs, targets, args } = this;
    const n = times.length - 1;
    const time = times[n];
    const seq = seqs[n];
    const target = targets[n];
    const arg = args[n];
    times.pop();
    seqs.pop();
    targets.pop();
    args.pop();
    if (n === 0) return;
    // Sift the former last event down from the root.
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (times[r] < times[c] || (times[r] === times[c] && seqs[r] < seqs[c]))) c = r;
      const ct = times[c];
      if (ct > time || (ct === time && seqs[c] > seq)) break;
      times[i] = ct;
      seqs[i] = seqs[c];
      targets[i] = targets[c];
      args[i] = args[c];
      i = c;
    }
    times[i] = time;
    seqs[i] = seq;
    targets[i] = target;
    args[i] = arg;
  }

  clear(): void {
    this.times.length = 0;
    this.seqs.length = 0;
    this.targets.length = 0;
    this.args.length = 0;
  }

  private assertNonEmpty(): void {
    if (this.times.length === 0) throw new RangeError('EventQueue is empty');
  }
}
