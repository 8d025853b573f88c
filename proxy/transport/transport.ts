/**
 * The one interface the proxy uses to reach the aggregator: "open a multipath stream to the
 * aggregator" and "accept streams". Implementations: kernel.ts (Linux kernel MPTCP through an
 * IPPROTO_MPTCP socket handed to Node), tcp.ts (plain TCP, diagnostic) and userspace.ts
 * (our MPTCP stack on raw sockets, the default; select.ts chooses).
 *
 * A stream is a Node Duplex carrying bytes in order; TLS and the proxy framing run on top. It
 * must support half-close (end() sends our FIN while reading goes on) and destroy().
 */
import type { Duplex } from 'node:stream';
import type { ConnectionPolicy } from '../../mptcp/sched/path-use.js';
import type { PathView } from './path-stats.js';

export type TransportKind = 'kernel' | 'tcp' | 'userspace';
export const TRANSPORT_KINDS: readonly TransportKind[] = ['kernel', 'tcp', 'userspace'];

export interface Endpoint {
  /** An IPv4 or IPv6 literal, or a host name (resolved by the transport when connecting). */
  host: string;
  port: number;
}

export interface TransportStats {
  kind: TransportKind;
  /** Streams opened by connect() that reached the established state. */
  opened: number;
  /** connect() calls that failed. */
  openFailed: number;
  /** Streams accepted by listeners. */
  accepted: number;
  /** Streams currently open (both directions of use). */
  active: number;
}

export interface StreamListener {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: Endpoint;
  close(): Promise<void>;
}

/** Extra facts about a stream, for logs and tests. */
export interface StreamInfo {
  remote: Endpoint | undefined;
  local: Endpoint | undefined;
}

/** What an MPTCP stack of ours says about its paths, for metrics and the status page. */
export interface StackSnapshot {
  /** MPTCP connections now open (pooled streams included). */
  connections: number;
  /** Per local address (path): monotonic totals and live gauges. */
  paths: PathView[];
  /** The stack's protocol counters (MptcpCounters), summed over its stacks. */
  counters: Record<string, number>;
}

/**
 * Per-connection multipath control over one of a transport's streams (our userspace MPTCP
 * only: the kernel's MPTCP offers no per-connection scheduler or path policy to programs).
 */
export interface MultipathControl {
  /** Our local addresses with their MPTCP address ids on this connection. */
  addressIds(): { address: string; id: number }[];
  setPolicy(policy: ConnectionPolicy): void;
}

export interface StreamTransport {
  readonly kind: TransportKind;
  /**
   * Opens a stream to `to`. Resolves once established; rejects with an Error carrying a
   * `code` (ECONNREFUSED, ETIMEDOUT, ...) otherwise, after at most `timeoutMs`.
   */
  connect(to: Endpoint, timeoutMs: number): Promise<Duplex>;
  /** Listens on `on`; every accepted stream goes to `onStream`. */
  listen(on: Endpoint, onStream: (stream: Duplex, info: StreamInfo) => void): Promise<StreamListener>;
  stats(): TransportStats;
  /** Per-path view of our own MPTCP stack (userspace transport only; others have none). */
  stackSnapshot?(): StackSnapshot;
  /** The multipath control of a stream it opened or accepted (undefined: none). */
  multipath?(stream: Duplex): MultipathControl | undefined;
  /** Closes every listener it made (open streams belong to their users). */
  close(): Promise<void>;
}

/** Thrown (as a rejection) when a transport cannot be used here at all. */
export class TransportUnavailableError extends Error {
  readonly code = 'TRANSPORT_UNAVAILABLE';
  /** What the user can do about it (run as root, another transport, ...), when known. */
  readonly fix: string | undefined;
  constructor(kind: TransportKind, reason: string, fix?: string) {
    super(`transport '${kind}' unavailable: ${reason}`);
    this.fix = fix;
    this.name = 'TransportUnavailableError';
  }
}
