/**
 * What a path of the lab does to packets: the numeric per-direction configuration the emulator
 * runs on (DirectionConfig, PathConfig), the human form written in topology files and passed to
 * `lab.path(name).set(...)` (LinkSpec, PathSpec), and the merge of a spec onto a configuration.
 * Directions: `uplink` is client -> aggregator, `downlink` aggregator -> client. A spec's
 * top-level link fields apply to both directions; `uplink` / `downlink` override one.
 */
import { LabConfigError, parseDuration, parsePercent, parseRate, parseSize, type Quantity } from './units.js';

/** Gilbert-Elliott burst loss, stepped once per packet (mean burst length = 1 / pBadToGood). */
export interface GilbertElliottConfig {
  /** Probability of moving from the good to the bad state after a packet. */
  pGoodToBad: number;
  /** Probability of moving from the bad to the good state after a packet. */
  pBadToGood: number;
  /** Loss probability in the good state. */
  lossInGood: number;
  /** Loss probability in the bad state. */
  lossInBad: number;
}

export interface DirectionConfig {
  /** One-way propagation delay, ms. */
  delayMs: number;
  /** Uniform jitter, +-jitterMs around delayMs; FIFO order is kept (only `reorder` reorders). */
  jitterMs: number;
  /** Serialization rate of Ethernet frames (header included), bit/s; Infinity = unlimited. */
  rateBitsPerSec: number;
  /** Drop-tail limit on frames waiting for serialization; Infinity = unlimited. */
  queuePackets: number;
  /** Drop-tail limit on bytes waiting for serialization; Infinity = unlimited. */
  queueBytes: number;
  /** Independent loss probability per frame. */
  loss: number;
  /** Burst loss on top of `loss`; null for none. */
  burst: GilbertElliottConfig | null;
  /** Probability that a frame is held back by reorderDelayMs (so later frames overtake it). */
  reorder: number;
  reorderDelayMs: number;
}

/**
 * up: forwarding. blackhole: the links stay up and every frame is silently dropped. down: the
 * emulator drops every frame and also turns its two interfaces off, so both hosts see their
 * interface lose carrier (NO-CARRIER), as when a cable is pulled or a modem disconnects.
 */
export type PathState = 'up' | 'blackhole' | 'down';

export interface PathConfig {
  uplink: DirectionConfig;
  downlink: DirectionConfig;
  state: PathState;
}

/** Burst loss in a spec: probabilities as percentages ("1%" or 1). */
export interface GilbertElliottSpec {
  p: Quantity;
  r: Quantity;
  lossInGood?: Quantity;
  lossInBad?: Quantity;
}

/** One direction's settings as a person writes them; omitted fields keep their value. */
export interface LinkSpec {
  delay?: Quantity;
  jitter?: Quantity;
  rate?: Quantity;
  /** Queue limit in frames ("unlimited" or a number). */
  queue?: Quantity;
  queueBytes?: Quantity;
  loss?: Quantity;
  /** Gilbert-Elliott burst loss; null removes it. */
  burst?: GilbertElliottSpec | null;
  reorder?: Quantity;
  reorderDelay?: Quantity;
}

export interface PathSpec extends LinkSpec {
  uplink?: LinkSpec;
  downlink?: LinkSpec;
  state?: PathState;
}

/** A path with nothing configured: no delay, no loss, unlimited rate, 1000-frame queue. */
export function defaultDirection(): DirectionConfig {
  return { delayMs: 0, jitterMs: 0, rateBitsPerSec: Infinity, queuePackets: 1000, queueBytes: Infinity, loss: 0, burst: null, reorder: 0, reorderDelayMs: 0 };
}

export function defaultPath(): PathConfig {
  return { uplink: defaultDirection(), downlink: defaultDirection(), state: 'up' };
}

const LINK_KEYS = new Set(['delay', 'jitter', 'rate', 'queue', 'queueBytes', 'loss', 'burst', 'reorder', 'reorderDelay']);
const PATH_KEYS = new Set([...LINK_KEYS, 'uplink', 'downlink', 'state']);

function checkKeys(field: string, spec: object, allowed: Set<string>): void {
  for (const k of Object.keys(spec)) if (!allowed.has(k)) throw new LabConfigError(`${field}: unknown setting "${k}" (known: ${[...allowed].join(', ')})`);
}

function queueLimit(field: string, v: Quantity): number {
  if (v === 'unlimited') return Infinity;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new LabConfigError(`${field}: a queue limit is a whole number of frames >= 1 or "unlimited"`);
  return n;
}

/** `base` with the fields of `spec` applied (a new object). */
export function applyLinkSpec(field: string, base: DirectionConfig, spec: LinkSpec): DirectionConfig {
  checkKeys(field, spec, LINK_KEYS);
  const c = { ...base };
  if (spec.delay !== undefined) c.delayMs = parseDuration(`${field}.delay`, spec.delay);
  if (spec.jitter !== undefined) c.jitterMs = parseDuration(`${field}.jitter`, spec.jitter);
  if (spec.rate !== undefined) c.rateBitsPerSec = parseRate(`${field}.rate`, spec.rate);
  if (spec.queue !== undefined) c.queuePackets = queueLimit(`${field}.queue`, spec.queue);
  if (spec.queueBytes !== undefined) c.queueBytes = parseSize(`${field}.queueBytes`, spec.queueBytes);
  if (spec.loss !== undefined) c.loss = parsePercent(`${field}.loss`, spec.loss);
  if (spec.reorder !== undefined) c.reorder = parsePercent(`${field}.reorder`, spec.reorder);
  if (spec.reorderDelay !== undefined) c.reorderDelayMs = parseDuration(`${field}.reorderDelay`, spec.reorderDelay);
  if (spec.burst === null) c.burst = null;
  else if (spec.burst !== undefined) {
    const b = spec.burst;
    checkKeys(`${field}.burst`, b, new Set(['p', 'r', 'lossInGood', 'lossInBad']));
    c.burst = {
      pGoodToBad: parsePercent(`${field}.burst.p`, b.p),
      pBadToGood: parsePercent(`${field}.burst.r`, b.r),
      lossInGood: b.lossInGood === undefined ? 0 : parsePercent(`${field}.burst.lossInGood`, b.lossInGood),
      lossInBad: b.lossInBad === undefined ? 1 : parsePercent(`${field}.burst.lossInBad`, b.lossInBad),
    };
    if (c.burst.pBadToGood === 0) throw new LabConfigError(`${field}.burst.r: 0 would never leave the bad state`);
  }
  if (c.reorder > 0 && c.reorderDelayMs <= 0) throw new LabConfigError(`${field}.reorderDelay: reordering needs a hold-back delay > 0`);
  return c;
}

/** `base` with a path spec applied: shared fields to both directions, then each override. */
export function applyPathSpec(field: string, base: PathConfig, spec: PathSpec): PathConfig {
  checkKeys(field, spec, PATH_KEYS);
  const { uplink, downlink, state, ...shared } = spec;
  if (state !== undefined && state !== 'up' && state !== 'blackhole' && state !== 'down') {
    throw new LabConfigError(`${field}.state: "${String(state)}" is not up, blackhole or down`);
  }
  return {
    uplink: applyLinkSpec(`${field}.uplink`, applyLinkSpec(field, base.uplink, shared), uplink ?? {}),
    downlink: applyLinkSpec(`${field}.downlink`, applyLinkSpec(field, base.downlink, shared), downlink ?? {}),
    state: state ?? base.state,
  };
}

/** JSON with Infinity kept (as the string "Infinity"), for the emulator's control protocol. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v));
}

export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v));
}
