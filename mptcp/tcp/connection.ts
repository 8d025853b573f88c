/**
 * One TCP connection as a sans-IO state machine (RFC 9293), quinn-proto style: feed it
 * segments with `handleSegment(now, ...)` and timer expiries with `handleTimeout(now)`; take
 * segments to send from `pollSegment(now, out, off)`, events from `pollEvent()`, and the next
 * deadline from `pollTimeout()`. It never reads a clock or touches a socket.
 *
 * Implements: active, passive and simultaneous open; half-close, TIME_WAIT; RST validation
 * and challenge ACKs (RFC 5961); MSS, window scaling, timestamps and PAWS (RFC 7323); SACK
 * (RFC 2018) and SACK-based loss recovery (RFC 6675; NewReno-style without SACK, RFC 6582);
 * RTO per RFC 6298; delayed ACKs; zero-window probes; keepalive; Nagle off; receive-window
 * autotuning within a bound. Sequence numbers are relative (seq.ts). IP addresses, ISNs and
 * checksums are the host's business (host.ts).
 */
import { writeU16, writeU32 } from '../wire/bytes.js';
import type { SegmentView } from '../wire/segment-view.js';
import { TcpFlag } from '../wire/tcp-header.js';
import { ByteQueue } from './byte-queue.js';
import { createCongestionControl, type CongestionControl } from './congestion.js';
import { InflightCap } from './inflight-cap.js';
import { Reassembly } from './reassembly.js';
import { RttEstimator } from './rtt.js';
import { DUP_THRESH, Scoreboard } from './scoreboard.js';
import { fromWire, toWire, u32Less } from './seq.js';
import type { SubflowHooks } from './subflow-hooks.js';
import type { TcpConfig, TcpEvent, TcpState, TcpStats } from './tcp-types.js';

const { FIN, SYN, RST, PSH, ACK } = TcpFlag;
/** Default MSS when the peer's SYN has none (RFC 9293 §3.7.1; RFC 8200 §5 for IPv6). */
const DEFAULT_PEER_MSS_V4 = 536;
const DEFAULT_PEER_MSS_V6 = 1220;
const TS_OPTION_SPACE = 12;
/** ACK every segment for the first few (Linux "quickack"), helping the peer's slow start. */
const QUICKACK_SEGMENTS = 16;
/** Bound on ACKs owed for data that arrived in one batch. */
const MAX_QUEUED_ACKS = 64;

export interface ConnectionParams {
  config: TcpConfig;
  localPort: number;
  remotePort: number;
  ipv6: boolean;
  /** Initial send sequence number (RFC 6528, chosen by the host). */
  iss: number;
  /** Offset added to our timestamp clock (RFC 7323 §5.4: per-connection randomization). */
  tsOffset: number;
  now: number;
  /** Present when this connection is an MPTCP subflow (subflow-hooks.ts). */
  hooks?: SubflowHooks;
}

export class TcpConnection {
  state: TcpState;
  readonly localPort: number;
  readonly remotePort: number;
  private readonly cfg: TcpConfig;
  private readonly hooks: SubflowHooks | null;

  // Send sequence space, relative to ISS (ISS = 0; first data byte = 1).
  private readonly iss: number;
  private sndUna = 0;
  private sndNxt = 0;
  private sndMax = 0;
  private sndWnd = 0;
  private maxSndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndWscale = 0;
  private readonly sendQueue = new ByteQueue();
  /** Relative seq of sendQueue's first byte. */
  private sendQueueStart = 1;
  /** Relative seq our FIN occupies once shutdown() was called; -1 before. */
  private finSeq = -1;
  private peerMss: number;

  // Receive sequence space, relative to IRS (IRS = 0).
  private irs = 0;
  private rcvNxt = 0;
  private rcvWscale = 0;
  private rcvBufSize: number;
  private announcedRight = 0;
  private readonly recvQueue = new ByteQueue();
  private readonly reassembly = new Reassembly();
  /** Relative seq of the peer's FIN, once seen (it may arrive before the data it follows). */
  private peerFinSeq = -1;
  private peerFinConsumed = false;

  // Negotiated options.
  private sackOk = false;
  private tsOk = false;
  private tsRecent = 0;
  /** RCV.NXT as carried by the last ACK we sent (Last.ACK.sent, RFC 7323 §4.3). */
  private lastAckSent = 0;
  private lastSegmentAt = -Infinity;
  private flightStartAt = -Infinity;
  private readonly tsOffset: number;

  // Timers (absolute ms; Infinity = off).
  private rtoDeadline = Infinity;
  private ackDeadline = Infinity;
  private persistDeadline = Infinity;
  private keepaliveDeadline = Infinity;
  private timeWaitDeadline = Infinity;
  private persistBackoff = 0;
  private keepaliveSent = 0;

  // Output requests.
  private ackNow = false;
  private sendSyn = false;
  private sendRst = false;
  private sendProbe = false;
  private bytesSinceAck = 0;
  /** RCV.NXT values still to be acknowledged one by one (see onData). */
  private readonly ackQueue: number[] = [];
  private segmentsReceivedData = 0;

  // Loss recovery.
  private readonly rtt: RttEstimator;
  /** Replaced once the SYN options fix the SMSS its windows are counted in (takeSynOptions). */
  private cc: CongestionControl;
  private readonly board = new Scoreboard();
  private dupAcks = 0;
  private inRecovery = false;
  private recoveryPoint = 0;
  /** Consecutive RTO expiries without progress. */
  private rtoCount = 0;
  /** Karn timing without timestamps: the relative seq being timed and when it was sent. */
  private timedSeq = -1;
  private timedAt = 0;
  /**
   * RTT measured at the receiver (ms; 0: none yet) from the timestamps the peer's data echoes,
   * as Linux's tcp_rcv_rtt_measure_ts: a pure receiver's srtt has no sample after the
   * handshake. `rcvRttTsecr`: the echo last sampled (each is timed once, by its first segment);
   * `lastDataAt`: when the previous data segment arrived.
   */
  private rcvRtt = 0;
  private rcvRttTsecr = 0;
  private lastDataAt = -Infinity;
  /** For autotuning: bytes the application read since `copiedSince`. */
  private copied = 0;
  private copiedSince = 0;
  private wasSendBufferFull = false;
  /** Bounds bytes in flight by the path's measured rate (subflows only; inflight-cap.ts). */
  private readonly inflightCap: InflightCap;

  private readonly events: TcpEvent[] = [];
  private readonly st: Omit<TcpStats, 'state' | 'srttMs' | 'rttVarMs' | 'rtoMs' | 'cwnd' | 'ssthresh' | 'sendWindow' | 'receiveWindow'> = {
    bytesSent: 0,
    bytesReceived: 0,
    bytesAcked: 0,
    segmentsSent: 0,
    segmentsReceived: 0,
    retransmittedSegments: 0,
    retransmittedBytes: 0,
    fastRetransmits: 0,
    timeouts: 0,
    challengeAcks: 0,
    duplicateSegments: 0,
    outOfOrderSegments: 0,
    invalidSegments: 0,
  };

  private constructor(p: ConnectionParams, state: TcpState) {
    this.cfg = p.config;
    this.hooks = p.hooks ?? null;
    this.localPort = p.localPort;
    this.remotePort = p.remotePort;
    this.iss = p.iss >>> 0;
    this.tsOffset = p.tsOffset >>> 0;
    this.state = state;
    this.peerMss = p.ipv6 ? DEFAULT_PEER_MSS_V6 : DEFAULT_PEER_MSS_V4;
    this.rcvBufSize = p.config.initialReceiveBufferBytes;
    this.rtt = new RttEstimator({ initialRtoMs: p.config.initialRtoMs, minRtoMs: p.config.minRtoMs, maxRtoMs: p.config.maxRtoMs, granularityMs: 1 });
    this.cc = this.hooks?.createCongestionControl?.(p.config.mss) ?? createCongestionControl(p.config.congestion, p.config.mss);
    this.inflightCap = new InflightCap();
    this.copiedSince = p.now;
    if (p.config.windowScaling) {
      // Smallest shift letting a 16-bit window field cover the largest buffer (RFC 7323 §2.3).
      while (this.rcvWscale < 14 && 65535 * 2 ** this.rcvWscale < p.config.maxReceiveBufferBytes) this.rcvWscale++;
    }
  }

  /** Active open: the connection sends its SYN on the first pollSegment. */
  static connect(p: ConnectionParams): TcpConnection {
    const c = new TcpConnection(p, 'SYN_SENT');
    c.sndNxt = 0;
    c.sendSyn = true;
    return c;
  }

  /** Passive open from a SYN the host accepted for a listener; replies with SYN/ACK. */
  static accept(p: ConnectionParams, syn: SegmentView): TcpConnection {
    const c = new TcpConnection(p, 'SYN_RECEIVED');
    c.takeSynOptions(syn, p.now);
    c.irs = syn.seq;
    c.rcvNxt = 1;
    c.announcedRight = 1;
    c.sendSyn = true;
    return c;
  }

  // ---- Application side -------------------------------------------------------------------

  /** Queues data; returns how many bytes were accepted (less than offered = backpressure). */
  write(data: Uint8Array): number {
    if (this.finSeq >= 0 || this.state === 'CLOSED' || this.state === 'TIME_WAIT' || this.state === 'LAST_ACK' || this.state === 'CLOSING') return 0;
    const room = Math.max(0, this.cfg.sendBufferBytes - this.sendQueue.length);
    const n = Math.min(room, data.length);
    if (n > 0) this.sendQueue.push(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.wasSendBufferFull = true;
    return n;
  }

  /** Bytes the application may still write before write() pushes back. */
  get writableBytes(): number {
    return this.finSeq >= 0 ? 0 : Math.max(0, this.cfg.sendBufferBytes - this.sendQueue.length);
  }

  get readableBytes(): number {
    return this.recvQueue.length;
  }

  // ---- For the subflow layer (subflow-hooks.ts) ---------------------------------------------

  /** Appends data chosen by the hooks' pull() (copied), bypassing the send-buffer limit. */
  enqueue(data: Uint8Array): void {
    this.sendQueue.push(data);
  }

  /** Asks for an ACK on the next poll (the hooks have options to deliver). */
  requestAck(): void {
    if (this.state !== 'CLOSED' && this.state !== 'SYN_SENT') this.ackNow = true;
  }

  /** Relative sequence numbers: first unacknowledged, next to send, end of queued data. */
  get sendUnacked(): number {
    return this.sndUna;
  }
  get sendNext(): number {
    return this.sndNxt;
  }
  get sendQueuedEnd(): number {
    return this.sendQueueStart + this.sendQueue.length;
  }
  /** Multiplier of the peer's window field (RFC 7323 §2.3). */
  get sendWindowScale(): number {
    return 2 ** this.sndWscale;
  }
  /** RTO expiries in a row without progress: a subflow that stalls is stale (RFC 8684 §3.3.6). */
  get consecutiveTimeouts(): number {
    return this.rtoCount;
  }
  /**
   * Since when the peer has been silent while we had data in flight: the later of its last
   * segment and the time our oldest flight began (ms; -Infinity before either).
   */
  get silentSince(): number {
    return Math.max(this.lastSegmentAt, this.flightStartAt);
  }
  /** When the last segment from the peer arrived (ms; -Infinity before any). */
  get lastReceivedAt(): number {
    return this.lastSegmentAt;
  }
  /** When data last went in flight with nothing outstanding before it (ms; -Infinity before). */
  get flightStartedAt(): number {
    return this.flightStartAt;
  }
  /** RTT variation (ms), or undefined before the first sample. */
  get rttVariation(): number | undefined {
    return this.rtt.hasMeasurement ? this.rtt.rttvar : undefined;
  }
  /** The lowest RTT sample seen (ms), or undefined before the first. */
  get minimumRtt(): number | undefined {
    return Number.isFinite(this.rtt.minRtt) ? this.rtt.minRtt : undefined;
  }
  /** Smoothed RTT (ms), or undefined before the first sample. */
  get smoothedRtt(): number | undefined {
    return this.rtt.hasMeasurement ? this.rtt.srtt : undefined;
  }
  /**
   * RTT seen by the receiving side (ms): our ACK's timestamp echoed by the peer's next data,
   * queueing included (RFC 7323 §4), smoothed with gain 1/8; undefined before the first.
   */
  get receiverRtt(): number | undefined {
    return this.rcvRtt > 0 ? this.rcvRtt : undefined;
  }
  /** Current retransmission timeout (ms). */
  get retransmissionTimeout(): number {
    return this.rtt.rto;
  }
  /**
   * Bounds the retransmission timeout (backoff included) at `ms` (Infinity lifts it); a timer
   * already armed further out is brought forward. For MPTCP's probing of a silent or stale
   * subflow whose data went to other paths.
   */
  capRetransmissionTimeout(now: number, ms: number): void {
    if (this.rtt.probeCapMs === ms) return;
    this.rtt.probeCapMs = ms;
    if (this.rtoDeadline !== Infinity && this.rtoDeadline > now + this.rtt.rto) this.rtoDeadline = now + this.rtt.rto;
  }

  /** Congestion control starts over as a new flow (CongestionControl.restart). */
  restartCongestion(): void {
    this.cc.restart();
  }

  /** Payload bytes sent for the first time, without copying the stats. */
  get bytesSent(): number {
    return this.st.bytesSent;
  }

  /** Payload bytes sent again (retransmissions), without copying the stats. */
  get retransmittedBytes(): number {
    return this.st.retransmittedBytes;
  }

  /** Congestion window in bytes. */
  get congestionWindow(): number {
    return this.cc.cwnd;
  }
  /** Bytes sent and not yet acknowledged (sequence space, SYN/FIN included). */
  get bytesInFlight(): number {
    return this.sndMax - this.sndUna;
  }
  /** Bytes the congestion and send windows still allow in flight (whole bytes, never negative). */
  sendRoom(): number {
    const pipe = this.inRecovery || this.board.hasSacks ? this.board.pipe(this.sndUna, this.sndMax) : this.sndMax - this.sndUna;
    return Math.max(0, Math.floor(Math.min(this.sendWindowLimit() - pipe, this.sndUna + this.sndWnd - this.sndNxt)));
  }

  /** The inflight cap from the path's measured rate and minimum RTT (bytes; Infinity: none). */
  get inflightLimit(): number {
    return this.inflightCap.limitBytes;
  }

  /** Highest recent delivery rate (bytes/s) measured for the inflight cap; undefined when off or unmeasured. */
  get deliveryRate(): number | undefined {
    const r = this.inflightCap.rateBytesPerMs;
    return r === undefined ? undefined : r * 1000;
  }

  /**
   * The layer above had no data for this connection while it had room (MPTCP: the
   * connection's send buffer was empty): the inflight cap stays off while the sender is
   * application-limited (inflight-cap.ts).
   */
  noteAppLimited(): void {
    this.inflightCap.noteAppLimited();
  }

  /** What new data may fill: the congestion window, bounded by the inflight cap. */
  private sendWindowLimit(): number {
    return Math.min(this.cc.cwnd, this.inflightCap.limitBytes);
  }

  /**
   * Hands in-order data to `visit` as views valid only during the call (no copy, no
   * allocation), up to `max` bytes; returns the bytes consumed. For the subflow layer.
   */
  consume(now: number, max: number, visit: (view: Uint8Array) => void): number {
    if (this.recvQueue.length === 0) return 0;
    const n = this.recvQueue.consume(max, visit);
    this.copied += n;
    this.autotune(now);
    this.maybeWindowUpdate();
    return n;
  }

  /** Appends `length` bytes of `src` from `offset` (the subflow layer's scheduled data). */
  enqueueFrom(src: ByteQueue, offset: number, length: number): void {
    this.sendQueue.appendFrom(src, offset, length);
  }

  /** Takes up to `max` bytes of in-order data (null when none). */
  read(now: number, max = Infinity): Uint8Array | null {
    if (this.recvQueue.length === 0) return null;
    const data = this.recvQueue.take(max);
    this.copied += data.length;
    this.autotune(now);
    this.maybeWindowUpdate();
    return data;
  }

  /** Half-close: FIN after all queued data (RFC 9293 CLOSE call). */
  shutdown(): void {
    if (this.finSeq >= 0) return;
    if (this.state === 'SYN_SENT' && this.sndMax === 0 && !this.sendSyn) {
      this.toClosed();
      return;
    }
    this.finSeq = this.sendQueueStart + this.sendQueue.length;
  }

  /** Abort: send RST and forget (RFC 9293 ABORT call). */
  abort(): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') this.sendRst = true;
    this.emit({ type: 'reset', reason: 'aborted' });
    this.enterClosed();
  }

  pollEvent(): TcpEvent | undefined {
    return this.events.shift();
  }

  get isClosed(): boolean {
    return this.state === 'CLOSED' && !this.sendRst;
  }

  stats(): TcpStats {
    return {
      state: this.state,
      srttMs: this.rtt.srtt,
      rttVarMs: this.rtt.rttvar,
      rtoMs: this.rtt.rto,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
      sendWindow: this.sndWnd,
      receiveWindow: this.announcedRight - this.rcvNxt,
      ...this.st,
    };
  }

  // ---- Input --------------------------------------------------------------------------------

  /** Processes one segment for this connection; `buf` holds its payload at v.payloadOffset. */
  handleSegment(now: number, v: SegmentView, buf: Uint8Array): void {
    this.st.segmentsReceived++;
    this.lastSegmentAt = now;
    this.keepaliveSent = 0;
    switch (this.state) {
      case 'CLOSED':
        return;
      case 'SYN_SENT':
        this.onSegmentSynSent(now, v, buf);
        break;
      default:
        this.onSegmentSynchronized(now, v, buf);
    }
    // The keep-alive idle time runs from the last segment received (RFC 1122 §4.2.3.6); this
    // also arms it when the segment completed the handshake.
    if ((this.keepaliveIdleOverride ?? this.cfg.keepaliveIdleMs) > 0) this.armKeepalive(now);
  }

  private onSegmentSynSent(now: number, v: SegmentView, buf: Uint8Array): void {
    const f = v.flags;
    const ackValid = (f & ACK) !== 0 && fromWire(this.iss, v.ack, 0) === this.sndNxt;
    if (f & ACK && !ackValid) {
      // RFC 9293 §3.10.7.3: unacceptable ACK -> RST (unless it is one).
      if (!(f & RST)) this.sendRstFor = { seq: v.ack, ack: 0, withAck: false };
      return;
    }
    if (f & RST) {
      if (ackValid) {
        this.emit({ type: 'reset', reason: 'refused' });
        this.enterClosed();
      }
      return;
    }
    if (!(f & SYN)) return;
    this.takeSynOptions(v, now);
    this.irs = v.seq;
    this.rcvNxt = 1;
    this.announcedRight = 1;
    if (ackValid) {
      this.sndUna = this.sndNxt;
      this.sndWnd = v.window; // never scaled in a SYN (RFC 7323 §2.2)
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = 0;
      this.sndWl2 = this.sndUna;
      this.sampleRttOnAck(now, v, 1);
      this.rtoDeadline = Infinity;
      this.rtoCount = 0;
      if (this.hooks) {
        this.hooks.onSynAck(now, v, buf);
        if (this.state === 'CLOSED') return;
      }
      this.setState('ESTABLISHED');
      this.emit({ type: 'connected' });
      this.ackNow = true;
    } else {
      // Simultaneous open (RFC 9293 §3.5 figure 8): answer with SYN/ACK.
      this.setState('SYN_RECEIVED');
      this.sndNxt = 0;
      this.sendSyn = true;
    }
  }

  private sendRstFor: { seq: number; ack: number; withAck: boolean } | null = null;

  private onSegmentSynchronized(now: number, v: SegmentView, buf: Uint8Array): void {
    let f = v.flags;
    let seq = fromWire(this.irs, v.seq, this.rcvNxt);
    // Simultaneous open (RFC 9293 §3.5 figure 8, step 6): in SYN_RECEIVED the peer's SYN/ACK
    // acknowledging our SYN completes the handshake; its SYN was already taken (as Linux does).
    if (this.state === 'SYN_RECEIVED' && (f & (SYN | ACK | RST)) === (SYN | ACK) && seq === 0 && this.sndNxt === 1 && fromWire(this.iss, v.ack, this.sndUna) === 1) {
      f &= ~SYN;
      seq = 1;
    }
    let len = v.payloadLength;
    let payloadOffset = v.payloadOffset;
    // PAWS (RFC 7323 §5.3): drop old duplicates by their timestamp.
    if (this.tsOk && v.hasTimestamps && !(f & RST) && this.tsRecent !== 0 && u32Less(v.tsval, this.tsRecent)) {
      this.st.duplicateSegments++;
      this.ackNow = true;
      return;
    }
    const wnd = Math.max(0, this.announcedRight - this.rcvNxt);
    const segLen = len + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
    const acceptable =
      segLen === 0
        ? wnd === 0
          ? seq === this.rcvNxt
          : seq >= this.rcvNxt && seq < this.rcvNxt + wnd + 1 // +1: Linux accepts ACKs at the right edge
        : wnd > 0 && ((seq >= this.rcvNxt && seq < this.rcvNxt + wnd) || (seq + segLen - 1 >= this.rcvNxt && seq + segLen - 1 < this.rcvNxt + wnd));
    if (f & RST) {
      this.onRst(seq, wnd, v, buf);
      return;
    }
    if (!acceptable) {
      // Old duplicate, window probe or out of window: answer with an ACK (§3.10.7.4).
      if (segLen > 0 || seq !== this.rcvNxt) this.st.duplicateSegments++;
      if (!(this.state === 'SYN_RECEIVED' && f & SYN)) this.ackNow = true;
      if (this.state === 'SYN_RECEIVED' && f & SYN && seq === 0) this.sendSyn = true; // retransmitted SYN
      // TIME_WAIT: a retransmitted FIN (our ACK was lost) restarts the 2 MSL timer (§3.10.7.4).
      if (this.state === 'TIME_WAIT' && f & FIN) this.timeWaitDeadline = now + this.cfg.timeWaitMs;
      // RCV.WND = 0: no data is acceptable, but the ACK field still is (§3.10.7.4).
      if (wnd === 0 && seq === this.rcvNxt && f & ACK && !(f & SYN) && this.state !== 'SYN_RECEIVED') this.onAck(now, v, seq);
      return;
    }
    if (f & SYN) {
      if (this.state === 'SYN_RECEIVED' && seq === 0) {
        this.sendSyn = true; // the peer's SYN again: our SYN/ACK was lost
        return;
      }
      // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
      this.st.challengeAcks++;
      this.ackNow = true;
      return;
    }
    if (!(f & ACK)) return;
    // Timestamp bookkeeping (RFC 7323 §4.3 (2)): TS.Recent from segments at or below
    // Last.ACK.sent, so a delayed ACK echoes the earliest unacknowledged segment's TSval.
    if (this.tsOk && v.hasTimestamps && seq <= this.lastAckSent) this.tsRecent = v.tsval;
    if (len > 0 && this.tsOk && v.hasTimestamps) this.sampleReceiverRtt(now, v.tsecr);
    if (this.state === 'SYN_RECEIVED') {
      const ack = fromWire(this.iss, v.ack, this.sndUna);
      if (ack <= this.sndUna || ack > this.sndNxt) {
        this.sendRstFor = { seq: v.ack, ack: 0, withAck: false };
        return;
      }
      this.sndWnd = v.window * 2 ** this.sndWscale;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      this.setState('ESTABLISHED');
      this.emit({ type: 'connected' });
    }
    if (!this.onAck(now, v, seq)) return;
    if (this.hooks) {
      const accept = this.hooks.onSegment(now, v, buf, seq);
      if (this.state === 'CLOSED') return;
      if (!accept && len > 0) {
        // The subflow layer cannot map this payload yet: not acknowledged, the peer resends it.
        len = 0;
        f &= ~FIN;
      }
    }
    // Trim what we already have from the front (§3.10.7.4, "segment text").
    if (seq < this.rcvNxt && len > 0) {
      const cut = Math.min(len, this.rcvNxt - seq);
      seq += cut;
      len -= cut;
      payloadOffset += cut;
    }
    if (len > 0 && (this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2')) {
      this.onData(now, seq, buf.subarray(payloadOffset, payloadOffset + Math.min(len, Math.max(0, this.announcedRight - seq))));
    }
    if (f & FIN && this.peerFinSeq < 0) {
      this.peerFinSeq = seq + len;
      this.ackNow = true;
    }
    this.consumePeerFin(now);
  }

  private onRst(seq: number, wnd: number, v: SegmentView, buf: Uint8Array): void {
    // RFC 1337 §3: ignore RSTs in TIME_WAIT (both directions are complete; a RST here is
    // either stale or the peer answering a late segment after it closed).
    if (this.state === 'TIME_WAIT') return;
    // RFC 5961 §3.2: reset only on an exact match; in-window -> challenge ACK; else drop.
    if (seq === this.rcvNxt || (this.state === 'SYN_RECEIVED' && seq >= this.rcvNxt && seq < this.rcvNxt + Math.max(wnd, 1))) {
      this.hooks?.onReset(v, buf); // MPTCP: MP_TCPRST reason, MP_FASTCLOSE (RFC 8684 §3.5, §3.6)
      this.emit({ type: 'reset', reason: 'peer-reset' });
      this.enterClosed();
    } else if (seq > this.rcvNxt && seq < this.rcvNxt + wnd) {
      this.st.challengeAcks++;
      this.ackNow = true;
    }
  }

  /** Processes the ACK field; returns false when the segment must be dropped. */
  private onAck(now: number, v: SegmentView, seq: number): boolean {
    const ack = fromWire(this.iss, v.ack, this.sndUna);
    if (ack > this.sndMax) {
      this.ackNow = true; // acks something not yet sent (§3.10.7.4)
      return false;
    }
    if (ack < this.sndUna - this.maxSndWnd) {
      this.st.challengeAcks++; // RFC 5961 §5.2: too old
      this.ackNow = true;
      return false;
    }
    const window = v.window * 2 ** this.sndWscale;
    const windowChanged = window !== this.sndWnd;
    // SACK blocks (RFC 2018), clipped to what is outstanding.
    let newSack = false;
    if (this.sackOk) {
      for (let i = 0; i < v.sackCount; i++) {
        const l = Math.max(fromWire(this.iss, v.sackLeft[i], this.sndUna), ack);
        const r = Math.min(fromWire(this.iss, v.sackRight[i], this.sndUna), this.sndMax);
        if (r > l && this.board.addSack(l, r)) newSack = true;
      }
    }
    if (ack > this.sndUna) {
      this.onNewAck(now, v, ack);
    } else if (ack === this.sndUna && v.payloadLength === 0 && !(v.flags & (SYN | FIN)) && !windowChanged && this.sndMax > this.sndUna) {
      this.dupAcks++;
    }
    // Window update (§3.10.7.4): from newer segments only.
    if (this.sndWl1 < seq || (this.sndWl1 === seq && this.sndWl2 <= ack)) {
      this.sndWnd = window;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
      if (window > 0) {
        this.persistDeadline = Infinity;
        this.persistBackoff = 0;
      }
    }
    // The inflight cap samples the delivery rate (subflows only; the budget is the hooks').
    if (this.hooks !== null && this.inflightCap.due(now, this.rtt.minRtt)) {
      const delivered = this.st.bytesAcked + (this.board.hasSacks ? this.board.sackedBytesIn(this.sndUna, this.sndMax) : 0);
      this.inflightCap.onDelivered(now, delivered, this.rtt.minRtt, this.sendMss(), this.hooks.queueDelayBudgetMs ?? Infinity);
    }
    this.detectLoss(now, newSack);
    this.afterAckStateChanges(now);
    return this.state !== 'CLOSED';
  }

  private onNewAck(now: number, v: SegmentView, ack: number): void {
    // Bytes of data (not SYN or FIN) newly acknowledged.
    const dataFrom = Math.max(this.sndUna, 1);
    const dataTo = Math.min(ack, this.finSeq >= 0 ? this.finSeq : ack);
    const dataAcked = Math.max(0, dataTo - dataFrom);
    this.sampleRttOnAck(now, v, ack);
    if (dataAcked > 0) {
      this.sendQueue.drop(Math.min(dataAcked, Math.max(0, dataTo - this.sendQueueStart)));
      this.sendQueueStart = Math.max(this.sendQueueStart, dataTo);
      this.st.bytesAcked += dataAcked;
    }
    this.sndUna = ack;
    if (this.sndNxt < ack) this.sndNxt = ack;
    this.board.advance(ack);
    this.dupAcks = 0;
    this.rtoCount = 0;
    if (this.inRecovery) {
      if (ack >= this.recoveryPoint) {
        this.inRecovery = false; // RFC 6675 §5 step (A)
        this.afterRto = false;
        this.board.lostBelow = 0;
      } else if (!this.sackOk) {
        this.board.lostBelow = Math.max(this.board.lostBelow, ack + this.sendMss()); // RFC 6582 partial ACK
        this.board.highRxt = ack;
        this.forceRetransmit = true; // RFC 6582 §3.2 step 5: retransmit the first unacknowledged segment
      }
    }
    // Fast recovery holds cwnd (RFC 6675 §5); after an RTO the sender is in slow start again
    // (RFC 5681 §3.1), so the window grows with every ACK while the lost data is resent.
    // Only data counts (RFC 5681 §3.1: N is acknowledged data bytes), not our SYN or FIN.
    // A window the inflight cap holds back is not what limits sending, so it does not grow
    // (as RFC 7661 keeps an unused window from growing).
    if (dataAcked > 0 && (!this.inRecovery || this.afterRto) && this.sendWindowLimit() >= this.cc.cwnd) this.cc.onAck(now, dataAcked, this.rtt.hasMeasurement ? this.rtt.latest : undefined);
    this.rtoDeadline = this.sndMax > this.sndUna ? now + this.rtt.rto : Infinity; // RFC 6298 §5.3
    if (this.wasSendBufferFull && this.writableBytes > 0) {
      this.wasSendBufferFull = false;
      this.emit({ type: 'writable' });
    }
  }

  private sampleRttOnAck(now: number, v: SegmentView, ack: number): void {
    if (this.tsOk && v.hasTimestamps && v.tsecr !== 0) {
      const sent = (v.tsecr - this.tsOffset) >>> 0;
      const nowTs = Math.floor(now) >>> 0;
      const rtt = (nowTs - sent) >>> 0;
      if (rtt < 0x7fffffff) this.rtt.sample(Math.max(rtt, now - Math.floor(now)));
    } else if (this.timedSeq >= 0 && ack > this.timedSeq) {
      this.rtt.sample(now - this.timedAt); // Karn: only untouched segments are timed
      this.timedSeq = -1;
    }
  }

  private sampleReceiverRtt(now: number, tsecr: number): void {
    const previousData = this.lastDataAt;
    this.lastDataAt = now;
    if (tsecr === 0 || tsecr === this.rcvRttTsecr) return;
    this.rcvRttTsecr = tsecr;
    const nowTs = Math.floor(now) >>> 0;
    const rtt = (nowTs - ((tsecr - this.tsOffset) >>> 0)) >>> 0;
    if (rtt >= 0x7fffffff) return;
    // Data after a pause of the sender echoes the ACK we sent before the pause: the pause is
    // not the path's. An ACK-clocked sender's flight keeps arriving after the ACK it answers,
    // so only an echo of an ACK sent before the previous data arrived is timed.
    if (previousData <= nowTs - rtt + 1) return;
    const sample = Math.max(rtt, 1);
    this.rcvRtt = this.rcvRtt === 0 ? sample : this.rcvRtt + (sample - this.rcvRtt) / 8;
  }

  private detectLoss(now: number, newSack: boolean): void {
    if (this.sndMax <= this.sndUna) return;
    const mss = this.sendMss();
    if (this.sackOk) this.board.updateLost(mss);
    if (this.inRecovery) return;
    const lossBySack = this.sackOk && newSack && this.board.lostBelow > this.sndUna;
    if (this.dupAcks >= DUP_THRESH || lossBySack) {
      // RFC 6675 §5 step (4) / RFC 6582: enter fast recovery.
      if (!this.sackOk || this.board.lostBelow <= this.sndUna) this.board.lostBelow = Math.max(this.board.lostBelow, this.sndUna + mss);
      this.inRecovery = true;
      this.recoveryPoint = this.sndMax;
      this.board.highRxt = this.sndUna;
      // ssthresh from FlightSize, the data outstanding (RFC 5681 eq. 4, RFC 6675 §5 (4.2)).
      this.cc.onCongestionEvent(now, this.sndMax - this.sndUna);
      this.st.fastRetransmits++;
      this.forceRetransmit = true;
    }
  }

  /** The first retransmission of a recovery goes out regardless of cwnd (RFC 6675 §5 (4.3)). */
  private forceRetransmit = false;

  /** When penalize() last took effect (ms). */
  private penalizedAt = -Infinity;

  /**
   * MPTCP penalization (Raiciu et al., "How hard can it be?", NSDI 2012, §4.2): this subflow
   * holds data that blocks the connection-level window, so its window is halved as if by a
   * loss (at most once per smoothed RTT), shrinking the queue it builds on a slow path. Outside
   * loss recovery only; true when it took effect.
   */
  penalize(now: number): boolean {
    if (this.inRecovery || this.sndMax <= this.sndUna) return false;
    const srtt = this.rtt.hasMeasurement ? this.rtt.srtt : this.rtt.rto;
    if (now - this.penalizedAt < srtt) return false;
    this.penalizedAt = now;
    this.cc.onCongestionEvent(now, this.sndMax - this.sndUna);
    return true;
  }

  private afterAckStateChanges(now: number): void {
    const finAcked = this.finSeq >= 0 && this.sndUna > this.finSeq;
    if (this.state === 'FIN_WAIT_1' && finAcked) this.setState('FIN_WAIT_2');
    else if (this.state === 'CLOSING' && finAcked) this.enterTimeWait(now);
    else if (this.state === 'LAST_ACK' && finAcked) this.toClosed();
  }

  private onData(now: number, seq: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.segmentsReceivedData++;
    if (seq === this.rcvNxt) {
      const hadGap = !this.reassembly.isEmpty;
      this.recvQueue.push(data);
      this.rcvNxt += data.length;
      this.st.bytesReceived += data.length;
      for (let more = this.reassembly.takeInOrder(this.rcvNxt); more; more = this.reassembly.takeInOrder(this.rcvNxt)) {
        this.recvQueue.push(more);
        this.rcvNxt += more.length;
        this.st.bytesReceived += more.length;
      }
      this.bytesSinceAck += data.length;
      // RFC 5681 §4.2: ACK at least every second full-sized segment; immediately when
      // filling a gap (§3.2). Segments that arrive in one batch still get their own ACKs
      // (queued with the RCV.NXT they acknowledge): one cumulative ACK per batch would starve
      // the sender's window growth and turn a single lost ACK into a timeout.
      if (hadGap || this.segmentsReceivedData <= QUICKACK_SEGMENTS) this.ackNow = true;
      else if (this.bytesSinceAck >= 2 * (this.cfg.mss - (this.tsOk ? TS_OPTION_SPACE : 0))) {
        if (this.ackQueue.length < MAX_QUEUED_ACKS) this.ackQueue.push(this.rcvNxt);
        this.bytesSinceAck = 0;
      } else if (this.ackDeadline === Infinity) this.ackDeadline = now + this.cfg.delayedAckMs;
      this.emit({ type: 'readable' });
    } else {
      this.reassembly.insert(seq, data);
      this.st.outOfOrderSegments++;
      this.ackNow = true; // immediate duplicate ACK with SACK (RFC 5681 §4.2)
    }
  }

  private consumePeerFin(now: number): void {
    if (this.peerFinSeq < 0 || this.peerFinConsumed || this.rcvNxt !== this.peerFinSeq) return;
    this.peerFinConsumed = true;
    this.rcvNxt += 1;
    this.ackNow = true;
    this.emit({ type: 'end' });
    switch (this.state) {
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
        this.setState('CLOSE_WAIT');
        break;
      case 'FIN_WAIT_1':
        if (this.finSeq >= 0 && this.sndUna > this.finSeq) this.enterTimeWait(now);
        else this.setState('CLOSING');
        break;
      case 'FIN_WAIT_2':
        this.enterTimeWait(now);
        break;
      default:
        break;
    }
  }

  // ---- Timers -------------------------------------------------------------------------------

  pollTimeout(): number {
    return Math.min(this.rtoDeadline, this.ackDeadline, this.persistDeadline, this.keepaliveDeadline, this.timeWaitDeadline);
  }

  handleTimeout(now: number): void {
    if (now >= this.timeWaitDeadline) {
      this.timeWaitDeadline = Infinity;
      this.enterClosed(); // 'closed' was reported on entering TIME_WAIT
      return;
    }
    if (now >= this.ackDeadline) {
      this.ackDeadline = Infinity;
      this.ackNow = true;
    }
    if (now >= this.rtoDeadline) this.onRto(now);
    if (now >= this.persistDeadline) {
      this.persistDeadline = Infinity;
      this.sendProbe = true;
      this.persistBackoff++;
    }
    if (now >= this.keepaliveDeadline) {
      if (this.keepaliveSent >= this.cfg.keepaliveProbes) {
        this.emit({ type: 'reset', reason: 'timeout' });
        this.sendRst = true;
        this.enterClosed();
        return;
      }
      this.keepaliveSent++;
      this.sendProbe = true;
      this.keepaliveDeadline = now + this.cfg.keepaliveIntervalMs;
    }
  }

  private onRto(now: number): void {
    this.rtoDeadline = Infinity;
    this.st.timeouts++;
    this.rtoCount++;
    const handshake = this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED';
    if (this.rtoCount > (handshake ? this.cfg.synRetries : this.cfg.dataRetries)) {
      this.emit({ type: 'reset', reason: 'timeout' });
      if (!handshake) this.sendRst = true;
      this.enterClosed();
      return;
    }
    this.rtt.backoff(); // RFC 6298 §5.5
    this.timedSeq = -1;
    if (handshake) {
      this.sendSyn = true;
      return;
    }
    // RFC 6298 §5.4 and RFC 6675 §5.1: everything not SACKed is lost; retransmit from SND.UNA.
    // RFC 5681 §3.1: when the timed-out segment was already retransmitted by the timer,
    // ssthresh is held (the window is still the loss window: nothing was acknowledged since).
    // Reducing it again would take the pipe after the last timeout (one segment) as the
    // flight and leave ssthresh at 2 segments, so a path back from an outage crawls.
    if (this.rtoCount === 1) this.cc.onRetransmissionTimeout(now, this.board.pipe(this.sndUna, this.sndMax));
    this.inRecovery = true;
    this.afterRto = true;
    this.recoveryPoint = this.sndMax;
    this.board.lostBelow = this.sndMax;
    this.board.highRxt = this.sndUna;
    this.dupAcks = 0;
    this.forceRetransmit = true;
  }

  /** The current recovery began with an RTO (slow start), not with duplicate ACKs. */
  private afterRto = false;

  private armKeepalive(now: number): void {
    const idle = this.keepaliveIdleOverride ?? this.cfg.keepaliveIdleMs;
    this.keepaliveDeadline = idle > 0 && this.state === 'ESTABLISHED' ? now + idle : Infinity;
  }

  /** This connection's keepalive idle time instead of the host's (a path's policy); undefined: the host's. */
  private keepaliveIdleOverride: number | undefined = undefined;

  setKeepaliveIdle(now: number, idleMs: number | undefined): void {
    if (this.keepaliveIdleOverride === idleMs) return;
    this.keepaliveIdleOverride = idleMs;
    if (this.keepaliveDeadline !== Infinity || (idleMs ?? 0) > 0) this.armKeepalive(now);
  }

  // ---- Output -------------------------------------------------------------------------------

  /** Payload bytes per segment: the peer's MSS less our per-segment options (timestamps). */
  sendMss(): number {
    return Math.min(this.peerMss, this.cfg.mss) - (this.tsOk ? TS_OPTION_SPACE : 0) - (this.hooks ? this.hooks.dataOptionBytes : 0);
  }

  /** Bytes of the SACK option our segments carry now (writeSegment), 0 when none. */
  private sackOptionSpace(): number {
    // Subflow data segments carry a DSS instead of SACK blocks (40 bytes of options, RFC 9293).
    if (!this.sackOk || this.reassembly.isEmpty || this.hooks) return 0;
    return 4 + 8 * this.reassembly.sackBlocks(this.tsOk ? 3 : 4).length;
  }

  /**
   * Writes the next segment (TCP header and payload, checksum zero) at out[off..] and returns
   * its length, or 0 when nothing is due. Call repeatedly until it returns 0.
   */
  pollSegment(now: number, out: Uint8Array, off: number): number {
    if (this.sendRstFor) {
      const r = this.sendRstFor;
      this.sendRstFor = null;
      return this.writeSegment(out, off, r.seq, r.ack, RST | (r.withAck ? ACK : 0), null, now, false, -1, 0);
    }
    if (this.sendRst) {
      this.sendRst = false;
      return this.writeSegment(out, off, toWire(this.iss, this.sndNxt), toWire(this.irs, this.rcvNxt), RST | ACK, null, now, this.hooks !== null, this.sndNxt, 0);
    }
    if (this.state === 'CLOSED' || this.state === 'TIME_WAIT' && !this.ackNow) return 0;
    if (this.sendSyn) return this.writeSyn(now, out, off);
    if (this.state === 'SYN_SENT' || (this.state === 'SYN_RECEIVED' && this.sndMax === 0)) return 0;

    // Retransmission of lost data first (RFC 6675 NextSeg rule 1). Payload plus options must
    // fit the MSS (RFC 9293 §3.7.1, RFC 6691 §2), SACK blocks included.
    const mss = this.sendMss() - this.sackOptionSpace();
    if (this.inRecovery) {
      const pipe = this.board.pipe(this.sndUna, this.sndMax);
      if (this.forceRetransmit || this.cc.cwnd - pipe >= mss) {
        const lost = this.board.nextLost(this.sndUna, this.sndMax, mss);
        if (lost) {
          this.forceRetransmit = false;
          const len = this.hooks ? this.hooks.segmentLimit(lost.seq, lost.len) : lost.len;
          this.board.highRxt = lost.seq + len;
          return this.writeData(now, out, off, lost.seq, len, true);
        }
        this.forceRetransmit = false;
      }
    }
    // New data (or FIN), within the congestion and send windows.
    const n = this.newDataAllowance(now, mss);
    if (n > 0 || this.finDue()) {
      return this.writeData(now, out, off, this.sndNxt, n, false);
    }
    // Data waits, nothing is in flight, and the peer's window holds it back (zero, or too small
    // for sender SWS avoidance): arm the persist timer (RFC 9293 §3.8.6.1), which on expiry
    // sends what fits (the "override timeout" of §3.8.6.2.1) or probes a zero window.
    if (this.sendQueueStart + this.sendQueue.length > this.sndNxt && this.sndMax === this.sndUna && this.persistDeadline === Infinity && this.isSynchronizedForData()) {
      this.persistDeadline = now + Math.min(this.rtt.rto * 2 ** this.persistBackoff, this.cfg.maxRtoMs);
    }
    if (this.sendProbe) {
      this.sendProbe = false;
      const fits = Math.min(this.sndUna + this.sndWnd - this.sndNxt, this.sendQueueStart + this.sendQueue.length - this.sndNxt, mss);
      if (fits > 0 && this.sndMax === this.sndUna) return this.writeData(now, out, off, this.sndNxt, fits, false);
      // Zero-window and keepalive probe: one old sequence number, no data (as Linux does).
      return this.writeSegment(out, off, toWire(this.iss, this.sndUna - 1), toWire(this.irs, this.rcvNxt), ACK, null, now, true, this.sndUna - 1, 0);
    }
    if (this.ackNow) return this.writeSegment(out, off, toWire(this.iss, this.sndNxt), toWire(this.irs, this.rcvNxt), ACK, null, now, true, this.sndNxt, 0);
    const queued = this.ackQueue.shift();
    if (queued !== undefined) return this.writeSegment(out, off, toWire(this.iss, this.sndNxt), toWire(this.irs, queued), ACK, null, now, true, this.sndNxt, 0);
    return 0;
  }

  private isSynchronizedForData(): boolean {
    return this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT';
  }

  private newDataAllowance(now: number, mss: number): number {
    if (this.state !== 'ESTABLISHED' && this.state !== 'CLOSE_WAIT' && this.state !== 'FIN_WAIT_1' && this.state !== 'CLOSING' && this.state !== 'LAST_ACK') return 0;
    if (this.hooks && !this.hooks.canSendData()) return 0;
    let unsent = this.sendQueueStart + this.sendQueue.length - this.sndNxt;
    if (unsent <= 0 && !this.hooks) return 0;
    const pipe = this.inRecovery || this.board.hasSacks ? this.board.pipe(this.sndUna, this.sndMax) : this.sndMax - this.sndUna;
    const cwndRoom = this.sendWindowLimit() - pipe;
    const wndRoom = this.sndUna + this.sndWnd - this.sndNxt;
    // Whole bytes only: CUBIC's window is fractional.
    const room = Math.floor(Math.min(cwndRoom, wndRoom));
    if (room <= 0) return 0;
    if (this.hooks) {
      // A subflow takes new data from the connection only when it can send it now (the
      // scheduler decides per segment, so data is not committed to a slow path early).
      if (unsent <= 0 && this.finSeq < 0) {
        this.hooks.pull(now, Math.min(room, mss));
        unsent = this.sendQueueStart + this.sendQueue.length - this.sndNxt;
      }
      if (unsent <= 0) return 0;
      return this.hooks.segmentLimit(this.sndNxt, Math.min(unsent, room, mss));
    }
    const n = Math.min(unsent, room, mss);
    if (n < mss && n < unsent) {
      // A partial segment while more data waits: never because of cwnd (send whole segments
      // as the window opens), and for the peer's window only when it is at least half the
      // largest it offered (sender SWS avoidance, RFC 9293 §3.8.6.2.1). Nagle stays off: a
      // partial segment that is all we have goes out at once.
      if (cwndRoom < mss || wndRoom < this.maxSndWnd / 2) return 0;
    }
    return n;
  }

  private finDue(): boolean {
    return this.finSeq >= 0 && this.sndNxt === this.finSeq && this.sndUna + this.sndWnd >= this.sndNxt && (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT');
  }

  private writeData(now: number, out: Uint8Array, off: number, seq: number, len: number, retransmit: boolean): number {
    // A retransmitted range may cover the FIN's sequence number: that slot is the FIN flag,
    // not a data byte (RFC 9293 §3.4: FIN occupies one sequence number).
    if (this.finSeq >= 0 && seq + len > this.finSeq) len = Math.max(0, this.finSeq - seq);
    if (this.sndMax === this.sndUna) {
      this.flightStartAt = now;
      if (this.hooks !== null) this.inflightCap.onFlightStart(now, this.st.bytesAcked);
    }
    const dataEnd = seq + len;
    const withFin = this.finSeq >= 0 && dataEnd === this.finSeq && (!retransmit || this.sndMax > this.finSeq) && (retransmit || this.sndUna + this.sndWnd >= dataEnd);
    let flags = ACK | (len > 0 ? PSH : 0);
    if (withFin) flags |= FIN;
    const h = this.writeSegment(out, off, toWire(this.iss, seq), toWire(this.irs, this.rcvNxt), flags, null, now, true, seq, len);
    if (len > 0) this.sendQueue.copyOut(seq - this.sendQueueStart, len, out, off + h);
    const end = dataEnd + (withFin ? 1 : 0);
    if (retransmit) {
      this.st.retransmittedSegments++;
      this.st.retransmittedBytes += len;
      if (seq <= this.timedSeq) this.timedSeq = -1; // Karn
    } else {
      this.st.bytesSent += len;
      if (!this.tsOk && this.timedSeq < 0 && len > 0) {
        this.timedSeq = seq;
        this.timedAt = now;
      }
    }
    if (end > this.sndNxt) this.sndNxt = end;
    if (end > this.sndMax) this.sndMax = end;
    if (withFin) {
      if (this.state === 'ESTABLISHED') this.setState('FIN_WAIT_1');
      else if (this.state === 'CLOSE_WAIT') this.setState('LAST_ACK');
    }
    if (this.rtoDeadline === Infinity) this.rtoDeadline = now + this.rtt.rto;
    return h + len;
  }

  private writeSyn(now: number, out: Uint8Array, off: number): number {
    this.sendSyn = false;
    const isAck = this.state === 'SYN_RECEIVED';
    const h = this.writeSegment(out, off, toWire(this.iss, 0), isAck ? toWire(this.irs, this.rcvNxt) : 0, SYN | (isAck ? ACK : 0), 'syn', now, true, 0, 0);
    this.sndNxt = 1;
    if (this.sndMax < 1) this.sndMax = 1;
    if (this.rtoDeadline === Infinity) this.rtoDeadline = now + this.rtt.rto;
    return h;
  }

  /**
   * Writes a TCP header with our options at out[off..]: on SYNs MSS, SACK-permitted,
   * timestamps and window scale; on others timestamps and SACK blocks. Returns its length.
   */
  private writeSegment(
    out: Uint8Array,
    off: number,
    seqWire: number,
    ackWire: number,
    flags: number,
    kind: 'syn' | null,
    now: number,
    withOptions: boolean,
    seqRel: number,
    payloadLen: number,
  ): number {
    let p = off + 20;
    const isSyn = kind === 'syn';
    if (withOptions && isSyn) {
      out[p] = 2; // MSS
      out[p + 1] = 4;
      writeU16(out, p + 2, this.cfg.mss);
      p += 4;
    }
    const ts = withOptions && (isSyn ? this.cfg.timestamps && (this.state === 'SYN_SENT' || this.tsOk) : this.tsOk);
    if (withOptions && isSyn && this.cfg.sack && (this.state === 'SYN_SENT' || this.sackOk)) {
      if (ts) {
        out[p] = 4; // SACK-permitted, then timestamps (Linux's layout)
        out[p + 1] = 2;
        p += 2;
      } else {
        out.set([1, 1, 4, 2], p);
        p += 4;
      }
    } else if (ts) {
      out[p] = 1;
      out[p + 1] = 1;
      p += 2;
    }
    if (ts) {
      out[p] = 8;
      out[p + 1] = 10;
      writeU32(out, p + 2, (Math.floor(now) + this.tsOffset) >>> 0);
      writeU32(out, p + 6, flags & ACK ? this.tsRecent : 0);
      p += 10;
    }
    if (withOptions && isSyn && this.cfg.windowScaling && (this.state === 'SYN_SENT' || this.sndWscale >= 0) && this.offerWscale) {
      out.set([1, 3, 3, this.rcvWscale], p);
      p += 4;
    }
    if (withOptions && this.hooks) {
      p = isSyn ? this.hooks.writeSynOptions(out, p, (flags & ACK) !== 0) : this.hooks.writeOptions(out, p, seqRel, payloadLen, flags, 40 - (p - off - 20));
    }
    // SACK blocks in the option space left (a subflow's DSS may leave room for fewer or none).
    const sackRoom = Math.floor((40 - (p - off - 20) - 4) / 8);
    if (withOptions && !isSyn && this.sackOk && flags & ACK && !this.reassembly.isEmpty && sackRoom > 0 && (payloadLen === 0 || !this.hooks)) {
      const blocks = this.reassembly.sackBlocks(Math.min(ts ? 3 : 4, sackRoom));
      out[p] = 1;
      out[p + 1] = 1;
      out[p + 2] = 5;
      out[p + 3] = 2 + 8 * blocks.length;
      p += 4;
      for (const b of blocks) {
        writeU32(out, p, toWire(this.irs, b.start));
        writeU32(out, p + 4, toWire(this.irs, b.end));
        p += 8;
      }
    }
    while ((p - off) & 3) out[p++] = 0;
    const hl = p - off;
    writeU16(out, off, this.localPort);
    writeU16(out, off + 2, this.remotePort);
    writeU32(out, off + 4, seqWire);
    writeU32(out, off + 8, ackWire);
    out[off + 12] = (hl >>> 2) << 4;
    out[off + 13] = flags;
    writeU16(out, off + 14, this.advertiseWindow(isSyn));
    writeU32(out, off + 16, 0); // checksum (host fills) and urgent pointer
    this.st.segmentsSent++;
    if (flags & ACK) this.lastAckSent = fromWire(this.irs, ackWire, this.rcvNxt);
    if (flags & ACK && ackWire === toWire(this.irs, this.rcvNxt)) {
      // This segment acknowledges everything received so far.
      this.ackNow = false;
      this.ackDeadline = Infinity;
      this.bytesSinceAck = 0;
      this.ackQueue.length = 0;
    }
    return hl;
  }

  /** Window scaling is offered on an active SYN, and answered only if the peer offered it. */
  private offerWscale = true;

  private advertiseWindow(isSyn: boolean): number {
    // A subflow announces the connection-level window (RFC 8684 §3.3.5).
    const free = this.hooks ? this.hooks.receiveSpace() : Math.max(0, this.rcvBufSize - this.recvQueue.length - this.reassembly.bufferedBytes);
    let right = this.rcvNxt + free;
    // Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2) and never shrinking (RFC 7323 §2.4).
    // A zero window too stays closed until it can open by that much.
    if (right - this.announcedRight < Math.min(this.rcvBufSize / 2, this.cfg.mss)) right = this.announcedRight;
    if (right < this.announcedRight) right = this.announcedRight;
    const shift = isSyn ? 0 : this.rcvWscale;
    const field = Math.min(65535, Math.floor((right - this.rcvNxt) / 2 ** shift));
    // The scaled field rounds down; the right edge we honour never moves left (RFC 7323 §2.4).
    this.announcedRight = Math.max(this.announcedRight, this.rcvNxt + field * 2 ** shift);
    return field;
  }

  private maybeWindowUpdate(): void {
    // After the peer's FIN no more data can come: a window update would only reach a peer
    // that may already be gone (and answer with a RST).
    if (this.peerFinConsumed || this.hooks) return;
    const free = Math.max(0, this.rcvBufSize - this.recvQueue.length - this.reassembly.bufferedBytes);
    const current = this.announcedRight - this.rcvNxt;
    if (current < Math.max(2 * this.cfg.mss, this.rcvBufSize / 4) && this.rcvNxt + free - this.announcedRight >= this.cfg.mss) this.ackNow = true;
  }

  /** Receive-buffer autotuning: grow to twice what the application reads per RTT. */
  private autotune(now: number): void {
    const rtt = this.rtt.hasMeasurement ? Math.max(this.rtt.srtt, 1) : 100;
    if (now - this.copiedSince < rtt) return;
    const target = Math.min(this.cfg.maxReceiveBufferBytes, 2 * this.copied + 2 * this.cfg.mss);
    if (target > this.rcvBufSize) this.rcvBufSize = target;
    this.copied = 0;
    this.copiedSince = now;
  }

  private takeSynOptions(v: SegmentView, _now: number): void {
    if (v.mss > 0) this.peerMss = v.mss;
    this.sackOk = this.cfg.sack && v.sackPermitted;
    this.tsOk = this.cfg.timestamps && v.hasTimestamps;
    if (this.tsOk) this.tsRecent = v.tsval;
    if (this.cfg.windowScaling && v.windowScale >= 0) {
      this.sndWscale = Math.min(v.windowScale, 14); // RFC 7323 §2.3: larger values are treated as 14
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
      this.offerWscale = false;
    }
    // Windows are counted in SMSS: the peer's MSS less our per-segment options (RFC 5681 §2,
    // RFC 6928 §2), known only now.
    this.cc = this.hooks?.createCongestionControl?.(this.sendMss()) ?? createCongestionControl(this.cfg.congestion, this.sendMss());
  }

  // ---- State changes ------------------------------------------------------------------------

  private setState(s: TcpState): void {
    this.state = s;
    // Entered only from the handshake: RTO 3 s if our SYN timed out without a sample (RFC 6298 §5.7).
    if (s === 'ESTABLISHED') this.rtt.fallbackAfterSynTimeout(3000);
  }

  private enterTimeWait(now: number): void {
    this.setState('TIME_WAIT');
    this.clearTimers();
    this.timeWaitDeadline = now + this.cfg.timeWaitMs;
    this.emit({ type: 'closed' });
  }

  private toClosed(): void {
    const wasClosed = this.state === 'CLOSED';
    this.enterClosed();
    if (!wasClosed) this.emit({ type: 'closed' });
  }

  private enterClosed(): void {
    this.state = 'CLOSED';
    this.clearTimers();
    this.ackNow = false;
    this.sendSyn = false;
  }

  private clearTimers(): void {
    this.rtoDeadline = this.ackDeadline = this.persistDeadline = this.keepaliveDeadline = this.timeWaitDeadline = Infinity;
  }

  private emit(e: TcpEvent): void {
    this.events.push(e);
  }
}
