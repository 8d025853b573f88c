/**
 * Packet tracing for the simulator: the hook type links call (offer, deliver, drop with its
 * reason, and the reorder/duplicate decisions), and a recorder that keeps the records, hashes
 * them (two runs are identical iff their hashes are) and prints them, so a failing seed can be
 * replayed and read. Tracing is off unless a tracer is installed; then it costs nothing.
 */

/** What happened to a packet on a link. `reorder` and `duplicate` are decisions taken at offer time. */
export type TraceEvent = 'offer' | 'deliver' | 'drop' | 'reorder' | 'duplicate';

/** Why a packet was dropped: random or burst loss, drop-tail, link down, or no route at the sender. */
export type DropReason = 'loss' | 'queue' | 'down' | 'unroutable';

/**
 * Called by a link for every event on it. `link` is the link's name (for `unroutable` drops,
 * `unroutable:<sending host>`). `packet` is only valid during the call.
 */
export type Tracer = (time: number, link: string, event: TraceEvent, packet: Uint8Array, reason?: DropReason) => void;

export interface TraceRecord {
  readonly time: number;
  readonly link: string;
  readonly event: TraceEvent;
  readonly reason: DropReason | undefined;
  readonly length: number;
  /** FNV-1a of the packet's bytes, so equal traces mean equal contents too. */
  readonly digest: number;
}

export interface TraceRecorderOptions {
  /** Record only the links for which this returns true. */
  readonly filter?: (link: string) => boolean;
  /** Keep at most this many records (the first ones); later ones still count in `total`. */
  readonly limit?: number;
}

/** Collects trace records; install `recorder.tracer` with `sim.setTracer` or on one link. */
export class TraceRecorder {
  readonly records: TraceRecord[] = [];
  /** Records seen (after the filter), including those beyond the limit. */
  total = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);
  private readonly filter: ((link: string) => boolean) | undefined;
  private readonly limit: number;

  constructor(options: TraceRecorderOptions = {}) {
    this.filter = options.filter;
    this.limit = options.limit ?? Infinity;
  }

  readonly tracer: Tracer = (time, link, event, packet, reason) => {
    if (this.filter !== undefined && !this.filter(link)) return;
    const digest = fnv1a(packet);
    this.total++;
    this.f64[0] = time;
    this.mix(this.u32[0]);
    this.mix(this.u32[1]);
    for (let i = 0; i < link.length; i++) this.mix(link.charCodeAt(i));
    this.mix(EVENT_CODE[event] | ((reason === undefined ? 0 : REASON_CODE[reason]) << 8));
    this.mix(packet.length);
    this.mix(digest);
    if (this.records.length < this.limit) {
      this.records.push({ time, link, event, reason, length: packet.length, digest });
    }
  };

  /** A 64-bit hash (16 hex digits) of every record seen, over all fields, in order. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The records as text, one per line, from `start` for `count` records. */
  format(start = 0, count = Infinity): string {
    return this.records
      .slice(start, start + count)
      .map(formatRecord)
      .join('\n');
  }

  private mix(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ x, 0x5bd1e995) ^ (this.h2 >>> 15);
  }
}

export function formatRecord(r: TraceRecord): string {
  const what = r.reason === undefined ? r.event : `${r.event} ${r.reason}`;
  const digest = (r.digest >>> 0).toString(16).padStart(8, '0');
  return `${r.time.toFixed(6).padStart(16)} ms  ${r.link}  ${what}  ${r.length} B  #${digest}`;
}

/** 32-bit FNV-1a of a byte string. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

const EVENT_CODE: Record<TraceEvent, number> = { offer: 1, deliver: 2, drop: 3, reorder: 4, duplicate: 5 };
const REASON_CODE: Record<DropReason, number> = { loss: 1, queue: 2, down: 3, unroutable: 4 };
