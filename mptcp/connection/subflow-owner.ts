/**
 * What a subflow needs from its MPTCP connection (implemented by MptcpConnection): the keys
 * and negotiated features, the connection-level sequence state its DSS options carry, and the
 * callbacks through which the subflow reports what it received.
 */
import type { TcpConnection } from '../tcp/connection.js';
import type { CongestionGroup } from '../cc/coupling.js';
import type { AddAddrOption, MptcpOption } from '../wire/mptcp-option-types.js';
import type { MptcpKey } from './keys.js';
import type { MptcpConfig, MptcpCounters } from './mptcp-types.js';
import type { Subflow } from './subflow.js';

/** A chunk the connection hands a subflow to send: its first DSN and length. */
export interface ScheduledChunk {
  dsn: number;
  length: number;
  /** Data sent before on another subflow (not counted as new). */
  reinjection: boolean;
  /** The connection's DATA_FIN follows the chunk's last byte (the mapping counts it). */
  dataFin: boolean;
}

export interface SubflowOwner {
  readonly config: MptcpConfig;
  /** Gives each subflow its congestion controller, coupled across the connection or not. */
  readonly coupling: CongestionGroup;
  readonly counters: MptcpCounters;
  readonly localKey: MptcpKey;
  readonly remoteKey: MptcpKey | null;
  /** DSS checksums negotiated (§3.3). */
  readonly checksums: boolean;
  /** Fallen back to TCP: one subflow, no options, data sequence = subflow sequence - offset. */
  readonly fallback: boolean;
  readonly fallbackOffset: number;
  readonly fastClosePending: boolean;
  /** No MP_CAPABLE handshake has completed yet. */
  readonly connecting: boolean;
  /** No more data may be sent (the connection was reset). */
  readonly closedForSending: boolean;
  /** Relative DSNs: our first unacknowledged, the peer's next expected (our Data ACK). */
  readonly sendUnacked: number;
  readonly receiveNext: number;
  /** Our DATA_FIN should ride on the next pure ACK; at relative DSN dataFinSeq. */
  readonly dataFinDue: boolean;
  readonly dataFinSeq: number;
  /** `now` of the latest input or timer the connection saw. */
  readonly lastInputTime: number;

  onPeerKey(now: number, key: bigint, mpcFlags: number): void;
  /** The subflow reset itself (protocol error, dead path...): forget it soon (reapSubflows). */
  subflowFailed(s: Subflow): void;
  onFallback(now: number, s: Subflow, why: string): void;
  /** Whether falling back to TCP on `s` loses nothing: it is the only subflow that carried data. */
  canFallBack(s: Subflow): boolean;
  onSubflowActive(now: number, s: Subflow): void;
  onDataAck(now: number, ack: number, window: number): void;
  onDataFin(now: number, dsn: number): void;
  onData(now: number, dsn: number, data: Uint8Array, s: Subflow): void;
  onInfiniteMapping(now: number, s: Subflow, offset: number): void;
  onAddAddr(now: number, s: Subflow, opt: AddAddrOption): void;
  onRemoveAddr(now: number, ids: number[]): void;
  onFastClose(now: number): void;
  onMpFail(now: number, s: Subflow): void;
  onChecksumFailure(now: number, s: Subflow): void;
  pull(now: number, s: Subflow, room: number): ScheduledChunk | null;
  /** Appends send-buffer bytes [dsn, dsn + length) to a subflow engine's queue (one copy). */
  copySendData(dsn: number, length: number, to: TcpConnection): void;
  /** Send-buffer bytes [dsn, dsn + length) as one contiguous view (valid until the next call). */
  sendData(dsn: number, length: number): Uint8Array;
  onDataFinSent(s: Subflow): void;
  pendingSignal(s: Subflow): MptcpOption | null;
  onSignalSent(s: Subflow, opt: MptcpOption): void;
  receiveSpace(): number;
}
