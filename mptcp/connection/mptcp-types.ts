/**
 * MPTCP connection-level configuration, events, counters and statistics (RFC 8684), shared by
 * the connection, its subflows, the stack and the socket API.
 */
import type { CongestionName } from '../cc/coupling.js';
import type { TcpStats } from '../tcp/tcp-types.js';

export interface MptcpConfig {
  /**
   * The packet scheduler (mptcp/sched/scheduler.ts createScheduler). Default 'ecf': in the
   * simulator grid (test/sim/mptcp-aggregation-grid.test.ts) it matched or beat lowest-RTT,
   * BLEST and round-robin in every case, and clearly on a bufferbloated slow second path.
   */
  scheduler: string;
  /**
   * Congestion control of the subflows (mptcp/cc): 'cubic' or 'newreno' per subflow as single-path
   * TCP, or coupled across the connection's subflows: 'lia' (RFC 6356), 'olia', 'balia'.
   * Default 'olia': at a shared bottleneck it takes 0.84x a TCP flow's share where uncoupled
   * CUBIC takes 2.5x (test/sim/mptcp-coupled-cc.test.ts), and on disjoint paths it aggregates
   * as well as CUBIC except on a lossy path (the grid's Wi-Fi case: 22.7 vs 24.5 Mbit/s).
   */
  congestion: CongestionName;
  /** Ask for DSS checksums (RFC 8684 §3.3: either side's A flag turns them on). */
  checksums: boolean;
  /** After two unanswered MP_CAPABLE SYNs, send plain SYNs (as Linux; §3.1 middleboxes). */
  fallbackAfterSynRetries: boolean;
  /** Subflows per connection (Linux's maximum is 8). */
  maxSubflows: number;
  /** ADD_ADDR announcements accepted per connection. */
  maxAddAddrAccepted: number;
  /** Send buffer: at least this; grown from the paths' rates and RTTs up to maxSendBufferBytes. */
  sendBufferBytes: number;
  maxSendBufferBytes: number;
  /**
   * Receive buffer (the connection-level window every subflow announces, RFC 8684 §3.3.5):
   * this at first, grown every RTT to 3 x what the application consumed per RTT, up to
   * maxReceiveBufferBytes (receive-buffer-tuner.ts; NSDI 2012 §4). Equal values: a fixed buffer.
   * Default 1 MiB: 2 x 40 Mbit/s x 100 ms, so most connections never grow and an idle or
   * attacked one pins 8 x less than the former fixed 8 MiB; growth doubles it every RTT.
   */
  receiveBufferBytes: number;
  /** The receive buffer's upper bound; the subflows' window scale is chosen to cover it. */
  maxReceiveBufferBytes: number;
  /** A connection left without subflows waits this long for a new one before it fails. */
  noSubflowTimeoutMs: number;
  /** Re-open a failed path after this delay, doubling up to maxRejoinDelayMs. */
  rejoinDelayMs: number;
  maxRejoinDelayMs: number;
  /** Happy-Eyeballs style: start the MP_CAPABLE attempt on the next path after this delay. */
  connectStaggerMs: number;
  /**
   * A subflow whose retransmission timer fired this many times in a row without progress is
   * closed while another subflow works (its data was reinjected at the first timeout); the path
   * manager opens the path again with backoff. Until then a stale subflow stays (as in Linux):
   * a short outage ends with its next retransmission, and the peer keeps its state too (Linux
   * refuses a new join while it still holds the old subflow). 6 timeouts from a 200 ms RTO
   * take about 13 s. It must also have heard nothing for subflowDeadAfterMs: a silent or stale
   * subflow is probed every deadPathProbeMs, so its timeouts come faster than backoff's.
   */
  subflowDeadAfterTimeouts: number;
  /** See subflowDeadAfterTimeouts: about what 6 backed-off timeouts take from a 200 ms RTO. */
  subflowDeadAfterMs: number;
  /**
   * From this many retransmission timeouts in a row a subflow is stale: the scheduler avoids
   * it and all its unacknowledged data is reinjected (Linux: net.mptcp.stale_loss_cnt = 4).
   */
  subflowStaleAfterTimeouts: number;
  /**
   * A subflow with data in flight that hears nothing from the peer for this long (at least;
   * 4 x its minimum RTT when that is longer), while another subflow is alive, is taken to be
   * on a dead path before any retransmission timeout: the scheduler avoids it and its data is
   * reinjected; its next incoming segment brings it back. 0 turns this off.
   */
  silentPathMs: number;
  /**
   * A silent or stale subflow (its data resent on other paths) retransmits at least this often
   * (ms), whatever its RTO backoff says, so a path that recovers is back within about this
   * long instead of after the next backed-off timeout (seconds after a long outage). Its
   * timeouts still count towards subflowDeadAfterTimeouts. Infinity: plain RFC 6298 backoff.
   */
  deadPathProbeMs: number;
  /**
   * Halve the window of a slower subflow whose data blocks the connection-level window (NSDI
   * 2012). Off by default: "slower" is judged by RTT, and in the lab a download whose fast-RTT
   * path was rate-capped kept halving the deep-queued uncapped path until it starved.
   */
  penalizeBlockingSubflows: boolean;
  /**
   * Queueing delay (ms) a subflow may add at its path's bottleneck beyond one minimum RTT: each
   * subflow keeps at most its measured rate x (2 x minimum RTT + this) in flight
   * (tcp/inflight-cap.ts), so a deep modem buffer does not fill with our data (head-of-line
   * blocking of the other paths, slow failover behind a standing queue). Infinity: the
   * congestion window alone, as Linux.
   */
  queueDelayBudgetMs: number;
  /**
   * A subflow whose retransmitted share of its transmissions stays above this ratio is demoted
   * half a tier (connection/loss-demotion.ts): its tier's other paths carry the data while it
   * only probes with copies, until its loss stays below `promoteLossRatio` for a second. 0
   * turns loss demotion off.
   */
  demoteLossRatio: number;
  promoteLossRatio: number;
}

export const DEFAULT_MPTCP_CONFIG: MptcpConfig = {
  scheduler: 'ecf',
  congestion: 'olia',
  checksums: false,
  fallbackAfterSynRetries: true,
  maxSubflows: 8,
  maxAddAddrAccepted: 8,
  sendBufferBytes: 4 * 1024 * 1024,
  maxSendBufferBytes: 16 * 1024 * 1024,
  receiveBufferBytes: 1024 * 1024,
  maxReceiveBufferBytes: 32 * 1024 * 1024,
  noSubflowTimeoutMs: 60_000,
  rejoinDelayMs: 500,
  maxRejoinDelayMs: 30_000,
  connectStaggerMs: 300,
  subflowDeadAfterTimeouts: 6,
  subflowDeadAfterMs: 12_000,
  subflowStaleAfterTimeouts: 2,
  silentPathMs: 150,
  deadPathProbeMs: 1000,
  penalizeBlockingSubflows: false,
  queueDelayBudgetMs: 40,
  demoteLossRatio: 0.05,
  promoteLossRatio: 0.02,
};

export type MptcpResetReason = 'refused' | 'timeout' | 'peer-reset' | 'fastclose' | 'aborted' | 'no-subflows' | 'protocol-error';

export type MptcpEvent =
  | { type: 'connected' }
  | { type: 'readable' }
  | { type: 'writable' }
  /** The peer's DATA_FIN (or, after fallback, its FIN): no more data will come. */
  | { type: 'end' }
  /** Both directions are done. */
  | { type: 'closed' }
  | { type: 'reset'; reason: MptcpResetReason }
  | { type: 'subflow-up'; subflowId: number }
  | { type: 'subflow-down'; subflowId: number; reason: string }
  | { type: 'fallback'; reason: string }
  | { type: 'address-added'; addressId: number; address: Uint8Array; port: number }
  | { type: 'address-removed'; addressId: number };

/** Protocol counters, in the spirit of Linux's MPTcpExt (nstat). */
export interface MptcpCounters {
  connectionsOpened: number;
  connectionsAccepted: number;
  joinsSent: number;
  joinsAccepted: number;
  joinsRefused: number;
  joinSynAckHmacFailures: number;
  joinAckHmacFailures: number;
  checksumMismatches: number;
  dataChecksumErrors: number;
  badMappings: number;
  dssMismatches: number;
  dataOutsideMapping: number;
  badOptions: number;
  badFastclose: number;
  fallbacks: number;
  infiniteMappings: number;
  reinjectedBytes: number;
  /** Copies sent by the redundant scheduler (data already sent on another subflow). */
  redundantBytes: number;
  addAddrReceived: number;
  addAddrBadHmac: number;
  addAddrSent: number;
  removeAddrReceived: number;
  mpPrioReceived: number;
  fastclosesReceived: number;
  mpFailReceived: number;
  mpTcpRstReceived: number;
  deadSubflows: number;
  /** Subflows taken for dead by their silence (silentPathMs) before a retransmission timeout. */
  silentSubflows: number;
  /** Subflows demoted for their loss (demoteLossRatio), and promoted back. */
  lossDemotions: number;
  lossPromotions: number;
  /** Bytes demoted subflows sent as probes (copies of data in flight elsewhere). */
  lossProbeBytes: number;
  /** Windows of blocking subflows halved (penalizeBlockingSubflows). */
  penalizations: number;
  duplicateDataBytes: number;
}

export function newMptcpCounters(): MptcpCounters {
  return {
    connectionsOpened: 0,
    connectionsAccepted: 0,
    joinsSent: 0,
    joinsAccepted: 0,
    joinsRefused: 0,
    joinSynAckHmacFailures: 0,
    joinAckHmacFailures: 0,
    checksumMismatches: 0,
    dataChecksumErrors: 0,
    badMappings: 0,
    dssMismatches: 0,
    dataOutsideMapping: 0,
    badOptions: 0,
    badFastclose: 0,
    fallbacks: 0,
    infiniteMappings: 0,
    reinjectedBytes: 0,
    redundantBytes: 0,
    addAddrReceived: 0,
    addAddrBadHmac: 0,
    addAddrSent: 0,
    removeAddrReceived: 0,
    mpPrioReceived: 0,
    fastclosesReceived: 0,
    mpFailReceived: 0,
    mpTcpRstReceived: 0,
    deadSubflows: 0,
    silentSubflows: 0,
    lossDemotions: 0,
    lossPromotions: 0,
    lossProbeBytes: 0,
    penalizations: 0,
    duplicateDataBytes: 0,
  };
}

/** One subflow as the socket API reports it. */
export interface SubflowStats {
  id: number;
  local: string;
  remote: string;
  localAddressId: number;
  remoteAddressId: number;
  phase: string;
  backup: boolean;
  localBackup: boolean;
  dataBytesSent: number;
  dataBytesReceived: number;
  /** Bytes the scheduler gave this subflow (new data, reinjections, redundant copies). */
  scheduledBytes: number;
  /** Retransmission timeouts went unanswered: the scheduler avoids it, its data moved on. */
  stale: boolean;
  /** Its tier under the connection's policy (a peer's backup wish counts as at least 1). */
  tier: number;
  /** Demoted half a tier for its loss (demoteLossRatio): it only probes. */
  lossDemoted: boolean;
  /** Its loss estimate: retransmitted share of its transmissions (0..1). */
  lossRatio: number;
  closeReason: string;
  tcp: TcpStats;
}
