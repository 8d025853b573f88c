/**
 * Configuration, states, events and statistics of the TCP engine (connection.ts).
 */
import type { CongestionAlgorithm } from './congestion.js';

export type TcpState =
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT'
  | 'CLOSED';

export interface TcpConfig {
  /** MSS we advertise (MTU minus IP and TCP headers: 1460 on a 1500-byte IPv4 link). */
  mss: number;
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Delayed ACK timeout (RFC 9293 §3.8.6.3: < 0.5 s; Linux uses 40 ms). */
  delayedAckMs: number;
  /** SYN (and SYN/ACK) transmissions before giving up (Linux tcp_syn_retries = 6). */
  synRetries: number;
  /** Data retransmissions of one segment before giving up (Linux tcp_retries2 = 15). */
  dataRetries: number;
  /** 2 MSL (RFC 9293 §3.4.2); Linux uses 60 s. */
  timeWaitMs: number;
  sendBufferBytes: number;
  initialReceiveBufferBytes: number;
  /** Upper bound for receive-window autotuning; also fixes the window scale we offer. */
  maxReceiveBufferBytes: number;
  congestion: CongestionAlgorithm;
  /** 0 = off. Idle time before the first keepalive probe, interval, and probes before abort. */
  keepaliveIdleMs: number;
  keepaliveIntervalMs: number;
  keepaliveProbes: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  mss: 1460,
  sack: true,
  timestamps: true,
  windowScaling: true,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 120_000,
  delayedAckMs: 40,
  synRetries: 6,
  dataRetries: 15,
  timeWaitMs: 60_000,
  sendBufferBytes: 4 * 1024 * 1024,
  initialReceiveBufferBytes: 256 * 1024,
  maxReceiveBufferBytes: 8 * 1024 * 1024,
  congestion: 'cubic',
  keepaliveIdleMs: 0,
  keepaliveIntervalMs: 75_000,
  keepaliveProbes: 9,
};

export type TcpEvent =
  | { type: 'connected' }
  /** In-order data is ready for read(). */
  | { type: 'readable' }
  /** The send buffer has room again after write() accepted less than offered. */
  | { type: 'writable' }
  /** The peer's FIN arrived: no more data will come (after what read() still returns). */
  | { type: 'end' }
  /** Both directions are done; the connection can be forgotten. */
  | { type: 'closed' }
  | { type: 'reset'; reason: 'peer-reset' | 'timeout' | 'refused' | 'aborted' };

export interface TcpStats {
  state: TcpState;
  srttMs: number;
  rttVarMs: number;
  rtoMs: number;
  cwnd: number;
  ssthresh: number;
  sendWindow: number;
  receiveWindow: number;
  bytesSent: number;
  bytesReceived: number;
  bytesAcked: number;
  segmentsSent: number;
  segmentsReceived: number;
  retransmittedSegments: number;
  retransmittedBytes: number;
  fastRetransmits: number;
  timeouts: number;
  challengeAcks: number;
  duplicateSegments: number;
  outOfOrderSegments: number;
  invalidSegments: number;
}
