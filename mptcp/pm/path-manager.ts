/**
 * The client's path manager for one connection (in the spirit of Linux's in-kernel "fullmesh"
 * PM, RFC 8684 §3.4): a path is a local address (optionally an interface) times a remote
 * address of the same family. It starts the connection Happy-Eyeballs style (the MP_CAPABLE
 * attempt on the next path after a short delay, instead of waiting for a dead path to time
 * out), then opens an MP_JOIN subflow on every other path, re-opens a path whose subflow
 * failed (with backoff), and follows the peer's ADD_ADDR / REMOVE_ADDR and local address
 * changes. Sans-IO: the stack calls it with `now`; it opens subflows through SubflowOpener.
 */
import { bytesEqual } from '../wire/bytes.js';
import { formatIp } from '../wire/ip-address.js';
import type { MptcpConnection } from '../connection/connection.js';
import type { MptcpConfig, MptcpEvent } from '../connection/mptcp-types.js';
import type { Subflow } from '../connection/subflow.js';

/** How long joins wait for the server's first DSS at most: this many handshake RTTs, and at least JOIN_HOLD_MIN_MS. */
const JOIN_HOLD_RTTS = 3;
const JOIN_HOLD_MIN_MS = 20;

export interface LocalPath {
  address: Uint8Array;
  /** Ask the peer to use this path only when no regular one works (MP_JOIN B flag). */
  backup?: boolean;
}

/** What the path manager needs from the stack. */
export interface SubflowOpener {
  openInitial(now: number, conn: MptcpConnection, local: Uint8Array, remote: Uint8Array, port: number): Subflow;
  openJoin(now: number, conn: MptcpConnection, local: Uint8Array, remote: Uint8Array, port: number, localAddressId: number, backup: boolean): Subflow;
}

interface PathState {
  local: LocalPath;
  remote: Uint8Array;
  port: number;
  /** Peer's address id for `remote` (0 = the address the connection started on). */
  remoteAddressId: number;
  subflow: Subflow | null;
  retryAt: number;
  delay: number;
  /** This path carried an MP_CAPABLE attempt (before the connection was up). */
  attempted: boolean;
}

export class ClientPathManager {
  private readonly paths: PathState[] = [];
  private locals: LocalPath[];
  private initialLocal: Uint8Array | null = null;
  private nextAttemptAt = Infinity;
  private established = false;
  /**
   * Joins wait until the server has shown it has our key (its first DSS), or until this time:
   * a join SYN that overtakes the third ACK is refused (the server cannot check its HMAC) and
   * would cost a rejoin delay. The limit covers a server that never sends.
   */
  private joinHoldUntil = 0;

  constructor(
    private readonly opener: SubflowOpener,
    readonly conn: MptcpConnection,
    locals: LocalPath[],
    remotes: Uint8Array[],
    private readonly port: number,
    private readonly config: MptcpConfig,
  ) {
    this.locals = locals.slice();
    for (const r of remotes) this.addRemote(r, port, 0);
    conn.connectAttemptsPending = () => this.paths.some((p) => !p.attempted) && !this.established;
  }

  /** Starts the MP_CAPABLE attempt on the first path. */
  start(now: number): void {
    this.attemptNext(now);
  }

  /** Our local address id for `address`: 0 for the initial subflow's, else a stable small id. */
  localAddressId(address: Uint8Array): number {
    if (this.initialLocal && bytesEqual(address, this.initialLocal)) return 0;
    const i = this.locals.findIndex((l) => bytesEqual(l.address, address));
    return i < 0 ? 0 : i + 1;
  }

  /** Every local address of this connection with the address id it has or will have here. */
  addressIds(): { address: Uint8Array; id: number }[] {
    return this.locals.map((l) => ({ address: l.address, id: this.localAddressId(l.address) }));
  }

  get pathCount(): number {
    return this.paths.length;
  }

  /** Path summaries for the socket API. */
  describe(): { local: string; remote: string; subflowId: number | null; retryAt: number }[] {
    return this.paths.map((p) => ({ local: formatIp(p.local.address), remote: formatIp(p.remote), subflowId: p.subflow ? p.subflow.id : null, retryAt: p.retryAt }));
  }

  onEvent(now: number, e: MptcpEvent): void {
    switch (e.type) {
      case 'connected': {
        this.established = true;
        this.nextAttemptAt = Infinity;
        const winner = this.conn.subflows.find((s) => s.role === 'mpc-initiator' && s.phase === 'active');
        if (winner) this.initialLocal = winner.local;
        this.joinHoldUntil = now + Math.max(JOIN_HOLD_MIN_MS, JOIN_HOLD_RTTS * (winner?.srtt ?? 0));
        for (const p of this.paths) {
          if (p.subflow && p.subflow !== winner && p.subflow.role === 'mpc-initiator') {
            p.subflow.fail(now, 'another path connected first', 0);
            p.subflow = null;
          }
          p.retryAt = now;
        }
        break;
      }
      case 'subflow-down':
        for (const p of this.paths) {
          if (p.subflow && p.subflow.id === e.subflowId) {
            p.subflow = null;
            p.retryAt = now + p.delay;
            p.delay = Math.min(p.delay * 2, this.config.maxRejoinDelayMs);
          }
        }
        if (!this.established && this.paths.every((p) => p.subflow === null) && this.nextAttemptAt !== Infinity) this.nextAttemptAt = now;
        break;
      case 'subflow-up':
        for (const p of this.paths) if (p.subflow && p.subflow.id === e.subflowId) p.delay = this.config.rejoinDelayMs;
        break;
      case 'address-added':
        this.addRemote(e.address, e.port || this.port, e.addressId, now);
        break;
      case 'address-removed':
        for (let i = this.paths.length - 1; i >= 0; i--) if (this.paths[i].remoteAddressId === e.addressId && e.addressId !== 0) this.paths.splice(i, 1);
        break;
      default:
        break;
    }
  }

  /** A local address appeared (an interface came up): paths from it are opened. */
  addLocal(now: number, local: LocalPath): void {
    if (this.locals.some((l) => bytesEqual(l.address, local.address))) return;
    this.locals.push(local);
    const remotes = new Map<string, PathState>();
    for (const p of this.paths) remotes.set(`${formatIp(p.remote)}|${p.port}`, p);
    for (const p of remotes.values()) this.addPath(local, p.remote, p.port, p.remoteAddressId, now);
  }

  /** A local address disappeared: its subflows close and its paths are forgotten. */
  removeLocal(now: number, address: Uint8Array): void {
    this.locals = this.locals.filter((l) => !bytesEqual(l.address, address));
    for (let i = this.paths.length - 1; i >= 0; i--) {
      const p = this.paths[i];
      if (!bytesEqual(p.local.address, address)) continue;
      p.subflow?.fail(now, 'local address removed', 0);
      this.paths.splice(i, 1);
    }
  }

  pollTimeout(): number {
    if (this.conn.isClosed) return Infinity;
    if (!this.established) return this.nextAttemptAt;
    let t = Infinity;
    if (this.conn.fallback) return t;
    for (const p of this.paths) if (!p.subflow && p.retryAt < t) t = p.retryAt;
    return this.conn.keysConfirmed ? t : Math.max(t, this.joinHoldUntil);
  }

  handleTimeout(now: number): void {
    if (this.conn.isClosed) return;
    if (!this.established) {
      if (now >= this.nextAttemptAt) this.attemptNext(now);
      return;
    }
    if (this.conn.fallback) return;
    if (now < this.joinHoldUntil && !this.conn.keysConfirmed) return;
    for (const p of this.paths) {
      if (p.subflow || now < p.retryAt) continue;
      if (this.conn.subflows.length >= this.config.maxSubflows) {
        p.retryAt = now + p.delay;
        continue;
      }
      // RFC 8684 §3.1 C flag: the peer asked for no subflows to its initial address.
      if (p.remoteAddressId === 0 && this.conn.noJoinToInitial) {
        p.retryAt = Infinity;
        continue;
      }
      if (this.hasSubflowOn(p)) {
        p.retryAt = Infinity;
        continue;
      }
      p.subflow = this.opener.openJoin(now, this.conn, p.local.address, p.remote, p.port, this.localAddressId(p.local.address), p.local.backup ?? false);
      p.retryAt = Infinity;
    }
  }

  private hasSubflowOn(p: PathState): boolean {
    return this.conn.subflows.some((s) => s.phase !== 'closed' && bytesEqual(s.local, p.local.address) && bytesEqual(s.remote, p.remote));
  }

  private attemptNext(now: number): void {
    const p = this.paths.find((x) => !x.attempted);
    if (!p) {
      this.nextAttemptAt = Infinity;
      return;
    }
    p.attempted = true;
    p.subflow = this.opener.openInitial(now, this.conn, p.local.address, p.remote, p.port);
    this.nextAttemptAt = this.paths.some((x) => !x.attempted) ? now + this.config.connectStaggerMs : Infinity;
  }

  private addRemote(remote: Uint8Array, port: number, remoteAddressId: number, now = 0): void {
    for (const l of this.locals) this.addPath(l, remote, port, remoteAddressId, now);
  }

  private addPath(local: LocalPath, remote: Uint8Array, port: number, remoteAddressId: number, now: number): void {
    if (local.address.length !== remote.length) return;
    if (this.paths.some((p) => bytesEqual(p.local.address, local.address) && bytesEqual(p.remote, remote) && p.port === port)) return;
    this.paths.push({ local, remote, port, remoteAddressId, subflow: null, retryAt: now, delay: this.config.rejoinDelayMs, attempted: false });
  }
}
