/**
 * The MPTCP socket API, in the spirit of the multi-address socket draft (AF_MULTIPATH): a
 * StreamSocket over one MptcpConnection with the connection's live sets of local and remote
 * addresses, per-subflow statistics, subflow and address events ('subflow-up',
 * 'subflow-down', 'fallback', 'address-added', 'address-removed'), adding and removing local
 * addresses at runtime and changing a path's backup priority (MP_PRIO). MptcpServer listens;
 * connectMptcp opens a connection over sets of local and remote addresses.
 */
import { EventEmitter } from 'node:events';
import type { MptcpConnection } from '../connection/connection.js';
import type { MptcpCounters, SubflowStats } from '../connection/mptcp-types.js';
import type { ConnectionPolicy } from '../sched/path-use.js';
import type { MptcpStack } from '../stack/mptcp-stack.js';
import { formatIp, parseIp } from '../wire/ip-address.js';
import type { StackRuntime } from './runtime.js';
import { StreamSocket } from './stream-socket.js';

export class MptcpSocket extends StreamSocket {
  constructor(
    private readonly mptcpRuntime: StackRuntime<MptcpStack>,
    readonly connection: MptcpConnection,
    connected: boolean,
  ) {
    super(mptcpRuntime, connection, connection, connected);
  }

  /** Local addresses of the subflows now open (address-id order: the initial one first). */
  localAddresses(): string[] {
    return unique(this.connection.subflows.filter((s) => s.phase !== 'closed').sort((a, b) => a.localAddressId - b.localAddressId).map((s) => formatIp(s.local)));
  }

  /** The peer's addresses in use or announced to us (ADD_ADDR). */
  remoteAddresses(): string[] {
    const out = this.connection.subflows.filter((s) => s.phase !== 'closed').map((s) => formatIp(s.remote));
    for (const a of this.connection.remoteAddresses.values()) out.push(formatIp(a.address));
    return unique(out);
  }

  get remoteAddress(): string | undefined {
    return this.remoteAddresses()[0];
  }

  /** Per-subflow statistics; `all` includes subflows that already ended. */
  subflows(all = false): SubflowStats[] {
    return this.connection.subflowStats(all);
  }

  /** The stack's protocol counters (shared by its connections). */
  get counters(): MptcpCounters {
    return this.mptcpRuntime.stack.counters;
  }

  /** Whether the connection fell back to plain TCP (no MPTCP on the path or at the peer). */
  get fallback(): boolean {
    return this.connection.fallback;
  }

  /** Adds a local address as a new path (client side); the driver must be able to send from it. */
  addLocalAddress(address: string, opts: { backup?: boolean } = {}): void {
    const a = parseIp(address);
    if (!a) throw new TypeError(`addLocalAddress: ${address} is not an IP address`);
    const pm = this.mptcpRuntime.stack.pathManager(this.connection);
    if (!pm) throw new Error('addLocalAddress: only the connecting side manages paths');
    pm.addLocal(this.mptcpRuntime.now(), { address: a, backup: opts.backup });
    this.mptcpRuntime.wake();
  }

  /** Removes a local address: its subflows close, the peer is told (REMOVE_ADDR). */
  removeLocalAddress(address: string): void {
    const a = parseIp(address);
    if (!a) throw new TypeError(`removeLocalAddress: ${address} is not an IP address`);
    const now = this.mptcpRuntime.now();
    const pm = this.mptcpRuntime.stack.pathManager(this.connection);
    const ids = new Set(this.connection.subflows.filter((s) => formatIp(s.local) === formatIp(a)).map((s) => s.localAddressId));
    pm?.removeLocal(now, a);
    for (const id of ids) this.connection.removeAddress(id);
    this.mptcpRuntime.wake();
  }

  /** Asks the peer to use the subflows from `address` only as backup (MP_PRIO), or not. */
  setBackup(address: string, backup: boolean): void {
    const a = parseIp(address);
    if (!a) throw new TypeError(`setBackup: ${address} is not an IP address`);
    for (const s of this.connection.subflows) if (formatIp(s.local) === formatIp(a)) s.setLocalBackup(backup);
    this.mptcpRuntime.wake();
  }

  /**
   * How this connection uses its paths: scheduler, tiers, weights, rate caps and data budgets
   * (mptcp/sched/path-use.ts); applies to its subflows now and to those that join later.
   */
  setPolicy(policy: ConnectionPolicy): void {
    this.connection.setPolicy(policy);
    this.mptcpRuntime.wake();
  }

  /**
   * Our local addresses with the MPTCP address id each has on this connection (0: the initial
   * subflow's, RFC 8684 §3.2); for connections we opened (the path manager assigns them).
   */
  addressIds(): { address: string; id: number }[] {
    const pm = this.mptcpRuntime.stack.pathManager(this.connection);
    if (pm) return pm.addressIds().map((a) => ({ address: formatIp(a.address), id: a.id }));
    const ids = new Map<string, number>();
    for (const s of this.connection.subflows) ids.set(formatIp(s.local), s.localAddressId);
    return [...ids].map(([address, id]) => ({ address, id }));
  }

  protected describePeer(): string {
    return this.remoteAddresses().join(',') || 'peer';
  }

  protected override onEngineEvent(e: { type: string; reason?: string }): void {
    this.emit(e.type, e);
  }
}

export class MptcpServer extends EventEmitter {
  constructor(private readonly runtime: StackRuntime<MptcpStack>) {
    super();
  }

  listen(port: number): this {
    this.runtime.stack.listen(port, (c) => {
      const s = new MptcpSocket(this.runtime, c, true);
      this.emit('connection', s);
    });
    queueMicrotask(() => this.emit('listening'));
    return this;
  }
}

export interface MptcpConnectOptions {
  /** The peer's addresses (IP literals), e.g. its IPv4 and IPv6 address. */
  hosts: string[];
  port: number;
  /** Our local addresses, one per path, in order of preference; `backup` asks the peer to spare it. */
  localAddresses: (string | { address: string; backup?: boolean })[];
}

export function connectMptcp(runtime: StackRuntime<MptcpStack>, opts: MptcpConnectOptions): MptcpSocket {
  const remotes = opts.hosts.map((h) => parseIp(h));
  if (remotes.some((r) => !r)) throw new TypeError(`connect: ${opts.hosts.join(', ')} must be IP addresses`);
  const locals = opts.localAddresses.map((l) => (typeof l === 'string' ? { address: l } : l)).map((l) => ({ address: parseIp(l.address), backup: l.backup }));
  if (locals.some((l) => !l.address)) throw new TypeError('connect: local addresses must be IP addresses');
  const conn = runtime.stack.connect(runtime.now(), {
    locals: locals.map((l) => ({ address: l.address as Uint8Array, backup: l.backup })),
    remotes: remotes as Uint8Array[],
    port: opts.port,
  });
  const s = new MptcpSocket(runtime, conn, false);
  runtime.wake();
  return s;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
