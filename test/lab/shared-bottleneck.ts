/**
 * The lab's shared bottleneck: one rate limit and one drop-tail queue that the download
 * direction (aggregator -> client) of every path crosses together, as when all of a client's
 * paths meet in one access link. The per-path emulators shape each path on its own; this is
 * the one place where paths compete for the same capacity (fairness of multipath congestion
 * control, RFC 6356 §2 goal 2).
 *
 * Owns the topology field's form (`sharedBottleneck: { rate: 20mbit, queue: 100 }`), its
 * validation, and the commands that build it on the aggregator: an ifb device whose root is an
 * HTB class at the rate (counting whole Ethernet frames, as the emulators do) with a packet
 * FIFO of `queue` frames under it, and on every path interface p<i> a clsact egress filter (u32,
 * matching everything) that redirects all to the ifb (which sends each frame on out of p<i> once shaped):
 *
 *   aggregator p0 egress --\
 *   aggregator p1 egress ----> ifb0 [HTB rate R, pfifo limit Q] --> back out of p0 / p1
 *
 * The lab turns TSO/GSO off on the path interfaces (lab.ts), so the shaper sees frames of at
 * most the MTU, never a GSO super-packet whose length would be charged in one go.
 */
import { LabConfigError, parseRate, type Quantity } from './units.js';

export interface SharedBottleneckSpec {
  /** Rate of whole Ethernet frames (header included), e.g. "20mbit". */
  rate: Quantity;
  /** Drop-tail limit in frames (default 100). */
  queue?: Quantity;
}

export interface SharedBottleneckPlan {
  rateBitsPerSec: number;
  queuePackets: number;
}

/** The ifb device's name on the aggregator. */
export const BOTTLENECK_IF = 'ifb0';
const DEFAULT_QUEUE = 100;

/** Validates the topology's `sharedBottleneck`; throws LabConfigError naming the field. */
export function planSharedBottleneck(spec: SharedBottleneckSpec): SharedBottleneckPlan {
  const field = 'topology.sharedBottleneck';
  if (typeof spec !== 'object' || spec === null) throw new LabConfigError(`${field}: a mapping { rate, queue } is needed`);
  for (const k of Object.keys(spec)) if (k !== 'rate' && k !== 'queue') throw new LabConfigError(`${field}: unknown setting "${k}" (known: rate, queue)`);
  if (spec.rate === undefined) throw new LabConfigError(`${field}.rate: a rate is needed (e.g. 20mbit)`);
  const rateBitsPerSec = parseRate(`${field}.rate`, spec.rate);
  if (!Number.isFinite(rateBitsPerSec)) throw new LabConfigError(`${field}.rate: a bottleneck needs a finite rate`);
  if (rateBitsPerSec < 8000) throw new LabConfigError(`${field}.rate: at least 8kbit`);
  const queuePackets = spec.queue === undefined ? DEFAULT_QUEUE : typeof spec.queue === 'number' ? spec.queue : Number(spec.queue);
  if (!Number.isInteger(queuePackets) || queuePackets < 1) throw new LabConfigError(`${field}.queue: a whole number of frames >= 1`);
  return { rateBitsPerSec, queuePackets };
}

/**
 * The aggregator's commands: `ip` lines (the ifb device) and `tc` lines (shaper, FIFO, and one
 * redirect per path interface), each for `ip -batch` / `tc -batch` in the aggregator's namespace.
 */
export function sharedBottleneckCommands(b: SharedBottleneckPlan, pathIfs: readonly string[]): { ip: string[]; tc: string[] } {
  const rate = `${Math.round(b.rateBitsPerSec)}bit`;
  const tc = [
    `qdisc add dev ${BOTTLENECK_IF} root handle 1: htb default 1`,
    // quantum: one class, so it only silences HTB's "quantum is big" warning at high rates.
    `class add dev ${BOTTLENECK_IF} parent 1: classid 1:1 htb rate ${rate} ceil ${rate} quantum 1514`,
    `qdisc add dev ${BOTTLENECK_IF} parent 1:1 handle 10: pfifo limit ${b.queuePackets}`,
  ];
  // u32 matching every packet (zero bits under a zero mask) rather than matchall: some kernels
  // (this machine's) are built without cls_matchall, u32 is everywhere.
  for (const dev of pathIfs) tc.push(`qdisc add dev ${dev} clsact`, `filter add dev ${dev} egress protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${BOTTLENECK_IF}`);
  return { ip: [`link add ${BOTTLENECK_IF} type ifb`, `link set ${BOTTLENECK_IF} up`], tc };
}

/** Counters of the bottleneck's FIFO since the lab came up. */
export interface SharedBottleneckStats {
  /** Frames and their bytes (Ethernet header included) that left the queue. */
  sentPackets: number;
  sentBytes: number;
  /** Frames dropped at the tail of a full queue. */
  drops: number;
  /** Frames waiting now. */
  backlogPackets: number;
}

/** Reads the FIFO's counters from `tc -s -j qdisc show dev ifb0` output. */
export function parseBottleneckStats(json: string): SharedBottleneckStats {
  const qdiscs = JSON.parse(json) as { kind?: string; bytes?: number; packets?: number; drops?: number; qlen?: number }[];
  const fifo = qdiscs.find((q) => q.kind === 'pfifo');
  if (fifo === undefined) throw new Error(`shared bottleneck: no pfifo on ${BOTTLENECK_IF} in ${json.slice(0, 200)}`);
  return { sentPackets: fifo.packets ?? 0, sentBytes: fifo.bytes ?? 0, drops: fifo.drops ?? 0, backlogPackets: fifo.qlen ?? 0 };
}
