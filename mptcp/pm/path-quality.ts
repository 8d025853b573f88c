/**
 * Path quality estimator (issue 7, "path quality tracking"): fed periodically with one
 * subflow's (or one path's summed) TCP statistics and the time, it keeps
 * - loss: the share of data transmissions that were retransmissions (tcp/loss-estimator.ts:
 *   an EWMA over samples of at least `minLossSampleBytes`, decaying while the path is idle);
 * - capacity: delivery rate samples (bytes newly acknowledged per interval of at least one
 *   smoothed RTT) with their maximum over a recent window, as BBR's bandwidth filter (Kathleen
 *   Nichols' windowed min/max, Linux lib/win_minmax.c); idle intervals give no sample;
 * - RTT: the smoothed RTT and its minimum over a window;
 * - a verdict with hysteresis: 'bad' when loss stays above `badLoss` for `badLossSustainMs`
 *   or no ACK progress for more than max(`stallMinMs`, `stallRttFactor` x srtt) while data is
 *   outstanding; 'degraded' from `degradedLoss` or half that stall; better again only after
 *   `recoverMs` in a row of calm (bad -> degraded) or clean (-> good) conditions.
 * Pure and sans-IO (no clock, the caller passes `now` in ms); update() allocates nothing.
 */
import type { TcpStats } from '../tcp/tcp-types.js';
import { LossEstimator } from '../tcp/loss-estimator.js';
import { Sustained } from '../tcp/sustained.js';
import { WindowedExtreme } from '../tcp/windowed-extreme.js';

export type PathVerdict = 'good' | 'degraded' | 'bad';

/**
 * What one update reads: cumulative counters (TcpStats satisfies it). `inFlightBytes`
 * overrides bytesSent - bytesAcked, for a path whose totals include closed subflows.
 */
export type PathQualitySample = Pick<TcpStats, 'srttMs' | 'bytesSent' | 'bytesAcked' | 'retransmittedBytes'> & { inFlightBytes?: number };

export interface PathQualityOptions {
  /** Time constant of the loss EWMA (ms). */
  lossTauMs: number;
  /** A loss sample spans at least this many transmitted bytes (or `maxLossSampleMs`). */
  minLossSampleBytes: number;
  maxLossSampleMs: number;
  /** While nothing is sent the loss estimate decays with this time constant (ms). */
  idleLossDecayMs: number;
  /** Loss above this is degraded; below `goodLoss` it is clean. */
  degradedLoss: number;
  goodLoss: number;
  /** Loss above this for `badLossSustainMs` is bad; leaving bad needs it below `badLossExit`. */
  badLoss: number;
  badLossExit: number;
  badLossSustainMs: number;
  /** No ACK progress with data outstanding for max(stallMinMs, stallRttFactor x srtt) is bad. */
  stallMinMs: number;
  stallRttFactor: number;
  /** Conditions must stay better this long before the verdict improves. */
  recoverMs: number;
  /** Windows of the capacity maximum and of the RTT minimum (ms). */
  capacityWindowMs: number;
  minRttWindowMs: number;
  /** A delivery-rate sample spans at least max(this, srtt) ms. */
  minRateIntervalMs: number;
  /** Time constant of the delivery-rate EWMA (ms). */
  rateTauMs: number;
}

export const DEFAULT_PATH_QUALITY_OPTIONS: Readonly<PathQualityOptions> = {
  lossTauMs: 1000,
  minLossSampleBytes: 32 * 1024,
  maxLossSampleMs: 2000,
  idleLossDecayMs: 10_000,
  degradedLoss: 0.02,
  goodLoss: 0.01,
  badLoss: 0.1,
  badLossExit: 0.05,
  badLossSustainMs: 1000,
  stallMinMs: 1000,
  stallRttFactor: 4,
  recoverMs: 2000,
  capacityWindowMs: 10_000,
  minRttWindowMs: 10_000,
  minRateIntervalMs: 100,
  rateTauMs: 1000,
};

export class PathQuality {
  private readonly o: PathQualityOptions;
  private started = false;
  private lastAt = 0;
  private prevSent = 0;
  private prevAcked = 0;
  private prevRetx = 0;
  private prevInFlight = 0;
  private readonly loss: LossEstimator;
  // Delivery rate and capacity.
  private rateAcked = 0;
  private rateSince = 0;
  private rateEwma = 0;
  private readonly capacity = new WindowedExtreme('max');
  // RTT.
  private srtt = 0;
  private readonly minRtt = new WindowedExtreme('min');
  // Progress and verdict.
  private progressAt = 0;
  private inFlight = 0;
  private readonly lossHigh = new Sustained();
  private readonly calm = new Sustained();
  private readonly clean = new Sustained();
  private current: PathVerdict = 'good';
  private changedAt = 0;

  constructor(options: Partial<PathQualityOptions> = {}) {
    this.o = { ...DEFAULT_PATH_QUALITY_OPTIONS, ...options };
    this.loss = new LossEstimator({ tauMs: this.o.lossTauMs, minSampleBytes: this.o.minLossSampleBytes, maxSampleMs: this.o.maxLossSampleMs, idleDecayMs: this.o.idleLossDecayMs });
  }

  get verdict(): PathVerdict {
    return this.current;
  }

  /** When the verdict last changed (ms, the caller's clock). */
  get verdictSince(): number {
    return this.changedAt;
  }

  /** Share of data transmissions that were retransmissions (EWMA, 0..1). */
  get lossRate(): number {
    return this.loss.value;
  }

  /** Highest delivery rate of the recent window (bytes/s); 0 before a sample. */
  get capacityBytesPerSecond(): number {
    return this.capacity.value ?? 0;
  }

  /** EWMA of the delivery rate (bytes/s), idle intervals excluded. */
  get deliveryRateBytesPerSecond(): number {
    return this.rateEwma;
  }

  /** The latest smoothed RTT (ms); 0 before one is known. */
  get srttMs(): number {
    return this.srtt;
  }

  /** Lowest smoothed RTT of the recent window (ms); 0 before one is known. */
  get minRttMs(): number {
    return this.minRtt.value ?? 0;
  }

  /** Bytes sent and not yet acknowledged at the last update. */
  get inFlightBytes(): number {
    return this.inFlight;
  }

  /** How long data has been outstanding without ACK progress, as of `now` (0 if none is). */
  stalledMs(now: number): number {
    return this.inFlight > 0 ? Math.max(0, now - this.progressAt) : 0;
  }

  /** The stall after which the path is bad: max(stallMinMs, stallRttFactor x srtt). */
  get stallLimitMs(): number {
    return Math.max(this.o.stallMinMs, this.o.stallRttFactor * this.srtt);
  }

  /** Forgets everything (a new subflow on the path, counters restarted). */
  reset(): void {
    this.started = false;
    this.rateEwma = this.srtt = this.inFlight = 0;
    this.loss.reset();
    this.capacity.reset();
    this.minRtt.reset();
    this.lossHigh.reset();
    this.calm.reset();
    this.clean.reset();
    this.current = 'good';
  }

  /** Takes the statistics at `now` (ms) and returns the verdict. */
  update(now: number, s: PathQualitySample): PathVerdict {
    if (s.srttMs > 0) {
      this.srtt = s.srttMs;
      this.minRtt.update(now, s.srttMs, this.o.minRttWindowMs);
    }
    const inFlight = Math.max(0, s.inFlightBytes ?? s.bytesSent - s.bytesAcked);
    if (!this.started || s.bytesSent < this.prevSent || s.bytesAcked < this.prevAcked || s.retransmittedBytes < this.prevRetx || now < this.lastAt) {
      this.rebase(now, s, inFlight);
      return this.current;
    }
    const acked = s.bytesAcked - this.prevAcked;
    this.loss.update(now, s.bytesSent, s.retransmittedBytes);
    this.trackRate(now, acked, inFlight);
    if (acked > 0 || (this.prevInFlight === 0 && inFlight > 0)) this.progressAt = now;
    this.inFlight = inFlight;
    this.prevInFlight = inFlight;
    this.prevSent = s.bytesSent;
    this.prevAcked = s.bytesAcked;
    this.prevRetx = s.retransmittedBytes;
    this.lastAt = now;
    this.judge(now);
    return this.current;
  }

  private rebase(now: number, s: PathQualitySample, inFlight: number): void {
    this.started = true;
    this.prevSent = s.bytesSent;
    this.prevAcked = s.bytesAcked;
    this.prevRetx = s.retransmittedBytes;
    this.prevInFlight = this.inFlight = inFlight;
    this.lastAt = this.rateSince = this.progressAt = now;
    this.rateAcked = 0;
    this.loss.update(now, s.bytesSent, s.retransmittedBytes);
  }

  private trackRate(now: number, acked: number, inFlight: number): void {
    this.rateAcked += acked;
    const span = now - this.rateSince;
    if (span < Math.max(this.o.minRateIntervalMs, this.srtt)) return;
    if (this.rateAcked === 0 && inFlight === 0 && this.prevInFlight === 0) {
      this.rateSince = now; // idle: says nothing about capacity
      return;
    }
    const rate = (this.rateAcked * 1000) / span;
    this.capacity.update(now, rate, this.o.capacityWindowMs);
    this.rateEwma += (1 - Math.exp(-span / this.o.rateTauMs)) * (rate - this.rateEwma);
    this.rateAcked = 0;
    this.rateSince = now;
  }

  private judge(now: number): void {
    const o = this.o;
    const loss = this.loss.value;
    const stalled = this.stalledMs(now);
    const limit = this.stallLimitMs;
    const bad = this.lossHigh.check(now, loss > o.badLoss, o.badLossSustainMs) || stalled > limit;
    const degraded = loss > o.degradedLoss || stalled > limit / 2;
    const calmLong = this.calm.check(now, loss <= o.badLossExit && stalled <= limit, o.recoverMs);
    const cleanLong = this.clean.check(now, loss <= o.goodLoss && stalled <= limit / 2, o.recoverMs);
    let next = this.current;
    if (bad) next = 'bad';
    else if (this.current === 'bad') next = cleanLong ? 'good' : calmLong ? 'degraded' : 'bad';
    else if (degraded) next = 'degraded';
    else if (this.current === 'degraded' && cleanLong) next = 'good';
    if (next !== this.current) {
      this.current = next;
      this.changedAt = now;
    }
  }
}
