/**
 * One MPTCP subflow: the MPTCP half of a TCP connection (the TCP half is the engine in
 * mptcp/tcp/connection.ts, which calls these hooks). Owns the handshake options (MP_CAPABLE,
 * RFC 8684 §3.1; MP_JOIN with its HMACs, §3.2), the DSS on every segment (§3.3: Data ACK,
 * mappings, DATA_FIN), the subflow's send and receive mappings, turning in-order subflow
 * bytes into data-sequence ranges for the connection, and the per-subflow signals (MP_PRIO,
 * MP_TCPRST, MP_FASTCLOSE). Connection-wide decisions are the connection's (connection.ts).
 */
import { bytesEqual } from '../wire/bytes.js';
import { sumVerifies, dssPseudoHeaderSum, dssChecksum, sumWords } from '../wire/checksum.js';
import { joinAckHmac, joinSynAckHmac } from '../wire/crypto.js';
import { DssFields, writeDss } from '../wire/dss.js';
import {
  BACKUP_FLAG,
  DSS_FLAG_ACK,
  DSS_FLAG_ACK64,
  DSS_FLAG_DATA_FIN,
  DSS_FLAG_DSN64,
  DSS_FLAG_MAPPING,
  MPC_FLAG_CHECKSUM,
  MPC_FLAG_HMAC_SHA256,
  TcpRstReason,
  type MptcpOption,
} from '../wire/mptcp-option-types.js';
import { emitMptcpOption, mptcpOptionLength, parseMptcpOption } from '../wire/mptcp-options.js';
import type { SegmentView } from '../wire/segment-view.js';
import { TcpFlag } from '../wire/tcp-header.js';
import type { TcpConnection } from '../tcp/connection.js';
import type { SubflowHooks } from '../tcp/subflow-hooks.js';
import type { CongestionControl } from '../tcp/congestion.js';
import type { GroupMember } from '../cc/coupling.js';
import type { SchedulerSubflow } from '../sched/scheduler.js';
import { LossDemotion } from './loss-demotion.js';
import { DEFAULT_PATH_USE, SPENT_BUDGET_RANK, type PathUse } from '../sched/path-use.js';
import { dsnFromWire32, dsnFromWire64, dsnWireHi, dsnWireLo } from './data-seq.js';
import { MAPPING_DATA_FIN, MappingQueue } from './mappings.js';
import type { SubflowOwner } from './subflow-owner.js';

export type SubflowRole = 'mpc-initiator' | 'mpc-responder' | 'join-initiator' | 'join-responder';
/** handshake -> (join initiator: pre-established until the fourth ACK) -> active -> closed. */
export type SubflowPhase = 'handshake' | 'pre-established' | 'active' | 'closed';

/** DSS with 64-bit Data ACK and 64-bit DSN mapping: 26 bytes (28 with a checksum), 4-aligned. */
const DSS_DATA_OPTION_BYTES = 28;
/** After this many MP_CAPABLE SYNs without answer, the next SYN goes without (Linux: 2). */
const MPC_SYN_ATTEMPTS = 2;

export interface SubflowParams {
  id: number;
  role: SubflowRole;
  local: Uint8Array;
  remote: Uint8Array;
  /** Our address id for this subflow's local address (0 = the initial subflow's). */
  localAddressId: number;
  /** We ask the peer not to send on this subflow unless no other works (MP_JOIN B). */
  localBackup: boolean;
  /** Our MP_JOIN nonce (joins only). */
  localNonce?: number;
  /** The peer's MP_JOIN SYN (join responder). */
  remoteNonce?: number;
  remoteAddressId?: number;
  /** The peer asked for backup in its MP_JOIN SYN (join responder). */
  peerBackup?: boolean;
}

export class Subflow implements SubflowHooks, SchedulerSubflow {
  readonly id: number;
  readonly role: SubflowRole;
  readonly local: Uint8Array;
  readonly remote: Uint8Array;
  readonly localAddressId: number;
  remoteAddressId: number;
  phase: SubflowPhase = 'handshake';
  /** We send here only when no regular subflow is usable: the peer asked (B flag, MP_PRIO). */
  backup: boolean;
  /** We asked the peer to treat this subflow as backup. */
  localBackup: boolean;
  /** The engine; set right after construction by whoever created it. */
  tcp!: TcpConnection;
  /** Reason for the MP_TCPRST on our RST, when we reset this subflow. */
  resetReason = -1;
  /** Reason the peer gave in MP_TCPRST when it reset this subflow (-1: none). */
  peerResetReason = -1;
  /** Why the subflow ended, for events and stats. */
  closeReason = '';
  /** Stalled: retransmission timeouts went unanswered; its data is reinjected elsewhere. */
  stale = false;
  /** Silent: nothing heard from the peer for a while with data in flight (silentPathMs). */
  silent = false;
  /** When it was found silent (ms). */
  silentAt = -Infinity;
  /** The consecutive-timeout count at which the blocking head of our data was last reinjected. */
  headReinjectedAt = 0;
  /** Data-level bytes this subflow carried (first transmissions) and received. */
  dataBytesSent = 0;
  dataBytesReceived = 0;
  /** How the connection's policy lets this subflow's path be used (tier, weight, rate cap). */
  use: PathUse = DEFAULT_PATH_USE;
  /** May the scheduler give it data now (the connection sets it before each decision). */
  eligible = false;
  /** Its path's rate cap holds it back now (set with `eligible`, for eligible and probing subflows): no room. */
  rateBlocked = false;
  /** Bytes the scheduler gave it: new data, reinjections and redundant copies. */
  scheduledBytes = 0;
  /** Its loss judged against the connection's demotion ratios (loss-demotion.ts). */
  readonly loss = new LossDemotion();
  /** Demoted for its loss and not eligible: it may send probe copies (set with `eligible`). */
  probing = false;
  /** Redundant scheduling: the next DSN this subflow has not yet sent a copy of. */
  redundantNext = 1;

  private readonly owner: SubflowOwner;
  /** This subflow's congestion controller: a member of the connection's group (mptcp/cc). */
  private cc: GroupMember | null = null;
  private readonly localNonce: number;
  private remoteNonce: number;
  private readonly tx = new MappingQueue();
  private readonly rx = new MappingQueue();
  private readonly dss = new DssFields();
  /** Next relative subflow sequence number to read from the engine. */
  private readSeq = 1;
  /** MP_CAPABLE initiator: the peer has not yet shown it has our key (no DSS seen). */
  private mpcUnconfirmed = false;
  /** A DSS arrived on this subflow (so a segment without one means options are stripped). */
  private sawDss = false;

  /** MP_CAPABLE initiator whose peer has not yet shown (by a DSS) that it has our key. */
  get awaitingKeyConfirmation(): boolean {
    return this.mpcUnconfirmed;
  }
  private synsSent = 0;
  private sentPlainSyn = false;
  /**
   * When to resend our third ACK (MP_JOIN initiator waiting for the fourth ACK; MP_CAPABLE
   * initiator until the peer shows it has our key).
   */
  private handshakeDeadline = Infinity;
  private handshakeTries = 0;
  /** MP_PRIO to send (our new backup wish), or null. */
  private prioPending: boolean | null = null;
  /** Running DSS checksum of the receive mapping being read (checksums negotiated). */
  private rxSum = 0;
  private rxSumBytes = 0;
  private rxSumIndexSsn = -1;

  constructor(owner: SubflowOwner, p: SubflowParams) {
    this.owner = owner;
    this.id = p.id;
    this.role = p.role;
    this.local = p.local;
    this.remote = p.remote;
    this.localAddressId = p.localAddressId;
    this.remoteAddressId = p.remoteAddressId ?? 0;
    this.localBackup = p.localBackup;
    this.backup = p.peerBackup ?? false;
    this.localNonce = p.localNonce ?? 0;
    this.remoteNonce = p.remoteNonce ?? 0;
  }

  // ---- Congestion control -------------------------------------------------------------------

  /** SubflowHooks: the engine's controller, from the connection's coupling group. */
  createCongestionControl(mss: number): CongestionControl {
    this.cc?.leave(); // the engine replaces its first controller once the SYN options fix the MSS
    this.cc = this.owner.coupling.create(mss);
    return this.cc;
  }

  /**
   * SubflowHooks: the queueing delay the engine's inflight cap allows (MptcpConfig). Infinity
   * after a fallback to plain TCP: one path, no other subflow for its queue to hold back or
   * fail over to, so the congestion window alone decides, as for any TCP peer.
   */
  get queueDelayBudgetMs(): number {
    return this.owner.fallback ? Infinity : this.owner.config.queueDelayBudgetMs;
  }

  /** The subflow is gone: its window leaves the coupled increase (idempotent). */
  leaveCoupling(): void {
    this.cc?.leave();
    this.cc = null;
  }

  // ---- SchedulerSubflow ---------------------------------------------------------------------

  get usable(): boolean {
    const st = this.tcp.state;
    return this.phase === 'active' && !this.stale && !this.silent && (st === 'ESTABLISHED' || st === 'CLOSE_WAIT');
  }

  get srtt(): number | undefined {
    return this.tcp.smoothedRtt;
  }

  /**
   * SchedulerSubflow: srtt, except after a whole srtt with nothing in flight: the bottleneck
   * queue our last flight built has drained, so new data sees about the minimum RTT. Without
   * this a path whose srtt was inflated by a queue (an LTE modem's) is judged by that stale
   * figure for as long as the scheduler keeps refusing it (ECF, BLEST, lowest RTT): no new
   * sample can come. The kernel's scheduler likewise prefers an idle subflow (its linger
   * time, queued bytes over pacing rate, is zero).
   */
  get expectedRtt(): number | undefined {
    const t = this.tcp;
    const srtt = t.smoothedRtt;
    if (srtt === undefined || t.bytesInFlight > 0) return srtt;
    const idleFor = this.owner.lastInputTime - Math.max(t.lastReceivedAt, t.flightStartedAt);
    return idleFor >= srtt ? Math.min(srtt, t.minimumRtt ?? srtt) : srtt;
  }

  sendRoom(): number {
    return this.rateBlocked ? 0 : this.tcp.sendRoom();
  }

  /** Payload bytes it put on the wire: what the scheduler gave it plus TCP retransmissions. */
  get wireBytes(): number {
    return this.scheduledBytes + this.tcp.retransmittedBytes;
  }

  get cwnd(): number {
    return this.tcp.congestionWindow;
  }

  get mss(): number {
    return this.tcp.sendMss();
  }

  get weight(): number {
    return this.use.weight;
  }

  /**
   * Its place in the tier order: the policy's tier, at least 1 when the peer asked for backup,
   * and below every tier when its path's data budget is spent.
   */
  get rank(): number {
    if (this.use.budget?.exhausted) return SPENT_BUDGET_RANK;
    return this.backup && this.use.tier < 1 ? 1 : this.use.tier;
  }

  // ---- SubflowHooks: handshake --------------------------------------------------------------

  get dataOptionBytes(): number {
    return this.owner.fallback ? 0 : DSS_DATA_OPTION_BYTES;
  }

  writeSynOptions(out: Uint8Array, p: number, synAck: boolean): number {
    const o = this.owner;
    switch (this.role) {
      case 'mpc-initiator':
        this.synsSent++;
        if (this.synsSent > MPC_SYN_ATTEMPTS && o.config.fallbackAfterSynRetries) {
          // SYNs with MP_CAPABLE may be dropped by a middlebox: try plain TCP (RFC 8684 §3.1).
          this.sentPlainSyn = true;
          return p;
        }
        return p + emitMptcpOption({ subtype: 'MP_CAPABLE', version: 1, flags: this.mpcFlags() }, out, p);
      case 'mpc-responder':
        if (o.fallback) return p;
        return p + emitMptcpOption({ subtype: 'MP_CAPABLE', version: 1, flags: this.mpcFlags(), senderKey: o.localKey.key }, out, p);
      case 'join-initiator': {
        const remote = o.remoteKey;
        if (!remote) return p;
        return p + emitMptcpOption({ subtype: 'MP_JOIN', stage: 'syn', flags: this.localBackup ? BACKUP_FLAG : 0, addressId: this.localAddressId, receiverToken: remote.token, senderNonce: this.localNonce }, out, p);
      }
      case 'join-responder': {
        const remote = o.remoteKey;
        if (!remote || !synAck) return p;
        const hmac = joinSynAckHmac(o.localKey.key, remote.key, this.localNonce, this.remoteNonce);
        return p + emitMptcpOption({ subtype: 'MP_JOIN', stage: 'syn-ack', flags: this.localBackup ? BACKUP_FLAG : 0, addressId: this.localAddressId, truncatedHmac: hmac, senderNonce: this.localNonce }, out, p);
      }
    }
  }

  private mpcFlags(): number {
    return MPC_FLAG_HMAC_SHA256 | (this.owner.checksums || (this.role === 'mpc-initiator' && this.owner.config.checksums) ? MPC_FLAG_CHECKSUM : 0);
  }

  onSynAck(now: number, v: SegmentView, buf: Uint8Array): void {
    const opts = this.controlOptions(v, buf);
    if (this.role === 'mpc-initiator') {
      if (!this.owner.connecting) {
        // Another path's MP_CAPABLE attempt won (Happy Eyeballs): this one is not needed.
        this.fail(now, 'another path connected first', TcpRstReason.UNSPECIFIED);
        return;
      }
      const mpc = opts.find((x) => x.subtype === 'MP_CAPABLE');
      if (!mpc || mpc.senderKey === undefined || mpc.version !== 1 || !(mpc.flags & MPC_FLAG_HMAC_SHA256) || this.sentPlainSyn && !mpc) {
        // No MP_CAPABLE in the SYN/ACK: the peer or a middlebox does not do MPTCP (§3.1).
        this.owner.onFallback(now, this, mpc ? 'invalid MP_CAPABLE on SYN/ACK' : 'no MP_CAPABLE on SYN/ACK');
        this.phase = 'active';
        return;
      }
      this.owner.onPeerKey(now, mpc.senderKey, mpc.flags);
      this.mpcUnconfirmed = true;
      this.phase = 'active';
      // The third ACK carries our key and may be lost; a responder that speaks first waits for
      // it. Until the peer shows it has the key (a DSS), resend it (§3.1).
      this.handshakeTries = 0;
      this.handshakeDeadline = now + this.handshakeInterval();
      return;
    }
    if (this.role === 'join-initiator') {
      const join = opts.find((x) => x.subtype === 'MP_JOIN' && x.stage === 'syn-ack');
      const remote = this.owner.remoteKey;
      if (!join || join.subtype !== 'MP_JOIN' || join.stage !== 'syn-ack' || !remote) {
        this.fail(now, 'no MP_JOIN on SYN/ACK', TcpRstReason.MPTCP_ERROR);
        return;
      }
      const expected = joinSynAckHmac(remote.key, this.owner.localKey.key, join.senderNonce, this.localNonce);
      if (expected !== join.truncatedHmac) {
        this.owner.counters.joinSynAckHmacFailures++;
        this.fail(now, 'MP_JOIN SYN/ACK HMAC mismatch', TcpRstReason.MPTCP_ERROR);
        return;
      }
      this.remoteNonce = join.senderNonce;
      this.remoteAddressId = join.addressId;
      this.backup = (join.flags & BACKUP_FLAG) !== 0;
      this.phase = 'pre-established';
      this.handshakeTries = 0;
      this.handshakeDeadline = now + this.handshakeInterval();
    }
  }

  private handshakeInterval(): number {
    const rtt = this.tcp.smoothedRtt ?? 100;
    return Math.max(2 * rtt, 10) * 2 ** this.handshakeTries;
  }

  // ---- SubflowHooks: input ------------------------------------------------------------------

  onSegment(now: number, v: SegmentView, buf: Uint8Array, seq: number): boolean {
    const o = this.owner;
    const opts = v.controlCount > 0 ? this.controlOptions(v, buf) : NO_OPTIONS;
    if (this.phase === 'handshake') {
      if (this.role === 'mpc-responder' && !o.fallback) {
        const mpc = opts.find((x) => x.subtype === 'MP_CAPABLE');
        if (!mpc || mpc.senderKey === undefined || mpc.receiverKey === undefined) {
          if (v.hasDss) {
            // The peer speaks MPTCP but its third ACK and first data (which carry its key) were
            // lost: its data cannot be mapped without the key. Drop it; the first data segment
            // comes again with MP_CAPABLE (§3.1).
            if (v.dss.flags & DSS_FLAG_ACK) this.onDss(now, v, seq);
            return false;
          }
          // No MPTCP option at all: a middlebox strips them (§3.1): plain TCP.
          o.onFallback(now, this, 'no MP_CAPABLE on the third ACK');
          this.phase = 'active';
          return true;
        }
        if (mpc.receiverKey !== o.localKey.key || mpc.version !== 1) {
          this.fail(now, 'MP_CAPABLE third ACK with the wrong key', TcpRstReason.MPTCP_ERROR);
          return true;
        }
        o.onPeerKey(now, mpc.senderKey, mpc.flags);
        this.phase = 'active';
      } else if (this.role === 'join-responder') {
        const join = opts.find((x) => x.subtype === 'MP_JOIN' && x.stage === 'ack');
        const remote = o.remoteKey;
        if (!join || join.subtype !== 'MP_JOIN' || join.stage !== 'ack' || !remote) {
          this.fail(now, 'no MP_JOIN on the third ACK', TcpRstReason.MPTCP_ERROR);
          return true;
        }
        const expected = joinAckHmac(remote.key, o.localKey.key, this.remoteNonce, this.localNonce);
        if (!bytesEqual(expected, join.hmac)) {
          o.counters.joinAckHmacFailures++;
          this.fail(now, 'MP_JOIN third-ACK HMAC mismatch', TcpRstReason.MPTCP_ERROR);
          return true;
        }
        this.phase = 'active';
        this.tcp.requestAck(); // the fourth ACK (§3.2)
        o.onSubflowActive(now, this);
      } else {
        this.phase = 'active';
      }
    } else if (this.phase === 'pre-established') {
      // Any segment from the responder after our third ACK is the fourth ACK (§3.2).
      this.phase = 'active';
      this.handshakeDeadline = Infinity;
      o.onSubflowActive(now, this);
    }
    if (this.role === 'mpc-responder' && this.phase === 'active' && !o.fallback && v.payloadLength > 0) {
      // The initiator repeats MP_CAPABLE on its first data (§3.1) until it sees our DSS: the
      // mapping is implicit, from DSN 1 (relative) at subflow byte 1, of the given length.
      const mpc = opts.find((x) => x.subtype === 'MP_CAPABLE');
      if (mpc && mpc.dataLength !== undefined && mpc.receiverKey === o.localKey.key) this.rx.insert(1, 1, mpc.dataLength, 0, mpc.checksum ?? 0);
    }
    for (const opt of opts) this.onControlOption(now, opt);
    if (this.phase === 'closed' || o.fallback) return true;
    if (v.hasDss) this.onDss(now, v, seq);
    else if (this.sawDss && v.controlCount === 0 && this.phase === 'active' && !o.checksums && o.canFallBack(this)) this.optionsVanished(now);
    return true;
  }

  /**
   * A segment without any MPTCP option after DSS options flowed: a middlebox on the path now
   * strips them. On the only subflow, with everything before received here in order, the
   * stream can continue as plain TCP from where the last mapping ends (§3.7, the infinite
   * mapping), as Linux does; otherwise the subflow is reset.
   */
  private optionsVanished(now: number): void {
    const o = this.owner;
    let ssnEnd = this.readSeq + this.tcp.readableBytes;
    let dsnEnd = o.receiveNext + this.tcp.readableBytes;
    const last = this.rx.lastIndex;
    if (last >= this.rx.firstIndex) {
      ssnEnd = this.rx.ssnAt(last) + this.rx.subflowLength(last);
      dsnEnd = this.rx.dsnAt(last) + this.rx.subflowLength(last);
    }
    o.onInfiniteMapping(now, this, ssnEnd - dsnEnd);
  }

  private onDss(now: number, v: SegmentView, seq: number): void {
    const o = this.owner;
    const d = v.dss;
    if (this.mpcUnconfirmed) {
      this.mpcUnconfirmed = false;
      this.handshakeDeadline = Infinity;
    }
    this.sawDss = true;
    if (d.flags & DSS_FLAG_ACK) {
      const k = o.localKey;
      const ack = d.flags & DSS_FLAG_ACK64 ? dsnFromWire64(k.idsnHi, k.idsnLo, d.dataAckHi, d.dataAckLo) : dsnFromWire32(k.idsnLo, d.dataAckLo, o.sendUnacked);
      if (ack >= 0) o.onDataAck(now, ack, v.window * this.tcp.sendWindowScale);
    }
    if (!(d.flags & DSS_FLAG_MAPPING)) return;
    const r = o.remoteKey;
    if (!r) return;
    if (d.hasChecksum !== o.checksums) {
      // A checksum where none was negotiated, or none where one was: the peer is confused
      // or a middlebox rewrote the option (§3.3: Linux resets the subflow).
      o.counters.checksumMismatches++;
      this.fail(now, 'DSS checksum presence does not match the negotiation', TcpRstReason.MPTCP_ERROR);
      return;
    }
    const dsn = d.flags & DSS_FLAG_DSN64 ? dsnFromWire64(r.idsnHi, r.idsnLo, d.dsnHi, d.dsnLo) : dsnFromWire32(r.idsnLo, d.dsnLo, o.receiveNext);
    if (dsn < 0) {
      o.counters.badMappings++;
      return;
    }
    if (d.dataLength === 0) {
      // Infinite mapping (§3.7): the peer fell back; from this subflow byte on, data = subflow.
      o.onInfiniteMapping(now, this, d.subflowSeq - dsn);
      return;
    }
    const fin = (d.flags & DSS_FLAG_DATA_FIN) !== 0;
    if (fin) o.onDataFin(now, dsn + d.dataLength - 1);
    if (d.subflowSeq === 0 && fin && d.dataLength === 1) return; // DATA_FIN alone (§3.3.3)
    if (d.subflowSeq + d.dataLength - (fin ? 1 : 0) <= this.readSeq) return; // already read
    if (!this.rx.insert(d.subflowSeq, dsn, d.dataLength, fin ? MAPPING_DATA_FIN : 0, d.checksum)) {
      o.counters.dssMismatches++;
    }
    void seq;
  }

  private onControlOption(now: number, opt: MptcpOption): void {
    const o = this.owner;
    switch (opt.subtype) {
      case 'MP_PRIO':
        // The sender of MP_PRIO asks us not to send on this subflow unless needed (§3.3.8).
        this.backup = (opt.flags & BACKUP_FLAG) !== 0;
        o.counters.mpPrioReceived++;
        break;
      case 'ADD_ADDR':
        o.onAddAddr(now, this, opt);
        break;
      case 'REMOVE_ADDR':
        o.onRemoveAddr(now, opt.addressIds);
        break;
      case 'MP_FASTCLOSE':
        if (opt.receiverKey === o.localKey.key) o.onFastClose(now);
        else o.counters.badFastclose++;
        break;
      case 'MP_FAIL':
        o.onMpFail(now, this);
        break;
      default:
        break;
    }
  }

  onReset(v: SegmentView, buf: Uint8Array): void {
    if (v.controlCount === 0) return;
    for (const opt of this.controlOptions(v, buf)) {
      if (opt.subtype === 'MP_TCPRST') {
        this.peerResetReason = opt.reason;
        this.owner.counters.mpTcpRstReceived++;
        if (!this.closeReason) this.closeReason = `peer reset (MP_TCPRST reason ${opt.reason})`;
      } else if (opt.subtype === 'MP_FASTCLOSE') {
        // Linux sends MP_FASTCLOSE on a RST (§3.5 allows it): the whole connection ends.
        this.onControlOption(this.owner.lastInputTime, opt);
      }
    }
  }

  /** Parses the MPTCP control options the view located (rare: handshakes and signals). */
  private controlOptions(v: SegmentView, buf: Uint8Array): MptcpOption[] {
    const out: MptcpOption[] = [];
    for (let i = 0; i < v.controlCount; i++) {
      const off = v.controlOffsets[i];
      const r = parseMptcpOption(buf, off, buf[off + 1]);
      if (r.ok) out.push(r.value);
      else this.owner.counters.badOptions++;
    }
    return out;
  }

  /** Reads the subflow's in-order bytes and hands them to the connection by DSN. */
  drain(now: number): void {
    this.drainNow = now;
    this.tcp.consume(now, Infinity, this.deliverView);
  }

  private drainNow = 0;
  /** Bound once: consume() calls it with views of the engine's receive queue (no copies here). */
  private readonly deliverView = (data: Uint8Array): void => this.deliver(this.drainNow, data);

  /** Maps in-order subflow bytes to DSNs and hands them to the connection (which copies them). */
  private deliver(now: number, data: Uint8Array): void {
    const o = this.owner;
    let off = 0;
    while (off < data.length && this.phase !== 'closed') {
      const seq = this.readSeq;
      if (o.fallback && this.rx.find(seq) < 0) {
        const n = data.length - off;
        o.onData(now, seq - o.fallbackOffset, data.subarray(off, off + n), this);
        this.dataBytesReceived += n;
        this.use.budget?.take(n);
        this.readSeq += n;
        off += n;
        continue;
      }
      const i = this.rx.find(seq);
      if (i < 0 && this.role === 'mpc-initiator' && this.mpcUnconfirmed && o.canFallBack(this)) {
        // The peer sends data without a DSS before ever showing it has our key: it fell back
        // to TCP (our third ACK's MP_CAPABLE never reached it, §3.1). So do we (as Linux).
        o.onFallback(now, this, 'peer fell back to TCP');
        continue;
      }
      if (i < 0) {
        // Subflow bytes without a mapping: the peer broke the protocol (§3.3.1).
        o.counters.dataOutsideMapping++;
        this.fail(now, 'data outside any DSS mapping', TcpRstReason.MPTCP_ERROR);
        return;
      }
      const mapSsn = this.rx.ssnAt(i);
      const n = Math.min(data.length - off, mapSsn + this.rx.subflowLength(i) - seq);
      const piece = data.subarray(off, off + n);
      if (o.checksums && !this.checkPiece(now, i, seq - mapSsn, piece)) return;
      o.onData(now, this.rx.dsnAt(i) + (seq - mapSsn), piece, this);
      this.dataBytesReceived += n;
      this.use.budget?.take(n);
      this.readSeq += n;
      off += n;
      this.rx.trimBefore(this.readSeq);
    }
  }

  /** Adds a piece of a mapping to its running DSS checksum; verifies at the mapping's end. */
  private checkPiece(now: number, i: number, pos: number, piece: Uint8Array): boolean {
    const ssn = this.rx.ssnAt(i);
    if (this.rxSumIndexSsn !== ssn || pos === 0) {
      this.rxSumIndexSsn = ssn;
      this.rxSum = 0;
      this.rxSumBytes = 0;
    }
    let start = 0;
    if (this.rxSumBytes & 1 && piece.length > 0) {
      this.rxSum += piece[0]; // the low byte of a word begun in the previous piece
      start = 1;
    }
    this.rxSum = sumWords(piece, start, piece.length, this.rxSum);
    this.rxSumBytes += piece.length;
    if (this.rxSumBytes < this.rx.subflowLength(i)) return true;
    const r = this.owner.remoteKey;
    if (!r) return true;
    const dsn = this.rx.dsnAt(i);
    const len = this.rx.lengthAt(i);
    const pseudo = dssPseudoHeaderSum(dsnWireHi(r.idsnHi, r.idsnLo, dsn), dsnWireLo(r.idsnLo, dsn), ssn, len, this.rx.checksumAt(i));
    if (sumVerifies(this.rxSum + pseudo)) return true;
    this.owner.counters.dataChecksumErrors++;
    this.owner.onChecksumFailure(now, this);
    return false;
  }

  // ---- SubflowHooks: output -----------------------------------------------------------------

  segmentLimit(seq: number, len: number): number {
    if (this.owner.fallback) return len;
    const i = this.tx.find(seq);
    if (i < 0) return len;
    return Math.min(len, this.tx.ssnAt(i) + this.tx.subflowLength(i) - seq);
  }

  canSendData(): boolean {
    return this.phase === 'active' && !this.owner.closedForSending;
  }

  receiveSpace(): number {
    return this.owner.receiveSpace();
  }

  pull(now: number, room: number): void {
    this.tx.trimBefore(this.tcp.sendUnacked);
    const ssn = this.tcp.sendQueuedEnd;
    const chunk = this.owner.pull(now, this, room);
    if (!chunk) return;
    const len = chunk.length;
    let csum = 0;
    if (this.owner.checksums && !this.owner.fallback) {
      // The DATA_FIN counts in the mapping's data-level length, so in its checksum too (§3.3.1).
      const r = this.owner.localKey;
      const data = this.owner.sendData(chunk.dsn, len);
      csum = dssChecksum(dsnWireHi(r.idsnHi, r.idsnLo, chunk.dsn), dsnWireLo(r.idsnLo, chunk.dsn), ssn, len + (chunk.dataFin ? 1 : 0), data);
    }
    if (!this.owner.fallback) this.tx.push(ssn, chunk.dsn, len + (chunk.dataFin ? 1 : 0), csum, chunk.dataFin ? MAPPING_DATA_FIN : 0);
    if (!chunk.reinjection) this.dataBytesSent += len;
    this.scheduledBytes += len;
    this.owner.copySendData(chunk.dsn, len, this.tcp);
  }

  writeOptions(out: Uint8Array, p: number, seq: number, len: number, flags: number, room: number): number {
    const o = this.owner;
    if (flags & TcpFlag.RST) {
      if (o.fastClosePending && o.remoteKey && room >= 16) {
        p += emitMptcpOption({ subtype: 'MP_FASTCLOSE', reserved: 0, receiverKey: o.remoteKey.key }, out, p);
      }
      if (this.resetReason >= 0) p += emitMptcpOption({ subtype: 'MP_TCPRST', flags: 0, reason: this.resetReason }, out, p);
      return p;
    }
    if (o.fallback || this.phase === 'handshake' || this.phase === 'closed') return p;
    const remote = o.remoteKey;
    if (!remote) return p;
    if (this.role === 'mpc-initiator' && this.mpcUnconfirmed && (len === 0 || seq === 1)) {
      // Until the peer shows it has our key, our ACKs repeat it (third ACK, §3.1), and our
      // first data segment carries MP_CAPABLE with the data-level length instead of a DSS.
      const i = len > 0 ? this.tx.find(seq) : -1;
      const mpc: MptcpOption = { subtype: 'MP_CAPABLE', version: 1, flags: this.mpcFlags(), senderKey: o.localKey.key, receiverKey: remote.key };
      if (i >= 0) {
        mpc.dataLength = this.tx.lengthAt(i);
        if (o.checksums) mpc.checksum = this.tx.checksumAt(i);
      }
      return p + emitMptcpOption(mpc, out, p);
    }
    if (this.phase === 'pre-established') {
      const hmac = joinAckHmac(o.localKey.key, remote.key, this.localNonce, this.remoteNonce);
      return p + emitMptcpOption({ subtype: 'MP_JOIN', stage: 'ack', reserved: 0, hmac }, out, p);
    }
    const d = this.dss;
    d.clear();
    d.flags = DSS_FLAG_ACK | DSS_FLAG_ACK64;
    const ack = o.receiveNext;
    d.dataAckHi = dsnWireHi(remote.idsnHi, remote.idsnLo, ack);
    d.dataAckLo = dsnWireLo(remote.idsnLo, ack);
    const k = o.localKey;
    if (len > 0) {
      const i = this.tx.find(seq);
      if (i >= 0) {
        const dsn = this.tx.dsnAt(i);
        d.flags |= DSS_FLAG_MAPPING | DSS_FLAG_DSN64 | (this.tx.flagsAt(i) & MAPPING_DATA_FIN ? DSS_FLAG_DATA_FIN : 0);
        d.dsnHi = dsnWireHi(k.idsnHi, k.idsnLo, dsn);
        d.dsnLo = dsnWireLo(k.idsnLo, dsn);
        d.subflowSeq = this.tx.ssnAt(i);
        d.dataLength = this.tx.lengthAt(i);
        d.hasChecksum = o.checksums;
        d.checksum = this.tx.checksumAt(i);
      }
    } else if (o.dataFinDue) {
      // DATA_FIN on a segment without data: subflow sequence 0, length 1 (§3.3.3).
      const fin = o.dataFinSeq;
      d.flags |= DSS_FLAG_MAPPING | DSS_FLAG_DSN64 | DSS_FLAG_DATA_FIN;
      d.dsnHi = dsnWireHi(k.idsnHi, k.idsnLo, fin);
      d.dsnLo = dsnWireLo(k.idsnLo, fin);
      d.subflowSeq = 0;
      d.dataLength = 1;
      d.hasChecksum = o.checksums;
      if (o.checksums) d.checksum = dssChecksum(d.dsnHi, d.dsnLo, 0, 1, EMPTY);
      o.onDataFinSent(this);
    }
    const signal = len === 0 ? o.pendingSignal(this) : null;
    const signalLen = signal ? mptcpOptionLength(signal) : 0;
    const dssLen = d.flags & DSS_FLAG_MAPPING ? 28 : 12;
    if (signal && signalLen + dssLen > room) {
      // An ADD_ADDR beside the DSS may not fit (IPv6 with a port, §3.4.1): it goes alone on
      // this pure ACK; the next segment carries the Data ACK again.
      if (signalLen <= room) {
        p += emitMptcpOption(signal, out, p);
        o.onSignalSent(this, signal);
        return p;
      }
    }
    const start = p;
    p += writeDss(out, p, d);
    if (signal && p - start + signalLen <= room) {
      p += emitMptcpOption(signal, out, p);
      o.onSignalSent(this, signal);
    }
    if (this.prioPending !== null && len === 0 && p - start + 3 <= room) {
      p += emitMptcpOption({ subtype: 'MP_PRIO', flags: this.prioPending ? BACKUP_FLAG : 0 }, out, p);
      this.prioPending = null;
    }
    return p;
  }

  // ---- Control -------------------------------------------------------------------------------

  /** Changes our backup wish and tells the peer with MP_PRIO (§3.3.8). */
  setLocalBackup(backup: boolean): void {
    if (this.localBackup === backup) return;
    this.localBackup = backup;
    this.prioPending = backup;
    this.tcp.requestAck();
  }

  /** Resets the subflow with an MP_TCPRST reason (§3.6). */
  fail(_now: number, why: string, reason: number): void {
    if (this.phase === 'closed') return;
    this.resetReason = reason;
    this.closeReason = why;
    this.phase = 'closed';
    this.tcp.abort();
    this.owner.subflowFailed(this);
  }

  /** Subflow data sent but not yet acknowledged at the data level, for reinjection. */
  forEachUnacked(fn: (dsn: number, len: number) => void): void {
    this.tx.trimBefore(this.tcp.sendUnacked);
    this.tx.forEach((_ssn, dsn, len) => fn(dsn, len));
  }

  pollTimeout(): number {
    return this.handshakeDeadline;
  }

  handleTimeout(now: number): void {
    if (now < this.handshakeDeadline) return;
    const joinWaiting = this.phase === 'pre-established';
    const mpcWaiting = this.role === 'mpc-initiator' && this.mpcUnconfirmed && this.phase === 'active' && !this.owner.fallback;
    if (!joinWaiting && !mpcWaiting) {
      this.handshakeDeadline = Infinity;
      return;
    }
    this.handshakeTries++;
    if (joinWaiting && this.handshakeTries > 6) {
      this.fail(now, 'no fourth ACK for MP_JOIN', TcpRstReason.MPTCP_ERROR);
      return;
    }
    if (mpcWaiting && this.handshakeTries > 8) {
      // Data (ours or the peer's) will carry the handshake on: stop resending.
      this.handshakeDeadline = Infinity;
      return;
    }
    this.tcp.requestAck(); // resend the third ACK with MP_JOIN / MP_CAPABLE (§3.1, §3.2)
    this.handshakeDeadline = now + this.handshakeInterval();
  }
}

const NO_OPTIONS: MptcpOption[] = [];
const EMPTY = new Uint8Array(0);
