/**
 * One MPTCP connection (RFC 8684) as a sans-IO state machine above its subflows: the data
 * sequence space in both directions (send buffer from the Data ACK, receive reassembly across
 * subflows, §3.3), DATA_FIN and orderly close (§3.3.3), reinjection of data stranded on failed
 * or stale subflows (§3.3.6), fallback to TCP (§3.7), the address signals it exchanges
 * (ADD_ADDR, REMOVE_ADDR: §3.4) and MP_FASTCLOSE (§3.5). Which subflow sends is the
 * scheduler's call (mptcp/sched); opening subflows is the stack's and path manager's.
 */
import { ByteQueue } from '../tcp/byte-queue.js';
import { createCoupledGroup, type CongestionGroup } from '../cc/index.js';
import { AddressSignals } from './address-signals.js';
import { DataReceiver } from './data-receiver.js';
import { largestReceiveRtt } from './receive-buffer-tuner.js';
import { ReinjectQueue } from './reinject-queue.js';
import { addAddrHmac } from '../wire/crypto.js';
import { formatIp } from '../wire/ip-address.js';
import { ADD_ADDR_FLAG_ECHO, MPC_FLAG_CHECKSUM, TcpRstReason, type AddAddrOption, type MptcpOption } from '../wire/mptcp-option-types.js';
import { createScheduler, type Scheduler, type SchedulerContext } from '../sched/scheduler.js';
import { DEFAULT_PATH_USE, type ConnectionPolicy } from '../sched/path-use.js';
import type { TcpConnection } from '../tcp/connection.js';
import { deriveKey, type MptcpKey } from './keys.js';
import type { MptcpConfig, MptcpCounters, MptcpEvent, MptcpResetReason, SubflowStats } from './mptcp-types.js';
import type { Subflow } from './subflow.js';
import type { ScheduledChunk, SubflowOwner } from './subflow-owner.js';

export type MptcpRole = 'client' | 'server';
export type MptcpState = 'connecting' | 'established' | 'closed';

export interface MptcpConnectionParams {
  role: MptcpRole;
  config: MptcpConfig;
  counters: MptcpCounters;
  localKey: MptcpKey;
  scheduler: Scheduler;
  now: number;
}

export class MptcpConnection implements SubflowOwner {
  readonly role: MptcpRole;
  readonly config: MptcpConfig;
  readonly counters: MptcpCounters;
  readonly localKey: MptcpKey;
  remoteKey: MptcpKey | null = null;
  /** Congestion control of the subflows, coupled or not (config.congestion; mptcp/cc). */
  readonly coupling: CongestionGroup;
  state: MptcpState = 'connecting';
  checksums = false;
  fallback = false;
  fallbackOffset = 0;
  fastClosePending = false;
  closedForSending = false;
  /** The peer asked us not to open subflows to its initial address (MP_CAPABLE C flag). */
  noJoinToInitial = false;
  readonly subflows: Subflow[] = [];
  /** Subflows that ended, most recent last (bounded), for statistics. */
  readonly pastSubflows: Subflow[] = [];
  /** Addresses the peer announced with ADD_ADDR, by address id. */
  readonly remoteAddresses = new Map<number, { address: Uint8Array; port: number }>();
  scheduler: Scheduler;
  /** Set by the client's path manager: more MP_CAPABLE attempts may still come. */
  connectAttemptsPending: () => boolean = () => false;
  /** Synchronous listener for the stack's path manager (events also queue for the application). */
  observer: ((e: MptcpEvent) => void) | null = null;

  // Send side, relative DSNs (first data byte = 1).
  private readonly sendBuf = new ByteQueue();
  private sndUna = 1;
  private sndNxt = 1;
  private peerWindowRight = 1 + 65535;
  dataFinSeq = -1;
  private dataFinAcked = false;
  private dataFinPending = false;
  private dataFinSentAt = -1;
  /** DSN ranges to send again on another subflow. */
  private readonly reinject = new ReinjectQueue();
  private sendBufferWasFull = false;
  private readonly scratch = new Uint8Array(65536);

  // Receive side.
  private readonly rx: DataReceiver;

  // Signals.
  private readonly signals = new AddressSignals();

  private readonly events: MptcpEvent[] = [];
  /** The policy for this connection's paths (null: every path tier 0, weight 1, no cap). */
  private policy: ConnectionPolicy | null = null;
  private readonly schedCtx: SchedulerContext = { now: 0, pendingBytes: 0, windowFree: 0 };
  /** When a subflow held back by its path's rate cap may send again (Infinity: none waits). */
  private rateWakeAt = Infinity;
  private lastNow: number;
  private noSubflowDeadline = Infinity;
  private reported = false;

  constructor(p: MptcpConnectionParams) {
    this.role = p.role;
    this.config = p.config;
    this.counters = p.counters;
    this.localKey = p.localKey;
    this.scheduler = p.scheduler;
    this.lastNow = p.now;
    this.checksums = p.config.checksums && p.role === 'client';
    this.rx = new DataReceiver(p.config.receiveBufferBytes, p.config.maxReceiveBufferBytes);
    this.coupling = createCoupledGroup(p.config.congestion);
  }

  // ---- Application side ----------------------------------------------------------------------

  write(data: Uint8Array): number {
    if (this.dataFinSeq >= 0 || this.state === 'closed' || this.closedForSending) return 0;
    const room = Math.max(0, this.sendBufferLimit() - this.sendBuf.length);
    const n = Math.min(room, data.length);
    if (n > 0) this.sendBuf.push(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.sendBufferWasFull = true;
    return n;
  }

  get writableBytes(): number {
    return this.dataFinSeq >= 0 ? 0 : Math.max(0, this.sendBufferLimit() - this.sendBuf.length);
  }

  /**
   * The send buffer, sized from the paths (issue 7: buffers from bandwidth and RTT): at least
   * sendBufferBytes, and 2 x the sum of the subflows' rates x the largest srtt, up to
   * maxSendBufferBytes. Data stays in it until the peer's Data ACK, so while the slowest path
   * holds the oldest bytes for one of its RTTs, the others must be able to send for as long
   * (Raiciu et al., NSDI 2012, §4: buffer >= 2 x sum(BW_i) x RTT_max). A rate is the inflight
   * cap's delivery-rate estimate, or cwnd / srtt before one.
   */
  private sendBufferLimit(): number {
    const floor = this.config.sendBufferBytes;
    if (this.subflows.length < 2 || this.config.maxSendBufferBytes <= floor) return floor;
    let rate = 0; // bytes per ms
    let rtt = 0;
    for (const s of this.subflows) {
      const srtt = s.tcp.smoothedRtt;
      if (!s.usable || srtt === undefined) continue;
      const measured = s.tcp.deliveryRate;
      rate += measured !== undefined ? measured / 1000 : s.tcp.congestionWindow / Math.max(srtt, 1);
      if (srtt > rtt) rtt = srtt;
    }
    return Math.min(this.config.maxSendBufferBytes, Math.max(floor, Math.ceil(2 * rate * rtt)));
  }

  get readableBytes(): number {
    return this.rx.readableBytes;
  }

  /**
   * The receive buffer's current size (bytes): receiveBufferBytes at first, grown from what
   * the application consumes per RTT up to maxReceiveBufferBytes (receive-buffer-tuner.ts).
   */
  get receiveBufferSize(): number {
    return this.rx.tuner.size;
  }

  read(now: number, max = Infinity): Uint8Array | null {
    const data = this.rx.read(max);
    if (!data) return null;
    // Dynamic right-sizing from consumption, once per interval of the largest subflow RTT.
    if (this.rx.tuner.consumed(now, data.length, this.rx.readableBytes)) this.rx.tuner.adjust(now, largestReceiveRtt(this.subflows));
    // A window that opened by a good part of the buffer is worth an ACK now (as TCP's
    // window update): the peer may be blocked on it.
    const before = this.rx.lastAdvertised;
    if (this.receiveSpace() - before >= Math.min(this.config.receiveBufferBytes / 4, 65536)) this.ackOnBest();
    return data;
  }

  /** Half-close: DATA_FIN after all queued data (§3.3.3). */
  shutdown(): void {
    if (this.dataFinSeq >= 0 || this.state === 'closed') return;
    this.dataFinSeq = this.sndUna + this.sendBuf.length;
    if (this.fallback) {
      this.flushFallback();
      return;
    }
    this.checkDataFinReady();
  }

  /** Abort: MP_FASTCLOSE to the peer on every subflow, then forget (§3.5). */
  abort(): void {
    if (this.state === 'closed') return;
    this.fastClosePending = this.remoteKey !== null && !this.fallback;
    this.closedForSending = true;
    for (const s of [...this.subflows]) s.fail(this.lastNow, 'connection aborted', TcpRstReason.UNSPECIFIED);
    this.enterClosed({ type: 'reset', reason: 'aborted' });
  }

  pollEvent(): MptcpEvent | undefined {
    return this.events.shift();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get sendUnacked(): number {
    return this.sndUna;
  }
  get receiveNext(): number {
    return this.rx.next;
  }
  get lastInputTime(): number {
    return this.lastNow;
  }

  get dataFinDue(): boolean {
    return this.dataFinPending && !this.dataFinAcked;
  }

  /** Statistics of the live subflows, and with `all` of those that ended too. */
  subflowStats(all = false): SubflowStats[] {
    return (all ? [...this.pastSubflows, ...this.subflows] : this.subflows).map((s) => ({
      id: s.id,
      local: formatIp(s.local),
      remote: formatIp(s.remote),
      localAddressId: s.localAddressId,
      remoteAddressId: s.remoteAddressId,
      phase: s.phase,
      backup: s.backup,
      localBackup: s.localBackup,
      dataBytesSent: s.dataBytesSent,
      dataBytesReceived: s.dataBytesReceived,
      scheduledBytes: s.scheduledBytes,
      stale: s.stale,
      tier: s.rank,
      lossDemoted: s.loss.demoted,
      lossRatio: s.loss.lossRatio,
      closeReason: s.closeReason,
      tcp: s.tcp.stats(),
    }));
  }

  /** Announces one of our addresses to the peer (ADD_ADDR, §3.4.1). */
  announceAddress(id: number, address: Uint8Array, port = 0): void {
    this.signals.add(id, address, port);
    this.ackOnBest();
  }

  /** Withdraws an address (REMOVE_ADDR, §3.4.2) and closes our subflows that use it. */
  removeAddress(id: number): void {
    this.signals.remove(id);
    const carrier = this.subflows.find((s) => s.usable && s.localAddressId !== id);
    carrier?.tcp.requestAck();
    for (const s of [...this.subflows]) if (s.localAddressId === id && s !== carrier) s.fail(this.lastNow, 'address removed', TcpRstReason.ADMINISTRATIVELY_PROHIBITED);
  }

  /**
   * Sets how this connection uses its paths (issue 6 §2): the scheduler, and per subflow its
   * tier, weight, whether it may carry data, and its path's rate cap. Applies to the subflows
   * there are and to those that join later; may be called again (a reload, a data cap).
   */
  setPolicy(policy: ConnectionPolicy): void {
    if (!this.policy || this.policy.scheduler !== policy.scheduler || this.scheduler.name !== policy.scheduler) this.scheduler = createScheduler(policy.scheduler);
    this.policy = policy;
    for (const s of this.subflows) this.applyPolicy(s);
    this.rateWakeAt = Infinity;
    for (const s of this.subflows) if (s.usable) s.tcp.requestAck();
  }

  private applyPolicy(s: Subflow): void {
    const p = this.policy;
    s.use = p ? p.pathUse(s) : DEFAULT_PATH_USE;
    if (s.use.keepaliveIdleMs !== undefined) s.tcp.setKeepaliveIdle(this.lastNow, s.use.keepaliveIdleMs);
    this.announceBackupWish(s);
  }

  /**
   * Client policy: the peer should send on a subflow only as a backup when its path is of a
   * lower tier or its data budget is spent (MP_PRIO, §3.3.8). MP_PRIO goes on established
   * subflows; a join still in its handshake asked with its MP_JOIN B flag (the path manager's
   * choice) and is corrected when it becomes active.
   */
  private announceBackupWish(s: Subflow): void {
    if (!this.policy?.announceBackup || s.phase !== 'active') return;
    const want = s.use.tier > 0 || (s.use.budget?.exhausted ?? false);
    if (want !== s.localBackup) s.setLocalBackup(want);
  }

  // ---- Subflows --------------------------------------------------------------------------------

  addSubflow(s: Subflow): void {
    this.subflows.push(s);
    if (this.policy) this.applyPolicy(s);
    this.noSubflowDeadline = Infinity;
  }

  /** The stack calls this after a subflow's engine handled input or timers. */
  afterSubflowInput(now: number, s: Subflow): void {
    this.lastNow = now;
    const tcp = s.tcp;
    for (let e = tcp.pollEvent(); e; e = tcp.pollEvent()) {
      switch (e.type) {
        case 'connected':
          if (s.role === 'mpc-initiator' && this.state === 'connecting') {
            this.state = 'established';
            this.emit({ type: 'connected' });
            this.emit({ type: 'subflow-up', subflowId: s.id });
          }
          break;
        case 'readable':
          break;
        case 'end':
          s.drain(now);
          if (this.fallback) this.onDataFin(now, this.rx.next);
          else if (s.phase !== 'closed') tcp.shutdown(); // the peer closes this subflow: so do we
          break;
        case 'writable':
          break;
        case 'closed':
          if (!s.closeReason) s.closeReason = 'closed';
          break;
        case 'reset':
          if (!s.closeReason) s.closeReason = e.reason;
          break;
      }
    }
    if (s.phase !== 'closed') s.drain(now);
    if (this.fallback && this.dataFinSeq >= 0 && !this.dataFinAcked && subflowFinAcked(tcp.state, s.closeReason)) {
      // After fallback our FIN is the DATA_FIN: acknowledged with the subflow's FIN.
      this.dataFinAcked = true;
      this.maybeClosed();
    }
    if (tcp.state === 'CLOSED' || tcp.state === 'TIME_WAIT' || s.phase === 'closed') this.subflowGone(now, s, s.closeReason || (tcp.state === 'CLOSED' ? 'reset' : 'closed'));
    this.updateStale(now);
  }

  private subflowGone(now: number, s: Subflow, reason: string): void {
    const i = this.subflows.indexOf(s);
    if (i < 0) return;
    this.subflows.splice(i, 1);
    this.pastSubflows.push(s);
    if (this.pastSubflows.length > 32) this.pastSubflows.shift();
    if (s.phase !== 'closed') s.phase = 'closed';
    if (!s.closeReason) s.closeReason = reason;
    s.leaveCoupling(); // its window no longer counts in the coupled increase
    // Data this subflow carried that the peer has not acknowledged at the data level goes
    // out again on the others (§3.3.6).
    if (!this.fallback && this.state !== 'closed') s.forEachUnacked((dsn, len) => this.addReinjection(dsn, dsn + len));
    this.emit({ type: 'subflow-down', subflowId: s.id, reason: s.closeReason });
    if (this.state === 'closed') return;
    if (this.fallback && (s.closeReason === 'closed' || s.tcp.state === 'TIME_WAIT')) {
      this.enterClosed({ type: 'closed' });
      return;
    }
    if (this.fallback || (this.state === 'connecting' && this.subflows.length === 0 && !this.connectAttemptsPending())) {
      this.enterClosed({ type: 'reset', reason: this.state === 'connecting' ? connectFailure(s.closeReason) : 'peer-reset' });
      return;
    }
    if (this.subflows.length === 0 && this.state === 'established' && peerEnded(s) && this.rx.finConsumed && this.dataFinSeq >= 0 && this.sndUna >= this.dataFinSeq) {
      // Every byte is delivered both ways (we have the peer's DATA_FIN, it acknowledged all our
      // data) and only the acknowledgement of our DATA_FIN is missing: a peer that resets its
      // last subflow now is done, not failing (a subflow RST is not a connection reset, §3.5).
      // Closing, not resetting, keeps what the application has not read yet.
      this.enterClosed({ type: 'closed' });
      return;
    }
    if (this.subflows.length === 0 && this.state === 'established' && peerEnded(s)) {
      // The peer reset our last subflow (a RST, with or without MP_TCPRST) or refused a join
      // to this connection: it has no more use for it. Waiting for a rejoin would only delay
      // the application's error (a timeout, by contrast, may be a path that comes back).
      this.enterClosed({ type: 'reset', reason: 'peer-reset' });
      return;
    }
    if (this.subflows.length === 0) this.noSubflowDeadline = now + this.config.noSubflowTimeoutMs;
    this.ackOnBest();
  }

  /** Set by the stack: the connection has failed subflows to reap (reapSubflows). */
  onReapNeeded: (() => void) | null = null;
  private reapPending = false;

  subflowFailed(_s: Subflow): void {
    if (this.reapPending) return;
    this.reapPending = true;
    this.onReapNeeded?.();
  }

  /** Forgets subflows that failed outside their own input (the stack calls this). */
  reapSubflows(now: number): void {
    this.reapPending = false;
    for (const s of [...this.subflows]) if (s.phase === 'closed') this.subflowGone(now, s, s.closeReason);
  }

  onSubflowActive(now: number, s: Subflow): void {
    this.lastNow = now;
    if (this.policy) this.applyPolicy(s);
    this.noSubflowDeadline = Infinity;
    this.emit({ type: 'subflow-up', subflowId: s.id });
  }

  /** A subflow whose retransmission timer fired without progress is stale: its data moves (§3.3.6). */
  /**
   * Reinjection (§3.3.6), Linux-like in two steps. At a subflow's first retransmission timeout
   * only the data the peer is blocked on (the mapping holding our oldest unacknowledged DSN, if
   * that subflow carries it) goes out again elsewhere: a lost segment must not stall the
   * connection for the subflow's whole backoff, but a spurious timeout must not duplicate a
   * window. From `subflowStaleAfterTimeouts` in a row the subflow is stale: the scheduler skips
   * it and everything it holds unacknowledged is reinjected; at `subflowDeadAfterTimeouts` it
   * is closed.
   */
  private updateStale(now: number): void {
    if (this.policy?.announceBackup) for (const s of this.subflows) if (s.use.budget) this.announceBackupWish(s);
    this.updateSilent(now);
    this.updateLossDemotion(now);
    const others = (s: Subflow) => this.subflows.some((o) => o !== s && o.usable);
    for (const s of this.subflows) {
      const timeouts = s.tcp.consecutiveTimeouts;
      if (s.phase === 'active' && timeouts >= this.config.subflowDeadAfterTimeouts && now - s.tcp.lastReceivedAt >= this.config.subflowDeadAfterMs && others(s)) {
        this.counters.deadSubflows++;
        s.fail(now, `dead: ${timeouts} retransmission timeouts`, TcpRstReason.UNACCEPTABLE_PERFORMANCE);
        continue;
      }
      if (s.phase === 'active' && timeouts > s.headReinjectedAt && others(s)) {
        s.headReinjectedAt = timeouts;
        s.forEachUnacked((dsn, len) => {
          if (dsn <= this.sndUna && this.sndUna < dsn + len) this.addReinjection(dsn, dsn + len);
        });
      }
      if (timeouts === 0) s.headReinjectedAt = 0;
      const stale = s.phase === 'active' && timeouts >= this.config.subflowStaleAfterTimeouts;
      if (stale && !s.stale) {
        s.stale = true;
        if (others(s)) s.forEachUnacked((dsn, len) => this.addReinjection(dsn, dsn + len));
      } else if (!stale && s.stale) s.stale = false;
      // Given up on for now: probe it at least every deadPathProbeMs (RTO backoff would leave
      // a recovered path unused for seconds after a long outage).
      s.tcp.capRetransmissionTimeout(now, (s.silent || s.stale) && others(s) ? this.config.deadPathProbeMs : Infinity);
    }
    // Queued reinjections go out when an eligible subflow next has window space (the host
    // polls every subflow for segments). Asking subflows for pure ACKs here would answer every
    // input with an ACK on every path, and two ends that both wait to reinject would bounce
    // ACKs back and forth without end.
  }

  /**
   * How long `s` may hear nothing with data in flight before it is taken for dead. While its
   * ACK clock runs (a segment arrived since this flight began), gaps are short even behind a
   * deep queue: max(silentPathMs, 4 x min RTT). The first answer to a new flight takes a whole
   * RTT, queue included: then srtt + 4 x rttvar (an RTO without its 200 ms floor).
   */
  private silenceLimit(s: Subflow): number {
    const t = s.tcp;
    const floor = Math.max(this.config.silentPathMs, 4 * (t.minimumRtt ?? s.srtt ?? 0), s.srtt ?? 0);
    if (t.lastReceivedAt > t.flightStartedAt) return floor;
    return Math.max(floor, (s.srtt ?? 0) + 4 * (t.rttVariation ?? 0));
  }

  /**
   * Dead-path detection faster than retransmission timeouts: a path that went down or into a
   * black hole stops all segments from the peer, while a working path keeps an ACK clock even
   * behind a deep queue. So a subflow with data in flight that hears nothing for its silence
   * limit, while another subflow heard from the peer within that time, is avoided by the
   * scheduler and its unacknowledged data goes out on the others at once (the RTO-based stale
   * state needs two timeouts: 600 ms at the least, seconds behind a bufferbloated queue). Any
   * segment from the peer on it ends the silence.
   */
  private updateSilent(now: number): void {
    if (this.config.silentPathMs <= 0 || this.fallback) return;
    for (const s of this.subflows) {
      if (s.silent) {
        // Only a segment from the peer after the verdict ends it (not a changed limit).
        if (s.tcp.lastReceivedAt > s.silentAt) s.silent = false;
        continue;
      }
      if (s.phase !== 'active' || s.stale || s.tcp.bytesInFlight === 0 || now - s.tcp.silentSince < this.silenceLimit(s)) continue;
      const othersAlive = this.subflows.some((o) => o !== s && o.usable && now - o.tcp.lastReceivedAt < this.silenceLimit(o));
      if (!othersAlive) continue;
      s.silent = true;
      s.silentAt = now;
      this.counters.silentSubflows++;
      s.forEachUnacked((dsn, len) => this.addReinjection(dsn, dsn + len));
    }
  }

  /**
   * Loss demotion (loss-demotion.ts): each active subflow's loss is judged against the
   * configured ratios; a demoted one ranks half a tier lower (refreshEligibility) and, when
   * another subflow is usable, its unacknowledged data goes out again on the others at once.
   */
  private updateLossDemotion(now: number): void {
    const c = this.config;
    if (c.demoteLossRatio <= 0 || this.fallback) return;
    for (const s of this.subflows) {
      if (s.phase !== 'active') continue;
      s.loss.observe(now, s.tcp.bytesSent, s.tcp.retransmittedBytes, s.srtt, s.tcp.minimumRtt);
      // Per input: a clean sibling is looked for only when this subflow is lossy.
      const candidate = s.loss.lossy(c.demoteLossRatio) && this.subflows.some((o) => o !== s && o.usable && o.use.enabled && o.rank === s.rank && !o.loss.demoted && o.loss.lossRatio < c.promoteLossRatio);
      const change = s.loss.judge(now, candidate, c.promoteLossRatio);
      if (change === 'demoted') {
        this.counters.lossDemotions++;
        if (this.subflows.some((o) => o !== s && o.usable && !o.loss.demoted)) s.forEachUnacked((dsn, len) => this.addReinjection(dsn, dsn + len));
      } else if (change === 'promoted') {
        // Its window reflects the loss it no longer has: start over, as a new subflow would.
        this.counters.lossPromotions++;
        s.tcp.restartCongestion();
      }
    }
  }

  /** The next time a subflow with data in flight becomes silent (Infinity: none can). */
  private silenceDeadline(): number {
    if (this.config.silentPathMs <= 0 || this.fallback || this.subflows.length < 2) return Infinity;
    let t = Infinity;
    for (const s of this.subflows) {
      if (s.silent || s.stale || s.phase !== 'active' || s.tcp.bytesInFlight === 0) continue;
      const d = s.tcp.silentSince + this.silenceLimit(s);
      // Already past and not silent: no other subflow was alive then; input re-checks it.
      if (d > this.lastNow && d < t) t = d;
    }
    return t;
  }

  private addReinjection(start: number, end: number): void {
    this.reinject.add(start, end, this.sndUna);
  }

  // ---- SubflowOwner: handshake -------------------------------------------------------------------

  onPeerKey(now: number, key: bigint, mpcFlags: number): void {
    this.lastNow = now;
    if (!this.remoteKey) this.remoteKey = deriveKey(key);
    if (mpcFlags & MPC_FLAG_CHECKSUM) this.checksums = true;
    this.noJoinToInitial = (mpcFlags & 0x20) !== 0;
    if (this.role === 'server' && this.state === 'connecting') {
      this.state = 'established';
      this.emit({ type: 'connected' });
    }
  }

  /** Server side: a SYN's MP_CAPABLE asked for checksums. */
  requireChecksums(on: boolean): void {
    if (on) this.checksums = true;
    else this.checksums = this.config.checksums;
  }

  onFallback(now: number, s: Subflow, why: string): void {
    this.lastNow = now;
    if (this.fallback) return;
    this.fallback = true;
    this.fallbackOffset = 0;
    this.counters.fallbacks++;
    this.reinject.clear();
    // What the subflow holds it keeps retransmitting; the connection's buffer lets go of it.
    if (this.dataFinSeq >= 0) this.flushFallback(s);
    else this.releaseToSubflow();
    this.emit({ type: 'fallback', reason: why });
    if (this.role === 'server' && this.state === 'connecting') {
      this.state = 'established';
      this.emit({ type: 'connected' });
    }
    for (const o of [...this.subflows]) if (o !== s) o.fail(now, 'fallback to TCP', TcpRstReason.MIDDLEBOX_INTERFERENCE);
  }

  canFallBack(s: Subflow): boolean {
    return this.subflows.every((o) => o === s || (o.dataBytesSent === 0 && o.dataBytesReceived === 0)) && this.pastSubflows.every((o) => o.dataBytesSent === 0 && o.dataBytesReceived === 0) && this.reinject.isEmpty;
  }

  onInfiniteMapping(now: number, s: Subflow, offset: number): void {
    if (this.fallback) return;
    this.counters.infiniteMappings++;
    this.onFallback(now, s, 'infinite mapping (the peer fell back, or options are stripped)');
    this.fallbackOffset = offset;
  }

  // ---- SubflowOwner: data --------------------------------------------------------------------

  pull(now: number, s: Subflow, room: number): ScheduledChunk | null {
    this.lastNow = now;
    if (room <= 0 || this.closedForSending) return null;
    if (this.fallback) return this.pullNew(now, s, room, false);
    this.refreshEligibility(now);
    if (!s.eligible && !s.probing) return null;
    const limiter = s.use.limiter;
    if (limiter && s.rateBlocked) {
      // The path's rate cap holds it back; the timer wakes the connection when it may send.
      const at = limiter.readyAt(now);
      if (at < this.rateWakeAt) this.rateWakeAt = at;
      return null;
    }
    // A subflow demoted for its loss sends copies only, under the same path caps.
    const chunk = s.eligible ? this.choose(now, s, room) : this.lossProbe(room);
    if (chunk) {
      limiter?.take(now, chunk.length);
      s.use.budget?.take(chunk.length);
    }
    return chunk;
  }

  /**
   * The peer has our key, so it can accept MP_JOINs (RFC 8684 §3.1: the client's key reaches
   * the server in the third ACK, which may be lost or overtaken; Linux opens further subflows
   * only once the connection is "fully established", i.e. after the server's first DSS).
   */
  get keysConfirmed(): boolean {
    if (this.role === 'server' || this.fallback) return true;
    for (const s of this.subflows) if (s.awaitingKeyConfirmation) return false;
    return true;
  }

  /**
   * Which subflows may carry data now: established and not stale, allowed by the policy, and
   * of the best rank (tier; a peer's backup wish counts as tier 1) among such subflows. A tier
   * is used only while every path of the better tiers is down or stale (a path held back by
   * its rate cap is not down: it stays eligible, with no room until its tokens return). A
   * subflow demoted for its loss ranks half a tier lower: below its tier's other paths, above
   * the next tier; when a better one is eligible it only probes.
   */
  private refreshEligibility(now: number): void {
    let best = Infinity;
    for (const o of this.subflows) if (o.use.enabled && o.usable && effectiveRank(o) < best) best = effectiveRank(o);
    for (const o of this.subflows) {
      o.eligible = o.use.enabled && o.usable && effectiveRank(o) === best;
      o.probing = !o.eligible && o.loss.demoted && o.use.enabled && o.usable;
      // A capped path out of tokens has no room: schedulers then pick another path.
      const limiter = o.use.limiter;
      o.rateBlocked = (o.eligible || o.probing) && limiter !== null && !limiter.canSend(now);
    }
  }

  private choose(now: number, s: Subflow, room: number): ScheduledChunk | null {
    const again = this.reinject.take(this.sndUna, this.sndNxt, Math.min(room, this.scratch.length));
    if (again) {
      this.counters.reinjectedBytes += again.length;
      return { dsn: again.dsn, length: again.length, reinjection: true, dataFin: false };
    }
    if (this.scheduler.redundant) return this.pullRedundant(now, s, room);
    return this.pullNew(now, s, room, true);
  }

  /** New data at the connection's next DSN, if the scheduler (when asked) gives it to `s`. */
  private pullNew(now: number, s: Subflow, room: number, ask: boolean): ScheduledChunk | null {
    // Data ends where the DATA_FIN is (its DSN is no byte of the buffer).
    const queuedEnd = this.dataFinSeq >= 0 ? this.dataFinSeq : this.sndUna + this.sendBuf.length;
    let n = Math.min(room, queuedEnd - this.sndNxt, this.scratch.length);
    // Nothing left to send while the application leaves half the send buffer empty: the
    // sender is application-limited (not held by data in flight on a slower path).
    if (n <= 0 && queuedEnd <= this.sndNxt && 2 * this.sendBuf.length < this.sendBufferLimit()) s.tcp.noteAppLimited();
    if (!this.fallback) n = Math.min(n, this.peerWindowRight - this.sndNxt);
    if (n <= 0) return this.fallback || this.scheduler.redundant ? null : this.opportunisticReinjection(s, room);
    if (ask) {
      const ctx = this.schedCtx;
      ctx.now = now;
      ctx.pendingBytes = queuedEnd - this.sndNxt;
      ctx.windowFree = this.peerWindowRight - this.sndNxt;
      if (!this.scheduler.allow(s, this.subflows, ctx)) return null;
    }
    const dsn = this.sndNxt;
    this.sndNxt += n;
    if (this.fallback) {
      // Handed over now: the subflow copies it before the buffer lets go (releaseAfterCopy).
      this.releasePending = true;
      return { dsn, length: n, reinjection: false, dataFin: false };
    }
    // The last chunk carries the DATA_FIN in its mapping (§3.3.3); a pure ACK repeats it if needed.
    const dataFin = this.sndNxt === this.dataFinSeq && !this.dataFinAcked;
    if (dataFin) {
      this.dataFinPending = true;
      this.dataFinSentAt = now;
    }
    return { dsn, length: n, reinjection: false, dataFin };
  }

  /**
   * Redundant scheduling: each subflow sends a copy of everything, from its own cursor. A
   * subflow behind the others copies data already sent elsewhere (skipping what the peer has
   * acknowledged); the one in front takes new data.
   */
  private pullRedundant(now: number, s: Subflow, room: number): ScheduledChunk | null {
    const start = Math.max(s.redundantNext, this.sndUna);
    if (start < this.sndNxt) {
      const n = Math.min(room, this.sndNxt - start, this.scratch.length);
      s.redundantNext = start + n;
      this.counters.redundantBytes += n;
      return { dsn: start, length: n, reinjection: true, dataFin: false };
    }
    const chunk = this.pullNew(now, s, room, false);
    if (chunk) s.redundantNext = chunk.dsn + chunk.length;
    return chunk;
  }

  /** DSNs below this were already resent opportunistically (each byte at most once). */
  private opportunisticUpTo = 1;

  /**
   * Opportunistic reinjection (Raiciu et al., "How hard can it be?", NSDI 2012): a subflow
   * that could send but has no new data (all scheduled, or the peer's window is full because
   * it waits for data stuck on a slower path) resends the oldest data a clearly slower subflow
   * still holds unacknowledged. So the end of a transfer, or a window blocked by the slow
   * path, never waits for that path's queue: the fast path delivers it too. Each byte is
   * resent this way at most once.
   */
  private opportunisticReinjection(s: Subflow, room: number): ScheduledChunk | null {
    const mine = s.srtt;
    if (mine === undefined || !s.usable) return null;
    if (this.scheduler.allowCopy) {
      this.schedCtx.now = this.lastNow;
      if (!this.scheduler.allowCopy(s, this.subflows, this.schedCtx)) return null;
    }
    let best = Infinity;
    let bestEnd = 0;
    let blocker: Subflow | null = null;
    const from = Math.max(this.sndUna, this.opportunisticUpTo);
    for (const o of this.subflows) {
      if (o === s || o.srtt === undefined || o.srtt < 1.5 * mine + 2) continue;
      o.forEachUnacked((dsn, len) => {
        const end = dsn + len;
        if (end <= from) return;
        if (dsn <= this.sndUna && this.sndUna < end) blocker = o;
        const start = Math.max(dsn, from);
        if (start < best) {
          best = start;
          bestEnd = end;
        }
      });
    }
    if (!Number.isFinite(best)) return null;
    // The window is blocked by data on a slower subflow: penalize it (NSDI 2012 §4.2) so it
    // queues less in future, when it holds the connection's oldest unacknowledged data.
    const blocking = blocker as Subflow | null; // assigned in the callback above
    if (this.config.penalizeBlockingSubflows && blocking !== null && this.peerWindowRight - this.sndNxt < s.mss) {
      if (blocking.tcp.penalize(this.lastNow)) this.counters.penalizations++;
    }
    const end = Math.min(bestEnd, this.dataFinSeq >= 0 ? this.dataFinSeq : bestEnd, this.sndNxt);
    const n = Math.min(room, end - best, this.scratch.length);
    if (n <= 0) return null;
    this.opportunisticUpTo = best + n;
    this.counters.reinjectedBytes += n;
    return { dsn: best, length: n, reinjection: true, dataFin: false };
  }

  /** The next DSN a loss probe copies from (each byte is copied at most once). */
  private probeNext = 1;

  /**
   * For a subflow demoted for its loss: a copy of data in flight on the others, as its window
   * allows (loss-demotion.ts): its loss keeps being measured while the data stays on the good
   * paths (a lost copy delays nothing). None when nothing is in flight at the data level (no
   * traffic: no loss to measure, and the estimate decays while idle).
   */
  private lossProbe(room: number): ScheduledChunk | null {
    const from = Math.max(this.sndUna, this.probeNext);
    const end = this.dataFinSeq >= 0 ? Math.min(this.sndNxt, this.dataFinSeq) : this.sndNxt;
    const n = Math.min(room, end - from, this.scratch.length);
    if (n <= 0) return null;
    this.probeNext = from + n;
    this.counters.lossProbeBytes += n;
    return { dsn: from, length: n, reinjection: true, dataFin: false };
  }

  private releasePending = false;

  copySendData(dsn: number, length: number, to: TcpConnection): void {
    to.enqueueFrom(this.sendBuf, dsn - this.sndUna, length);
    if (this.releasePending) {
      this.releasePending = false;
      this.releaseToSubflow();
    }
  }

  sendData(dsn: number, length: number): Uint8Array {
    this.sendBuf.copyOut(dsn - this.sndUna, length, this.scratch, 0);
    return this.scratch.subarray(0, length);
  }

  private checkDataFinReady(): void {
    if (this.dataFinSeq < 0 || this.dataFinPending || this.dataFinAcked || this.sndNxt !== this.dataFinSeq) return;
    this.dataFinPending = true;
    // Armed now, not when sent: if no pure ACK carries it in time, the timer asks for one.
    this.dataFinSentAt = this.lastNow;
    this.ackOnBest();
  }

  /** After fallback the subflow's own FIN is the DATA_FIN: queue what is left, then FIN. */
  private flushFallback(only?: Subflow): void {
    const s = only ?? this.subflows[0];
    if (!s) return;
    const left = this.sndUna + this.sendBuf.length - this.sndNxt;
    if (left > 0) {
      const out = new Uint8Array(left);
      this.sendBuf.copyOut(this.sndNxt - this.sndUna, left, out, 0);
      s.tcp.enqueue(out);
      this.sndNxt += left;
    }
    this.releaseToSubflow();
    s.tcp.shutdown();
  }

  /**
   * After fallback there is no Data ACK: the single subflow keeps its own copy of what it was
   * given and retransmits it, so the connection's buffer lets go at once.
   */
  private releaseToSubflow(): void {
    this.sendBuf.drop(this.sndNxt - this.sndUna);
    this.sndUna = this.sndNxt;
    if (this.sendBufferWasFull && this.writableBytes > 0) {
      this.sendBufferWasFull = false;
      this.emit({ type: 'writable' });
    }
  }

  onDataFinSent(_s: Subflow): void {
    this.dataFinSentAt = this.lastNow;
  }

  onDataAck(now: number, ack: number, window: number): void {
    this.lastNow = now;
    const maxAck = this.dataFinPending ? this.dataFinSeq + 1 : this.sndNxt;
    if (ack > maxAck) return; // acknowledges data never sent: ignore (§3.3.2)
    if (ack > this.sndUna) {
      const dataEnd = this.dataFinSeq >= 0 ? Math.min(ack, this.dataFinSeq) : ack;
      this.sendBuf.drop(Math.max(0, dataEnd - this.sndUna));
      this.sndUna = ack;
      if (this.sndNxt < ack) this.sndNxt = ack; // the DATA_FIN's DSN, acknowledged
      if (this.fallback && this.sndNxt < ack) this.sndNxt = ack;
      if (this.dataFinSeq >= 0 && ack > this.dataFinSeq && !this.dataFinAcked) {
        this.dataFinAcked = true;
        this.dataFinPending = false;
        this.maybeClosed();
      }
      if (this.sendBufferWasFull && this.writableBytes > 0) {
        this.sendBufferWasFull = false;
        this.emit({ type: 'writable' });
      }
    }
    if (ack >= this.sndUna && ack + window > this.peerWindowRight) this.peerWindowRight = ack + window;
  }

  onData(now: number, dsn: number, data: Uint8Array, _s: Subflow): void {
    this.lastNow = now;
    const dup = this.rx.duplicateBytes;
    if (this.rx.onData(dsn, data)) {
      this.rx.tuner.readable(now);
      this.emit({ type: 'readable' });
    }
    this.counters.duplicateDataBytes += this.rx.duplicateBytes - dup;
    this.consumePeerFin();
  }

  onDataFin(now: number, dsn: number): void {
    this.lastNow = now;
    this.rx.onDataFin(dsn);
    if (this.rx.finConsumed) this.ackOnBest(); // a retransmitted DATA_FIN: our ACK was lost
    this.consumePeerFin();
  }

  private consumePeerFin(): void {
    if (!this.rx.consumeFin()) return;
    this.emit({ type: 'end' });
    for (const s of this.subflows) if (s.usable) s.tcp.requestAck();
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.state === 'closed' || !this.rx.finConsumed || !this.dataFinAcked) return;
    // Both DATA_FINs are acknowledged: the subflows close with FINs (§3.3.3); those still in
    // their handshake (a join towards a dead path) are abandoned.
    for (const s of [...this.subflows]) {
      if (s.phase === 'handshake' || s.phase === 'pre-established') s.fail(this.lastNow, 'connection closed during the handshake', TcpRstReason.UNSPECIFIED);
      else s.tcp.shutdown();
    }
    this.enterClosed({ type: 'closed' });
  }

  receiveSpace(): number {
    return this.rx.space();
  }

  // ---- SubflowOwner: signals -----------------------------------------------------------------

  onAddAddr(now: number, s: Subflow, opt: AddAddrOption): void {
    this.lastNow = now;
    if (opt.flags & ADD_ADDR_FLAG_ECHO) {
      this.signals.echoed(opt.addressId);
      return;
    }
    const remote = this.remoteKey;
    if (!remote) return;
    const port = opt.port ?? 0;
    if (opt.truncatedHmac !== addAddrHmac(remote.key, this.localKey.key, opt.addressId, opt.address, port)) {
      this.counters.addAddrBadHmac++;
      return;
    }
    this.counters.addAddrReceived++;
    this.signals.echo(opt);
    s.tcp.requestAck();
    if (this.remoteAddresses.has(opt.addressId) || this.remoteAddresses.size >= this.config.maxAddAddrAccepted) return;
    this.remoteAddresses.set(opt.addressId, { address: opt.address, port });
    this.emit({ type: 'address-added', addressId: opt.addressId, address: opt.address, port });
  }

  onRemoveAddr(now: number, ids: number[]): void {
    this.lastNow = now;
    this.counters.removeAddrReceived++;
    for (const id of ids) {
      this.remoteAddresses.delete(id);
      for (const s of [...this.subflows]) if (s.remoteAddressId === id) s.fail(now, 'address removed by the peer', TcpRstReason.UNSPECIFIED);
      this.emit({ type: 'address-removed', addressId: id });
    }
  }

  onFastClose(now: number): void {
    this.lastNow = now;
    this.counters.fastclosesReceived++;
    this.closedForSending = true;
    for (const s of [...this.subflows]) s.fail(now, 'MP_FASTCLOSE from the peer', TcpRstReason.UNSPECIFIED);
    this.enterClosed({ type: 'reset', reason: 'fastclose' });
  }

  onMpFail(now: number, s: Subflow): void {
    this.counters.mpFailReceived++;
    this.onChecksumFailure(now, s);
  }

  onChecksumFailure(now: number, s: Subflow): void {
    // §3.7: with other subflows, reset this one (its data is reinjected elsewhere). Alone,
    // the connection would fall back to an infinite mapping: not implemented yet, so the
    // connection is reset rather than risk corrupt data.
    const others = this.subflows.some((o) => o !== s && o.usable);
    s.fail(now, 'DSS checksum failure', TcpRstReason.MIDDLEBOX_INTERFERENCE);
    if (!others) this.enterClosed({ type: 'reset', reason: 'protocol-error' });
  }

  pendingSignal(_s: Subflow): MptcpOption | null {
    const remote = this.remoteKey;
    return remote ? this.signals.next(this.lastNow, this.localKey.key, remote.key) : null;
  }

  onSignalSent(_s: Subflow, opt: MptcpOption): void {
    if (this.signals.sent(this.lastNow, opt)) this.counters.addAddrSent++;
  }

  // ---- Timers ---------------------------------------------------------------------------------

  pollTimeout(): number {
    let t = this.noSubflowDeadline;
    for (const s of this.subflows) {
      const d = s.pollTimeout();
      if (d < t) t = d;
    }
    if (this.dataFinPending && this.dataFinSentAt >= 0) t = Math.min(t, this.dataFinSentAt + this.dataFinRto());
    t = Math.min(t, this.signals.deadline(), this.rateWakeAt, this.silenceDeadline());
    return t;
  }

  handleTimeout(now: number): void {
    this.lastNow = now;
    if (now >= this.noSubflowDeadline) {
      this.noSubflowDeadline = Infinity;
      this.enterClosed({ type: 'reset', reason: 'no-subflows' });
      return;
    }
    for (const s of this.subflows) if (s.pollTimeout() <= now) s.handleTimeout(now);
    // A rate cap's tokens are back: the subflows pull again when next polled for segments.
    if (now >= this.rateWakeAt) this.rateWakeAt = Infinity;
    if (this.dataFinPending && this.dataFinSentAt >= 0 && now >= this.dataFinSentAt + this.dataFinRto()) {
      this.dataFinSentAt = -1; // resend with the next pure ACK, on every usable subflow
      for (const s of this.subflows) if (s.usable) s.tcp.requestAck();
    }
    if (this.signals.due(now)) this.ackOnBest();
    this.updateStale(now);
  }

  private dataFinRto(): number {
    let rto = 200;
    for (const s of this.subflows) rto = Math.max(rto, s.tcp.retransmissionTimeout);
    return rto;
  }

  // ---- Internals --------------------------------------------------------------------------

  /** Requests a pure ACK on the best usable subflow (to carry a Data ACK or a signal). */
  private ackOnBest(): void {
    let best: Subflow | null = null;
    for (const s of this.subflows) {
      if (!s.usable) continue;
      if (!best || (s.backup ? 1 : 0) < (best.backup ? 1 : 0) || (s.srtt ?? Infinity) < (best.srtt ?? Infinity)) best = s;
    }
    best?.tcp.requestAck();
  }

  private enterClosed(e: MptcpEvent): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.noSubflowDeadline = Infinity;
    this.emit(e);
  }

  private emit(e: MptcpEvent): void {
    this.events.push(e);
    this.observer?.(e);
  }

  get connecting(): boolean {
    return this.state === 'connecting';
  }

  /** Whether the stack has told the application about this connection (server side). */
  get announcedToApplication(): boolean {
    return this.reported;
  }
  markAnnounced(): void {
    this.reported = true;
  }
}

/** The subflow ended because the peer said so (RST on an established subflow, or a refused join). */
function peerEnded(s: Subflow): boolean {
  return s.peerResetReason >= 0 || s.closeReason === 'peer-reset' || (s.role === 'join-initiator' && s.closeReason === 'refused');
}

function subflowFinAcked(state: string, closeReason: string): boolean {
  return state === 'FIN_WAIT_2' || state === 'TIME_WAIT' || (state === 'CLOSED' && (closeReason === '' || closeReason === 'closed'));
}

function connectFailure(reason: string): MptcpResetReason {
  if (reason.includes('timeout')) return 'timeout';
  if (reason.includes('refused')) return 'refused';
  return 'refused';
}

/** A subflow's place in the tier order with loss demotion: half a tier below its own. */
function effectiveRank(s: Subflow): number {
  return s.loss.demoted ? s.rank + 0.5 : s.rank;
}
