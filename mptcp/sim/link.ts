/**
 * One direction of one simulated path: what happens to a packet between two hosts. Owns the
 * link's configuration (changeable at any time), its serialization and drop-tail queue, its
 * loss (independent and Gilbert-Elliott), delay, jitter, reordering, duplication and up/down
 * state, its own random stream, and its counters. It decides a packet's fate when the packet is
 * offered and hands the packet, with its delivery time, to the simulator's event queue.
 *
 * A packet's path through a link, in order:
 *  1. down: a packet offered while the link is down is dropped (`down`). Packets already in
 *     flight when the link goes down are still delivered.
 *  2. serialization: with a finite rate a packet occupies the link for length*8/rate, after the
 *     packets before it (a FIFO). A packet that has to wait is dropped (`queue`, drop-tail) if
 *     the bytes waiting for serialization, itself included, would exceed queueLimitBytes; the
 *     packet being serialized does not count. Length is the whole IP packet (no L2 overhead).
 *  3. loss: lost on the wire (`loss`) after serialization, so a lost packet used the bottleneck.
 *  4. delay: delivery = end of serialization + delayMs + uniform(-jitterMs, +jitterMs), never
 *     before the end of serialization. The link is FIFO: jitter (or lowering delayMs) never
 *     lets a packet overtake an earlier one; it is held back to the earlier one's time instead.
 *     So traffic denser than the jitter sees a higher mean delay than delayMs (a flow every
 *     0.5 ms over 20 +- 5 ms averages about 22.6 ms); sparse traffic sees delayMs on average.
 *  5. reordering: with reorderProbability a packet gets reorderExtraDelayMs more and is exempt
 *     from FIFO order, so later packets overtake it. This is the only way packets reorder.
 *  6. duplication: with duplicateProbability a copy is delivered right after the packet.
 *
 * Configuration changes apply to packets offered from then on.
 */
import type { Random } from '../core/sans-io.js';
import type { SimHost } from './host.js';
import type { DropReason, Tracer } from './trace.js';

/** Gilbert-Elliott burst loss: a two-state Markov chain stepped once per packet. */
export interface GilbertElliott {
  /** Probability of moving from the good to the bad state after a packet. */
  readonly pGoodToBad: number;
  /** Probability of moving from the bad to the good state after a packet (mean burst = 1/this). */
  readonly pBadToGood: number;
  /** Loss probability in the bad state (default 1). */
  readonly lossInBad?: number;
  /** Loss probability in the good state (default 0). */
  readonly lossInGood?: number;
}

export interface LinkConfig {
  /** One-way propagation delay. */
  delayMs: number;
  /** Uniform jitter added to the delay, +-jitterMs; never reorders (see the header). */
  jitterMs: number;
  /** Independent loss probability per packet. */
  lossProbability: number;
  /** Burst loss on top of the independent loss; undefined for none. */
  burstLoss: GilbertElliott | undefined;
  /** Serialization rate; 0 or Infinity for unlimited (no serialization, no queue). */
  rateBitsPerSec: number;
  /** Drop-tail limit on bytes waiting for serialization; Infinity for unlimited. */
  queueLimitBytes: number;
  /** Probability that a packet is held back by reorderExtraDelayMs and overtaken. */
  reorderProbability: number;
  reorderExtraDelayMs: number;
  /** Probability that a packet is delivered twice. */
  duplicateProbability: number;
  /** False for a blackout: packets offered while down are dropped. */
  up: boolean;
}

export const DEFAULT_LINK_CONFIG: Readonly<LinkConfig> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  lossProbability: 0,
  burstLoss: undefined,
  rateBitsPerSec: 0,
  queueLimitBytes: Infinity,
  reorderProbability: 0,
  reorderExtraDelayMs: 0,
  duplicateProbability: 0,
  up: true,
});

export interface LinkCounters {
  offeredPackets: number;
  offeredBytes: number;
  /** Every delivery, duplicates included. */
  deliveredPackets: number;
  deliveredBytes: number;
  droppedLoss: number;
  droppedQueue: number;
  droppedDown: number;
  droppedBytes: number;
  duplicated: number;
  reordered: number;
}

/** How a link hands a packet to the simulator for delivery at `time`. */
export type ScheduleDelivery = (time: number, link: Link, packet: Uint8Array) => void;

export class Link {
  readonly counters: LinkCounters = {
    offeredPackets: 0,
    offeredBytes: 0,
    deliveredPackets: 0,
    deliveredBytes: 0,
    droppedLoss: 0,
    droppedQueue: 0,
    droppedDown: 0,
    droppedBytes: 0,
    duplicated: 0,
    reordered: 0,
  };
  /** Called for every packet event on this link; undefined for no tracing. */
  tracer: Tracer | undefined;

  private cfg: LinkConfig;
  /** When the link finishes serializing everything accepted so far. */
  private busyUntil = -Infinity;
  /** Delivery time of the latest in-order packet (FIFO floor for the next one). */
  private lastInOrder = -Infinity;
  private badState = false;
  private scheduled = 0;
  // Packets waiting for serialization (start time > offer time), FIFO from waitHead.
  private readonly waitStart: number[] = [];
  private readonly waitSize: number[] = [];
  private waitHead = 0;
  private waitingBytes = 0;

  constructor(
    readonly name: string,
    readonly from: SimHost,
    readonly to: SimHost,
    config: Partial<LinkConfig>,
    private readonly random: Random,
    private readonly schedule: ScheduleDelivery,
  ) {
    this.cfg = { ...DEFAULT_LINK_CONFIG };
    this.setConfig(config);
  }

  get config(): Readonly<LinkConfig> {
    return this.cfg;
  }

  /** Changes some settings; they apply to packets offered from now on. Throws on bad values. */
  setConfig(partial: Partial<LinkConfig>): void {
    const next: LinkConfig = { ...this.cfg, ...partial };
    validate(this.name, next);
    if (next.burstLoss === undefined) this.badState = false;
    this.cfg = next;
  }

  /** Packets handed to the simulator and not yet delivered (duplicates included). */
  get inFlight(): number {
    return this.scheduled - this.counters.deliveredPackets;
  }

  /** Bytes waiting for serialization at `now` (not counting the packet being serialized). */
  backlogBytes(now: number): number {
    this.releaseStarted(now);
    return this.waitingBytes;
  }

  /** A packet enters the link at `now`. The link keeps `packet`: pass a copy. */
  offer(now: number, packet: Uint8Array): void {
    const c = this.counters;
    const cfg = this.cfg;
    const len = packet.length;
    c.offeredPackets++;
    c.offeredBytes += len;
    this.tracer?.(now, this.name, 'offer', packet);
    if (!cfg.up) return this.drop(now, packet, 'down');

    let finish = now;
    const rate = cfg.rateBitsPerSec;
    if (rate > 0 && rate !== Infinity) {
      const start = this.busyUntil > now ? this.busyUntil : now;
      if (start > now) {
        this.releaseStarted(now);
        if (this.waitingBytes + len > cfg.queueLimitBytes) return this.drop(now, packet, 'queue');
        this.waitStart.push(start);
        this.waitSize.push(len);
        this.waitingBytes += len;
      }
      finish = start + (len * 8000) / rate;
      this.busyUntil = finish;
    }

    if (this.lost()) return this.drop(now, packet, 'loss');

    let at = finish + cfg.delayMs;
    if (cfg.jitterMs > 0) {
      at += (2 * this.random.nextFloat() - 1) * cfg.jitterMs;
      if (at < finish) at = finish;
    }
    if (cfg.reorderProbability > 0 && this.random.nextFloat() < cfg.reorderProbability) {
      at += cfg.reorderExtraDelayMs;
      c.reordered++;
      this.tracer?.(now, this.name, 'reorder', packet);
    } else {
      if (at < this.lastInOrder) at = this.lastInOrder;
      this.lastInOrder = at;
    }
    this.scheduled++;
    this.schedule(at, this, packet);
    if (cfg.duplicateProbability > 0 && this.random.nextFloat() < cfg.duplicateProbability) {
      c.duplicated++;
      this.tracer?.(now, this.name, 'duplicate', packet);
      this.scheduled++;
      this.schedule(at, this, packet.slice());
    }
  }

  /** The simulator calls this when it delivers a packet this link scheduled. */
  delivered(now: number, packet: Uint8Array): void {
    this.counters.deliveredPackets++;
    this.counters.deliveredBytes += packet.length;
    this.tracer?.(now, this.name, 'deliver', packet);
  }

  private drop(now: number, packet: Uint8Array, reason: 'loss' | 'queue' | 'down'): void {
    const c = this.counters;
    if (reason === 'loss') c.droppedLoss++;
    else if (reason === 'queue') c.droppedQueue++;
    else c.droppedDown++;
    c.droppedBytes += packet.length;
    this.tracer?.(now, this.name, 'drop', packet, reason satisfies DropReason);
  }

  /** Decides loss for one packet and steps the Gilbert-Elliott chain. */
  private lost(): boolean {
    const cfg = this.cfg;
    let lost = false;
    const ge = cfg.burstLoss;
    if (ge !== undefined) {
      const p = this.badState ? (ge.lossInBad ?? 1) : (ge.lossInGood ?? 0);
      if (p > 0 && this.random.nextFloat() < p) lost = true;
      const flip = this.badState ? ge.pBadToGood : ge.pGoodToBad;
      if (flip > 0 && this.random.nextFloat() < flip) this.badState = !this.badState;
    }
    if (!lost && cfg.lossProbability > 0 && this.random.nextFloat() < cfg.lossProbability) lost = true;
    return lost;
  }

  /** Forgets queued packets whose serialization has started by `now`. */
  private releaseStarted(now: number): void {
    const starts = this.waitStart;
    let head = this.waitHead;
    while (head < starts.length && starts[head] <= now) {
      this.waitingBytes -= this.waitSize[head];
      head++;
    }
    if (head === starts.length) {
      starts.length = 0;
      this.waitSize.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= starts.length) {
      starts.splice(0, head);
      this.waitSize.splice(0, head);
      head = 0;
    }
    this.waitHead = head;
  }
}

function validate(name: string, c: LinkConfig): void {
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new RangeError(`link ${name}: ${field} = ${String(value)} must be ${rule}`);
  };
  const finite = (field: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0)) fail(field, v, 'finite and >= 0');
  };
  const nonNegative = (field: string, v: number) => {
    if (!(v >= 0)) fail(field, v, '>= 0 (Infinity allowed)');
  };
  const probability = (field: string, v: number) => {
    if (!(v >= 0 && v <= 1)) fail(field, v, 'a probability in [0, 1]');
  };
  finite('delayMs', c.delayMs);
  finite('jitterMs', c.jitterMs);
  finite('reorderExtraDelayMs', c.reorderExtraDelayMs);
  nonNegative('rateBitsPerSec', c.rateBitsPerSec);
  nonNegative('queueLimitBytes', c.queueLimitBytes);
  probability('lossProbability', c.lossProbability);
  probability('reorderProbability', c.reorderProbability);
  probability('duplicateProbability', c.duplicateProbability);
  if (typeof c.up !== 'boolean') fail('up', c.up, 'a boolean');
  const ge = c.burstLoss;
  if (ge !== undefined) {
    probability('burstLoss.pGoodToBad', ge.pGoodToBad);
    probability('burstLoss.pBadToGood', ge.pBadToGood);
    probability('burstLoss.lossInBad', ge.lossInBad ?? 1);
    probability('burstLoss.lossInGood', ge.lossInGood ?? 0);
  }
}
