/**
 * Drives one TcpConnection directly with hand-built segments and reads what it sends as wire
 * fields (parsed with the full codec, parseTcpSegment), so that tests by TCP state can assert
 * on sequence numbers, flags, windows and options exactly as a peer would see them.
 *
 * Numbers in tests are wire numbers: ISS is our initial sequence number, IRS the peer's, and
 * timestamps are our clock (floor(now) + TS_OFFSET) or whatever the test sends as the peer's.
 */
import { expect } from 'vitest';
import { TcpConnection, type ConnectionParams } from '../../../../mptcp/tcp/connection.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig, type TcpEvent } from '../../../../mptcp/tcp/tcp-types.js';
import { scanSegment, SegmentView } from '../../../../mptcp/wire/segment-view.js';
import { emitTcpHeader, parseTcpSegment, TcpFlag } from '../../../../mptcp/wire/tcp-header.js';
import type { TcpOption } from '../../../../mptcp/wire/tcp-options.js';

export const { FIN, SYN, RST, PSH, ACK } = TcpFlag;

export const LOCAL_PORT = 40000;
export const REMOTE_PORT = 80;
/** Our ISS (chosen near the top of the sequence space so that data wraps past 2^32). */
export const ISS = 0xffffff00;
/** The peer's ISN. */
export const IRS = 0x7000_0000;
/** Our timestamp clock is floor(now) + TS_OFFSET (RFC 7323 §5.4 randomisation). */
export const TS_OFFSET = 0x100000;

/** Wire sequence arithmetic. */
export const add = (wire: number, n: number): number => (wire + n) >>> 0;
/** Our wire sequence number for relative `n` (ISS + n; the first data byte is our(1)). */
export const our = (n: number): number => add(ISS, n);
/** The peer's wire sequence number for relative `n` (IRS + n). */
export const their = (n: number): number => add(IRS, n);

export interface SegSpec {
  seq: number;
  ack?: number;
  flags: number;
  /** Raw 16-bit window field (unscaled); default 65535. */
  window?: number;
  mss?: number;
  ws?: number;
  sackPermitted?: boolean;
  /** SACK blocks as [left, right) wire numbers. */
  sack?: [number, number][];
  /** [TSval, TSecr]. */
  ts?: [number, number];
  payload?: Uint8Array;
  srcPort?: number;
  dstPort?: number;
}

/** Builds a TCP segment (header with options, then payload; checksum zero). */
export function buildSegment(s: SegSpec): Uint8Array {
  const options: TcpOption[] = [];
  if (s.mss !== undefined) options.push({ kind: 'mss', mss: s.mss });
  if (s.sackPermitted) options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' });
  if (s.ts) options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: s.ts[0] >>> 0, tsecr: s.ts[1] >>> 0 });
  if (s.ws !== undefined) options.push({ kind: 'nop' }, { kind: 'window-scale', shift: s.ws });
  if (s.sack && s.sack.length > 0) {
    options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: s.sack.map(([l, r]) => ({ left: l >>> 0, right: r >>> 0 })) });
  }
  const payload = s.payload ?? new Uint8Array(0);
  const buf = new Uint8Array(60 + payload.length);
  const hl = emitTcpHeader(
    {
      srcPort: s.srcPort ?? REMOTE_PORT,
      dstPort: s.dstPort ?? LOCAL_PORT,
      seq: s.seq >>> 0,
      ack: (s.ack ?? 0) >>> 0,
      reserved: 0,
      flags: s.flags,
      window: s.window ?? 65535,
      checksum: 0,
      urgentPointer: 0,
      options,
    },
    buf,
    0,
  );
  buf.set(payload, hl);
  return buf.slice(0, hl + payload.length);
}

/** Scans a built segment into a fresh SegmentView (as host.ts does for every packet). */
export function viewOf(bytes: Uint8Array): SegmentView {
  const v = new SegmentView();
  if (!scanSegment(bytes, 0, bytes.length, v)) throw new Error(`test built an unscannable segment: ${v.error}`);
  return v;
}

/** Builds, scans and feeds one segment to `conn`. */
export function feed(conn: TcpConnection, now: number, s: SegSpec): void {
  const bytes = buildSegment(s);
  conn.handleSegment(now, viewOf(bytes), bytes);
}

/** A segment the connection sent, as wire fields. */
export interface Out {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  srcPort: number;
  dstPort: number;
  headerLength: number;
  /** Bytes of TCP options (header length minus 20). */
  optionBytes: number;
  mss?: number;
  ws?: number;
  sackPermitted: boolean;
  sack: [number, number][];
  ts?: { tsval: number; tsecr: number };
  /** Option kinds in order (NOP and EOL included), for layout checks. */
  kinds: string[];
  payload: Uint8Array;
}

const scratch = new Uint8Array(65536);

/** Calls pollSegment until it returns 0 and parses every segment with parseTcpSegment. */
export function drain(conn: TcpConnection, now: number, limit = 10_000): Out[] {
  const out: Out[] = [];
  for (let i = 0; i < limit; i++) {
    const n = conn.pollSegment(now, scratch, 0);
    if (n === 0) return out;
    const p = parseTcpSegment(scratch, 0, n);
    if (!p.ok) throw new Error(`connection emitted an unparseable segment: ${JSON.stringify(p.error)}`);
    const h = p.value.header;
    const o: Out = {
      seq: h.seq,
      ack: h.ack,
      flags: h.flags,
      window: h.window,
      srcPort: h.srcPort,
      dstPort: h.dstPort,
      headerLength: p.value.headerLength,
      optionBytes: p.value.headerLength - 20,
      sackPermitted: false,
      sack: [],
      kinds: [],
      payload: scratch.slice(p.value.payloadOffset, n),
    };
    for (const opt of h.options) {
      o.kinds.push(opt.kind);
      if (opt.kind === 'mss') o.mss = opt.mss;
      else if (opt.kind === 'window-scale') o.ws = opt.shift;
      else if (opt.kind === 'sack-permitted') o.sackPermitted = true;
      else if (opt.kind === 'sack') o.sack = opt.blocks.map((b) => [b.left, b.right]);
      else if (opt.kind === 'timestamps') o.ts = { tsval: opt.tsval, tsecr: opt.tsecr };
      else if (opt.kind === 'invalid') throw new Error(`connection emitted an invalid option: ${JSON.stringify(opt.error)}`);
    }
    out.push(o);
  }
  throw new Error(`pollSegment did not return 0 after ${limit} segments`);
}

export function flagNames(f: number): string {
  const names: string[] = [];
  if (f & SYN) names.push('SYN');
  if (f & FIN) names.push('FIN');
  if (f & RST) names.push('RST');
  if (f & PSH) names.push('PSH');
  if (f & ACK) names.push('ACK');
  return names.join('|');
}

export function eventName(e: TcpEvent): string {
  return e.type === 'reset' ? `reset:${e.reason}` : e.type;
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function config(over: Partial<TcpConfig> = {}): TcpConfig {
  return { ...DEFAULT_TCP_CONFIG, ...over };
}

export function params(cfg: TcpConfig, now = 0, iss = ISS): ConnectionParams {
  return { config: cfg, localPort: LOCAL_PORT, remotePort: REMOTE_PORT, ipv6: false, iss, tsOffset: TS_OFFSET, now };
}

/** Options the simulated peer puts on its SYN or SYN/ACK. */
export interface PeerOptions {
  mss?: number;
  ws?: number;
  sackPermitted?: boolean;
  /** Peer sends timestamps; its TSval clock is `now + peerTsBase`. */
  ts?: boolean;
  window?: number;
}

export const FULL_OPTIONS: PeerOptions = { mss: 1460, ws: 7, sackPermitted: true, ts: true };
export const NO_OPTIONS: PeerOptions = {};

/**
 * One connection under test plus a scripted peer: `now`, the peer's next sequence number and
 * timestamp clock, and helpers to send from the peer, poll our output and run timers.
 */
export class Lab {
  now = 0;
  /** Peer's next sequence number (wire). */
  peerNxt = add(IRS, 1);
  /** The peer's TSval at time t is t + peerTsBase (when it uses timestamps). */
  peerTsBase = 5_000_000;
  peerTs: boolean;
  /** The peer's window scale (what it offered), used to encode `window` in bytes. */
  peerWs: number;
  readonly events: string[] = [];

  constructor(
    readonly conn: TcpConnection,
    peer: PeerOptions,
  ) {
    this.peerTs = peer.ts === true;
    this.peerWs = peer.ws ?? 0;
  }

  peerTsval(at = this.now): number {
    return (at + this.peerTsBase) >>> 0;
  }

  /** Feeds a segment from the peer at `now` (TS option added when the peer uses timestamps and `ts` is not given). */
  send(s: SegSpec): void {
    const spec = { ...s };
    if (this.peerTs && spec.ts === undefined && !(s.flags & RST)) spec.ts = [this.peerTsval(), this.lastTsvalSeen];
    feed(this.conn, this.now, spec);
  }

  /** Peer ACK of our data up to wire `ack` with a window of `windowBytes` (scaled by the peer's shift). */
  ack(ack: number, windowBytes = 65535 << this.peerWs, extra: Partial<SegSpec> = {}): void {
    this.send({ seq: this.peerNxt, ack, flags: ACK, window: Math.min(65535, Math.floor(windowBytes / 2 ** this.peerWs)), ...extra });
  }

  /** Peer data at its current next sequence number (advances it unless `seq` is given). */
  data(payload: Uint8Array, extra: Partial<SegSpec> = {}): void {
    const seq = extra.seq ?? this.peerNxt;
    this.send({ seq, ack: this.ourNxtAcked, flags: ACK | PSH, window: 65535, payload, ...extra });
    if (extra.seq === undefined) this.peerNxt = add(this.peerNxt, payload.length);
  }

  /** What the peer acknowledges by default on its data segments: everything we sent so far. */
  ourNxtAcked = add(ISS, 1);
  lastTsvalSeen = 0;

  /** Polls our output at `now`; records our last TSval so the peer can echo it. */
  poll(): Out[] {
    const segs = drain(this.conn, this.now);
    for (const s of segs) if (s.ts) this.lastTsvalSeen = s.ts.tsval;
    this.collectEvents();
    return segs;
  }

  collectEvents(): string[] {
    for (let e = this.conn.pollEvent(); e; e = this.conn.pollEvent()) this.events.push(eventName(e));
    return this.events;
  }

  /**
   * Advances time to `until`, running every timer that falls due on the way and polling after
   * each; returns what was sent, with the time it was sent.
   */
  runUntil(until: number): { at: number; seg: Out }[] {
    const sent: { at: number; seg: Out }[] = [];
    for (let guard = 0; guard < 100_000; guard++) {
      const t = this.conn.pollTimeout();
      if (t > until) break;
      this.now = Math.max(this.now, t);
      this.conn.handleTimeout(this.now);
      for (const seg of this.poll()) sent.push({ at: this.now, seg });
    }
    this.now = Math.max(this.now, until);
    for (const seg of this.poll()) sent.push({ at: this.now, seg });
    return sent;
  }

  get state(): string {
    return this.conn.state;
  }
}

/** Expects exactly one segment and returns it. */
export function one(segs: Out[]): Out {
  expect(segs.map((s) => `${flagNames(s.flags)} seq=${s.seq} ack=${s.ack} len=${s.payload.length}`)).toHaveLength(1);
  return segs[0];
}

/** The peer's SYN as a spec. */
export function synSpec(peer: PeerOptions, tsval = 0): SegSpec {
  return {
    seq: IRS,
    flags: SYN,
    window: peer.window ?? 65535,
    mss: peer.mss,
    ws: peer.ws,
    sackPermitted: peer.sackPermitted,
    ts: peer.ts ? [tsval, 0] : undefined,
  };
}

/**
 * Passive open: TcpConnection.accept on the peer's SYN at t=0, SYN/ACK polled, the peer's ACK
 * at t=rttMs completes the handshake. Returns the lab at t=rttMs, ESTABLISHED, output drained.
 */
export function passiveOpen(peer: PeerOptions, cfg: Partial<TcpConfig> = {}, rttMs = 10): Lab {
  const c = config(cfg);
  const syn = buildSegment(synSpec(peer, 5_000_000));
  const conn = TcpConnection.accept(params(c, 0), viewOf(syn));
  const lab = new Lab(conn, peer);
  const synAck = one(lab.poll());
  expect(synAck.flags).toBe(SYN | ACK);
  lab.now = rttMs;
  lab.ack(add(ISS, 1), (peer.window ?? 65535) << (peer.ws ?? 0));
  expect(conn.state).toBe('ESTABLISHED');
  expect(lab.poll()).toEqual([]);
  return lab;
}

/**
 * Active open: TcpConnection.connect at t=0, SYN polled, the peer's SYN/ACK at t=rttMs, our ACK
 * polled. Returns the lab at t=rttMs, ESTABLISHED.
 */
export function activeOpen(peer: PeerOptions, cfg: Partial<TcpConfig> = {}, rttMs = 10): Lab {
  const c = config(cfg);
  const conn = TcpConnection.connect(params(c, 0));
  const lab = new Lab(conn, peer);
  const syn = one(lab.poll());
  expect(syn.flags).toBe(SYN);
  lab.now = rttMs;
  feed(conn, lab.now, {
    seq: IRS,
    ack: add(ISS, 1),
    flags: SYN | ACK,
    window: peer.window ?? 65535,
    mss: peer.mss,
    ws: peer.ws,
    sackPermitted: peer.sackPermitted,
    ts: peer.ts ? [lab.peerTsval(), syn.ts?.tsval ?? 0] : undefined,
  });
  expect(conn.state).toBe('ESTABLISHED');
  const ack = one(lab.poll());
  expect(ack.flags).toBe(ACK);
  return lab;
}
