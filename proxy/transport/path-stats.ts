/**
 * Per-path accounting for the userspace transport's metrics. On the client a path is one
 * local address of the stack (the machine's addresses); on the aggregator, whose clients'
 * subflows may all arrive at one address, it is the client-side (remote) address of the
 * subflow. Label sets stay bounded: at most `maxPaths` distinct paths, later ones are counted
 * under 'other'; never a connection. Totals must only grow
 * (Prometheus counters), yet a connection's subflow statistics vanish with it, so the final
 * statistics of every closed connection are folded into `retired` totals and a snapshot is
 * retired + live. Gauges (smoothed RTT, cwnd, subflows by phase, up) come from live subflows
 * only. Pure: fed with SubflowStats, no clock, no I/O.
 */
import type { SubflowStats } from '../../mptcp/connection/mptcp-types.js';

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
}

export function zeroTotals(): PathTotals {
  return { sentBytes: 0, receivedBytes: 0, dataSentBytes: 0, dataReceivedBytes: 0, sentSegments: 0, receivedSegments: 0, retransmittedSegments: 0, retransmittedBytes: 0, timeouts: 0 };
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

export class PathAccounting {
  private readonly retired = new Map<string, PathTotals>();
  /** Every path name handed out so far (bounded by maxPaths). */
  private readonly names = new Set<string>();

  constructor(private readonly maxPaths = 64) {}

  /** The label of a subflow's path: its local or remote address, or 'other' past the cap. */
  pathOf(s: SubflowStats, side: PathSide): string {
    const name = side === 'local' ? s.local : s.remote;
    if (this.names.has(name)) return name;
    if (this.names.size >= this.maxPaths) return OTHER_PATH;
    this.names.add(name);
    return name;
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
   * retired + `live` connections, sorted by name.
   */
  snapshot(knownPaths: readonly string[], live: readonly LiveConnection[]): PathView[] {
    const views = new Map<string, PathView & { rtts: number[]; cwnds: number[]; anyRegular: boolean }>();
    const view = (path: string) => {
      let v = views.get(path);
      if (v === undefined) {
        const totals = { ...(this.retired.get(path) ?? zeroTotals()) };
        v = { path, totals, subflows: { handshake: 0, 'pre-established': 0, active: 0, closed: 0 }, up: false, srttSeconds: undefined, cwndBytes: undefined, backup: false, rtts: [], cwnds: [], anyRegular: false };
        views.set(path, v);
      }
      return v;
    };
    for (const p of knownPaths) view(p);
    for (const p of this.retired.keys()) view(p);
    for (const conn of live) {
      for (const s of conn.subflows) {
        const v = view(this.pathOf(s, conn.side));
        addInto(v.totals, s);
        if (s.phase === 'closed') continue; // an ended subflow: totals only
        const phase = (SUBFLOW_PHASES as readonly string[]).includes(s.phase) ? (s.phase as SubflowPhaseName) : 'handshake';
        v.subflows[phase]++;
        if (!(s.backup || s.localBackup)) v.anyRegular = true;
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
