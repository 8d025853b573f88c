/**
 * Per-path accounting for the userspace transport's metrics. On the client a path is one
 * local address of the stack (the machine's addresses); on the aggregator, whose clients'
 * subflows may all arrive at one address, it is the client-side (remote) address of the
 * subflow. A path's label is its configured name where `pathName` knows one, else the
 * address. Label sets stay bounded: at most `maxPaths` distinct paths, later ones are counted
 * under 'other'; never a connection. Totals must only grow
 * (Prometheus counters), yet a connection's subflow statistics vanish with it, so the final
 * statistics of every closed connection are folded into `retired` totals and a snapshot is
 * retired + live. Gauges (smoothed RTT, cwnd, subflows by phase, up, stale, tier, bytes in
 * flight) come from live subflows only. PathQualityTracker keeps one PathQuality estimator
 * (mptcp/pm/path-quality.ts: loss, capacity, verdict) per path, fed with the snapshots.
 * Pure: fed with SubflowStats and times, no clock, no I/O.
 */
import type { SubflowStats } from '../../mptcp/connection/mptcp-types.js';
import { PathQuality, type PathQualityOptions, type PathVerdict } from '../../mptcp/pm/path-quality.js';

/** Monotonic totals of one path (all subflows that ever used it). */
export interface PathTotals {
  /** TCP payload bytes sent on the path's subflows (retransmissions included). */
  sentBytes: number;
  receivedBytes: number;
  /** MPTCP data bytes mapped onto the path (the connection-level share of each path). */
  dataSentBytes: number;
  dataReceivedBytes: number;
  sentSegments: number;
  receivedSegments: number;
  retransmittedSegments: number;
  retransmittedBytes: number;
  /** Retransmission timeouts. */
  timeouts: number;
  /** New data bytes the peer acknowledged. */
  ackedBytes: number;
  /** Bytes the scheduler handed to the path's subflows (new data and reinjections). */
  scheduledBytes: number;
}

export const SUBFLOW_PHASES = ['handshake', 'pre-established', 'active', 'closed'] as const;
export type SubflowPhaseName = (typeof SUBFLOW_PHASES)[number];

/** One path now: totals plus gauges from its live subflows. */
export interface PathView {
  path: string;
  totals: PathTotals;
  /** Live subflows on this path by phase. */
  subflows: Record<SubflowPhaseName, number>;
  /** At least one subflow on this path is active and established (it can carry data). */
  up: boolean;
  /** Mean smoothed RTT of its established subflows (seconds); undefined without samples. */
  srttSeconds: number | undefined;
  /** Mean congestion window of its established subflows (bytes); undefined without samples. */
  cwndBytes: number | undefined;
  /** Every live subflow on this path is a backup one (ours or the peer's choice). */
  backup: boolean;
  /** Live subflows the stack marked stale (retransmission timeouts without progress). */
  stale: number;
  /** Live subflows the stack demoted for their loss (they only carry copies). */
  lossDemoted: number;
  /** Lowest policy tier of its live subflows (0 = primary); undefined when none says. */
  tier: number | undefined;
  /** Data sent on its live subflows and not yet acknowledged (bytes). */
  inFlightBytes: number;
}

export function zeroTotals(): PathTotals {
  return { sentBytes: 0, receivedBytes: 0, dataSentBytes: 0, dataReceivedBytes: 0, sentSegments: 0, receivedSegments: 0, retransmittedSegments: 0, retransmittedBytes: 0, timeouts: 0, ackedBytes: 0, scheduledBytes: 0 };
}

function addInto(t: PathTotals, s: SubflowStats): void {
  t.sentBytes += s.tcp.bytesSent;
  t.receivedBytes += s.tcp.bytesReceived;
  t.dataSentBytes += s.dataBytesSent;
  t.dataReceivedBytes += s.dataBytesReceived;
  t.sentSegments += s.tcp.segmentsSent;
  t.receivedSegments += s.tcp.segmentsReceived;
  t.retransmittedSegments += s.tcp.retransmittedSegments;
  t.retransmittedBytes += s.tcp.retransmittedBytes;
  t.timeouts += s.tcp.timeouts;
  t.ackedBytes += s.tcp.bytesAcked;
  t.scheduledBytes += optional(s, 'scheduledBytes', 'number') ?? 0;
}

/**
 * A SubflowStats field that newer stacks report (scheduledBytes, stale, tier): read when
 * present with the expected type, else undefined.
 */
function optional<T extends 'number' | 'boolean'>(s: SubflowStats, key: string, type: T): (T extends 'number' ? number : boolean) | undefined {
  const v: unknown = (s as unknown as Record<string, unknown>)[key];
  return typeof v === type ? (v as T extends 'number' ? number : boolean) : undefined;
}

const ESTABLISHED = new Set(['ESTABLISHED', 'CLOSE_WAIT']);

/** Which end of a subflow names its path. */
export type PathSide = 'local' | 'remote';

/** One connection's subflows (`subflowStats(true)`) and which end names their paths. */
export interface LiveConnection {
  side: PathSide;
  subflows: readonly SubflowStats[];
}

export const OTHER_PATH = 'other';

/** A path's configured name for an address (undefined: no name, the address is the label). */
export type PathNamer = (address: string) => string | undefined;

export interface PathAccountingOptions {
  /** Distinct path labels at most; later ones are counted under 'other' (default 64). */
  maxPaths?: number;
  /** Names paths (configured link names); the address where it gives none. */
  pathName?: PathNamer;
}

export class PathAccounting {
  private readonly retired = new Map<string, PathTotals>();
  /** Every path label handed out so far (bounded by maxPaths). */
  private readonly names = new Set<string>();
  private readonly maxPaths: number;
  private pathName: PathNamer | undefined;

  /** A number is maxPaths (the older form). */
  constructor(options: PathAccountingOptions | number = {}) {
    const o = typeof options === 'number' ? { maxPaths: options } : options;
    this.maxPaths = o.maxPaths ?? 64;
    this.pathName = o.pathName;
  }

  /** Names paths from now on (a configuration reload); totals so far keep their labels. */
  setPathName(pathName: PathNamer | undefined): void {
    this.pathName = pathName;
  }

  /** The label of an address: its path's name or the address, or 'other' past the cap. */
  label(address: string): string {
    const name = this.pathName?.(address) ?? address;
    if (this.names.has(name)) return name;
    if (this.names.size >= this.maxPaths) return OTHER_PATH;
    this.names.add(name);
    return name;
  }

  /** The label of a subflow's path (its local or its remote address). */
  pathOf(s: SubflowStats, side: PathSide): string {
    return this.label(side === 'local' ? s.local : s.remote);
  }

  /** A connection ended: its subflows' final statistics (`subflowStats(true)`) are kept. */
  retire(final: readonly SubflowStats[], side: PathSide = 'local'): void {
    for (const s of final) {
      const path = this.pathOf(s, side);
      let t = this.retired.get(path);
      if (t === undefined) this.retired.set(path, (t = zeroTotals()));
      addInto(t, s);
    }
  }

  /**
   * Every known path (the stack's local addresses, and any path seen before) with totals of
   * retired + `live` connections, sorted by label.
   */
  snapshot(knownPaths: readonly string[], live: readonly LiveConnection[]): PathView[] {
    type Building = PathView & { rtts: number[]; cwnds: number[]; anyRegular: boolean };
    const views = new Map<string, Building>();
    const view = (path: string) => {
      let v = views.get(path);
      if (v === undefined) {
        const totals = { ...(this.retired.get(path) ?? zeroTotals()) };
        v = { path, totals, subflows: { handshake: 0, 'pre-established': 0, active: 0, closed: 0 }, up: false, srttSeconds: undefined, cwndBytes: undefined, backup: false, stale: 0, lossDemoted: 0, tier: undefined, inFlightBytes: 0, rtts: [], cwnds: [], anyRegular: false };
        views.set(path, v);
      }
      return v;
    };
    for (const p of knownPaths) view(this.label(p));
    for (const p of this.retired.keys()) view(p);
    for (const conn of live) {
      for (const s of conn.subflows) {
        const v = view(this.pathOf(s, conn.side));
        addInto(v.totals, s);
        if (s.phase === 'closed') continue; // an ended subflow: totals only
        const phase = (SUBFLOW_PHASES as readonly string[]).includes(s.phase) ? (s.phase as SubflowPhaseName) : 'handshake';
        v.subflows[phase]++;
        if (!(s.backup || s.localBackup)) v.anyRegular = true;
        if (optional(s, 'stale', 'boolean') === true) v.stale++;
        if (optional(s, 'lossDemoted', 'boolean') === true) v.lossDemoted++;
        const tier = optional(s, 'tier', 'number');
        if (tier !== undefined && (v.tier === undefined || tier < v.tier)) v.tier = tier;
        v.inFlightBytes += Math.max(0, s.tcp.bytesSent - s.tcp.bytesAcked);
        if (phase === 'active' && ESTABLISHED.has(s.tcp.state)) {
          v.up = true;
          if (s.tcp.srttMs > 0) v.rtts.push(s.tcp.srttMs / 1000);
          v.cwnds.push(s.tcp.cwnd);
        }
      }
    }
    const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
    return [...views.values()]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map(({ rtts, cwnds, anyRegular, ...v }) => ({ ...v, srttSeconds: mean(rtts), cwndBytes: mean(cwnds), backup: !anyRegular && v.subflows.active + v.subflows.handshake + v.subflows['pre-established'] > 0 }));
  }
}

/** A path's quality as the metrics and the status show it. */
export interface PathQualityView {
  /** Share of data transmissions that were retransmissions (EWMA, 0..1). */
  lossRatio: number;
  /** Highest delivery rate (acknowledged bytes/s) of the recent window; sending direction. */
  capacityBytesPerSecond: number;
  deliveryRateBytesPerSecond: number;
  /** Lowest smoothed RTT of the recent window; undefined before one is known. */
  minRttSeconds: number | undefined;
  verdict: PathVerdict;
}

/**
 * One PathQuality per path label, fed with the path's totals (sent, acknowledged and
 * retransmitted bytes of retired + live subflows), the mean smoothed RTT and the bytes in
 * flight on live subflows. Bounded as the labels are; update() allocates only for a new path.
 */
export class PathQualityTracker {
  private readonly paths = new Map<string, { q: PathQuality; sample: { srttMs: number; bytesSent: number; bytesAcked: number; retransmittedBytes: number; inFlightBytes: number } }>();

  constructor(private readonly options: Partial<PathQualityOptions> = {}) {}

  /** Takes a snapshot's paths at `now` (ms, a monotonic clock). */
  update(now: number, views: readonly PathView[]): void {
    for (const v of views) {
      let e = this.paths.get(v.path);
      if (e === undefined) this.paths.set(v.path, (e = { q: new PathQuality(this.options), sample: { srttMs: 0, bytesSent: 0, bytesAcked: 0, retransmittedBytes: 0, inFlightBytes: 0 } }));
      e.sample.srttMs = (v.srttSeconds ?? 0) * 1000;
      e.sample.bytesSent = v.totals.sentBytes;
      e.sample.bytesAcked = v.totals.ackedBytes;
      e.sample.retransmittedBytes = v.totals.retransmittedBytes;
      e.sample.inFlightBytes = v.inFlightBytes;
      e.q.update(now, e.sample);
    }
  }

  /** The estimator of a path (undefined before its first update). */
  estimator(path: string): PathQuality | undefined {
    return this.paths.get(path)?.q;
  }

  view(path: string): PathQualityView | undefined {
    const q = this.paths.get(path)?.q;
    if (q === undefined) return undefined;
    return { lossRatio: q.lossRate, capacityBytesPerSecond: q.capacityBytesPerSecond, deliveryRateBytesPerSecond: q.deliveryRateBytesPerSecond, minRttSeconds: q.minRttMs > 0 ? q.minRttMs / 1000 : undefined, verdict: q.verdict };
  }
}
