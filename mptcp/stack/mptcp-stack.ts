/**
 * A host's userspace MPTCP (RFC 8684): many MptcpConnections, each over subflows that are
 * connections of the TCP host underneath (mptcp/tcp/host.ts), behind one PacketEndpoint.
 * Owns the token table (§3.2: tokens name connections in MP_JOIN; collisions are avoided at
 * key generation), listeners that accept MP_CAPABLE, MP_JOIN and plain TCP (fallback) SYNs,
 * the client path managers, and one timer deadline for all of it. Sans-IO: the simulator or
 * a driver calls it.
 */
import { bytesEqual } from '../wire/bytes.js';
import type { PacketEndpoint, Random } from '../core/sans-io.js';
import { MptcpConnection } from '../connection/connection.js';
import { generateKey, generateNonce } from '../connection/keys.js';
import { DEFAULT_MPTCP_CONFIG, newMptcpCounters, type MptcpConfig, type MptcpCounters } from '../connection/mptcp-types.js';
import { Subflow, type SubflowRole } from '../connection/subflow.js';
import { ClientPathManager, type LocalPath, type SubflowOpener } from '../pm/path-manager.js';
import { createScheduler, type Scheduler } from '../sched/scheduler.js';
import { isCongestionName } from '../cc/index.js';
import type { HostConnection, SynDecision } from '../tcp/host.js';
import { TcpHost } from '../tcp/host.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../tcp/tcp-types.js';
import { BACKUP_FLAG, MPC_FLAG_CHECKSUM, MPC_FLAG_HMAC_SHA256, type MptcpOption } from '../wire/mptcp-option-types.js';
import { parseMptcpOption } from '../wire/mptcp-options.js';
import type { SegmentView } from '../wire/segment-view.js';

export interface MptcpStackOptions {
  addresses: Uint8Array[];
  random: Random;
  tcp?: Partial<TcpConfig>;
  mptcp?: Partial<MptcpConfig>;
  portRange?: [number, number];
  scheduler?: () => Scheduler;
}

export interface MptcpConnectOptions {
  /** Our paths' local addresses, in order of preference (the first is tried first). */
  locals: LocalPath[];
  /** The peer's addresses (IPv4 and/or IPv6); paths pair each local with each remote of its family. */
  remotes: Uint8Array[];
  port: number;
}

interface SubflowEntry {
  conn: MptcpConnection;
  subflow: Subflow;
}

export class MptcpStack implements PacketEndpoint, SubflowOpener {
  readonly host: TcpHost;
  readonly config: MptcpConfig;
  readonly counters: MptcpCounters = newMptcpCounters();
  private readonly random: Random;
  private readonly makeScheduler: () => Scheduler;
  private readonly tokens = new Map<number, MptcpConnection>();
  private readonly bySubflow = new Map<HostConnection, SubflowEntry>();
  private readonly conns = new Set<MptcpConnection>();
  private readonly managers = new Map<MptcpConnection, ClientPathManager>();
  private readonly touched = new Set<MptcpConnection>();
  /** Connections with subflows that failed outside their own input, to reap. */
  private readonly reap = new Set<MptcpConnection>();
  private nextSubflowId = 1;

  constructor(opts: MptcpStackOptions) {
    this.random = opts.random;
    this.config = { ...DEFAULT_MPTCP_CONFIG, ...opts.mptcp };
    // Subflows keep NAT bindings alive and notice dead paths while idle (§3.4: the client
    // opens all subflows; a silent path must not be lost unnoticed): keepalive after 25 s idle,
    // 3 probes 10 s apart.
    const tcp: Partial<TcpConfig> = { keepaliveIdleMs: 25_000, keepaliveIntervalMs: 10_000, keepaliveProbes: 3, ...opts.tcp };
    // A subflow announces the connection-level window (RFC 8684 §3.3.5): the window scale it
    // offers (from its TCP maximum, RFC 7323 §2.3) must cover the largest receive buffer.
    tcp.maxReceiveBufferBytes = Math.max(tcp.maxReceiveBufferBytes ?? DEFAULT_TCP_CONFIG.maxReceiveBufferBytes, this.config.maxReceiveBufferBytes);
    this.host = new TcpHost(opts.addresses, opts.random, tcp, opts.portRange);
    const name = this.config.scheduler;
    createScheduler(name); // an unknown name fails here, not on the first connection
    if (!isCongestionName(this.config.congestion)) throw new RangeError(`unknown congestion control '${String(this.config.congestion)}'`);
    this.makeScheduler = opts.scheduler ?? (() => createScheduler(name));
  }

  get addresses(): readonly Uint8Array[] {
    return this.host.addresses;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Opens an MPTCP connection over every usable path (Happy-Eyeballs start, then joins). */
  connect(now: number, opts: MptcpConnectOptions): MptcpConnection {
    if (opts.locals.length === 0 || opts.remotes.length === 0) throw new TypeError('connect: at least one local and one remote address');
    const conn = this.newConnection(now, 'client');
    const pm = new ClientPathManager(this, conn, opts.locals, opts.remotes, opts.port, this.config);
    if (pm.pathCount === 0) throw new TypeError('connect: no local address of the remote addresses\' family');
    this.managers.set(conn, pm);
    conn.observer = (e) => pm.onEvent(this.lastNow, e);
    this.counters.connectionsOpened++;
    pm.start(now);
    return conn;
  }

  /** Accepts MPTCP connections on `port`; plain TCP clients are served as fallback connections. */
  listen(port: number, onConnection: (c: MptcpConnection) => void, backlog = 128): void {
    this.listeners.set(port, onConnection);
    this.host.listen(port, () => undefined, backlog, (now, syn, packet, local, remote) => this.onSyn(now, syn, packet, local, remote));
  }

  /**
   * A local address appeared (the driver can send from it): client connections open paths
   * from it, and listeners accept on it.
   */
  addLocalAddress(now: number, address: Uint8Array, backup = false): void {
    this.lastNow = now;
    if (!this.host.addresses.some((a) => bytesEqual(a, address))) this.host.addresses.push(address);
    for (const pm of this.managers.values()) pm.addLocal(now, { address, backup });
  }

  /**
   * A local address went away: its subflows close, and the peer hears REMOVE_ADDR for it on
   * the connections that used it (RFC 8684 §3.4.2).
   */
  removeLocalAddress(now: number, address: Uint8Array): void {
    this.lastNow = now;
    const i = this.host.addresses.findIndex((a) => bytesEqual(a, address));
    if (i >= 0) this.host.addresses.splice(i, 1);
    for (const c of this.conns) {
      const ids = new Set(c.subflows.filter((s) => bytesEqual(s.local, address)).map((s) => s.localAddressId));
      this.managers.get(c)?.removeLocal(now, address);
      for (const id of ids) c.removeAddress(id);
      this.touched.add(c);
    }
  }

  /** The path manager of a client connection (to add or remove local addresses at runtime). */
  pathManager(conn: MptcpConnection): ClientPathManager | undefined {
    return this.managers.get(conn);
  }

  private readonly listeners = new Map<number, (c: MptcpConnection) => void>();
  private lastNow = 0;

  // ---- SubflowOpener ---------------------------------------------------------------------------

  openInitial(now: number, conn: MptcpConnection, local: Uint8Array, remote: Uint8Array, port: number): Subflow {
    return this.open(now, conn, 'mpc-initiator', local, remote, port, 0, false);
  }

  openJoin(now: number, conn: MptcpConnection, local: Uint8Array, remote: Uint8Array, port: number, localAddressId: number, backup: boolean): Subflow {
    this.counters.joinsSent++;
    return this.open(now, conn, 'join-initiator', local, remote, port, localAddressId, backup);
  }

  private open(now: number, conn: MptcpConnection, role: SubflowRole, local: Uint8Array, remote: Uint8Array, port: number, localAddressId: number, backup: boolean): Subflow {
    const s = new Subflow(conn, {
      id: this.nextSubflowId++,
      role,
      local,
      remote,
      localAddressId,
      localBackup: backup,
      localNonce: role === 'join-initiator' ? generateNonce(this.random) : undefined,
    });
    this.attach(conn, s, this.host.connect(now, local, remote, port, s));
    return s;
  }

  private newConnection(now: number, role: 'client' | 'server'): MptcpConnection {
    const localKey = generateKey(this.random, (t) => this.tokens.has(t));
    const conn = new MptcpConnection({ role, config: this.config, counters: this.counters, localKey, scheduler: this.makeScheduler(), now });
    this.tokens.set(localKey.token, conn);
    this.conns.add(conn);
    conn.onReapNeeded = () => this.reap.add(conn);
    return conn;
  }

  /** A SYN for one of our listeners: MP_CAPABLE, MP_JOIN or plain TCP (§3.1, §3.2). */
  private onSyn(now: number, syn: SegmentView, packet: Uint8Array, local: Uint8Array, remote: Uint8Array): SynDecision {
    let mpc: MptcpOption | null = null;
    let join: MptcpOption | null = null;
    for (let i = 0; i < syn.controlCount; i++) {
      const off = syn.controlOffsets[i];
      const r = parseMptcpOption(packet, off, packet[off + 1]);
      if (!r.ok) {
        this.counters.badOptions++;
        continue;
      }
      if (r.value.subtype === 'MP_CAPABLE') mpc = r.value;
      else if (r.value.subtype === 'MP_JOIN' && r.value.stage === 'syn') join = r.value;
    }
    if (join && join.subtype === 'MP_JOIN' && join.stage === 'syn') {
      const conn = this.tokens.get(join.receiverToken);
      if (!conn || conn.fallback || conn.isClosed || !conn.remoteKey || conn.subflows.length >= this.config.maxSubflows) {
        this.counters.joinsRefused++;
        return null; // unknown token or over the limit: RST (§3.2)
      }
      const s = new Subflow(conn, {
        id: this.nextSubflowId++,
        role: 'join-responder',
        local,
        remote,
        localAddressId: 0,
        localBackup: false,
        localNonce: generateNonce(this.random),
        remoteNonce: join.senderNonce,
        remoteAddressId: join.addressId,
        peerBackup: (join.flags & BACKUP_FLAG) !== 0,
      });
      this.counters.joinsAccepted++;
      return { hooks: s, attach: (hc) => this.attach(conn, s, hc) };
    }
    const conn = this.newConnection(now, 'server');
    const s = new Subflow(conn, { id: this.nextSubflowId++, role: 'mpc-responder', local, remote, localAddressId: 0, localBackup: false });
    if (mpc && mpc.subtype === 'MP_CAPABLE' && mpc.version >= 1 && mpc.flags & MPC_FLAG_HMAC_SHA256) {
      conn.requireChecksums((mpc.flags & MPC_FLAG_CHECKSUM) !== 0 || this.config.checksums);
    } else {
      // No (usable) MP_CAPABLE: serve the client as plain TCP (§3.1 fallback).
      conn.onFallback(now, s, mpc ? 'unsupported MP_CAPABLE version' : 'client without MP_CAPABLE');
    }
    this.counters.connectionsAccepted++;
    return { hooks: s, attach: (hc) => this.attach(conn, s, hc) };
  }

  private attach(conn: MptcpConnection, s: Subflow, hc: HostConnection): void {
    s.tcp = hc.tcp;
    this.bySubflow.set(hc, { conn, subflow: s });
    conn.addSubflow(s);
    this.touched.add(conn);
  }

  // ---- PacketEndpoint -----------------------------------------------------------------------

  handlePacket(now: number, packet: Uint8Array): void {
    this.lastNow = now;
    this.host.handlePacket(now, packet);
    this.afterHost(now);
  }

  pollTransmit(now: number, out: Uint8Array): number {
    this.lastNow = now;
    if (this.reap.size > 0) this.reapFailed(now);
    return this.host.pollTransmit(now, out);
  }

  private reapFailed(now: number): void {
    for (const c of this.reap) {
      c.reapSubflows(now);
      this.touched.add(c);
    }
    this.reap.clear();
  }

  pollTimeout(): number {
    let t = this.host.pollTimeout();
    for (const c of this.conns) {
      const d = c.pollTimeout();
      if (d < t) t = d;
    }
    for (const pm of this.managers.values()) {
      const d = pm.pollTimeout();
      if (d < t) t = d;
    }
    return t;
  }

  handleTimeout(now: number): void {
    this.lastNow = now;
    this.host.handleTimeout(now);
    this.afterHost(now);
    for (const c of this.conns) {
      if (c.pollTimeout() <= now) {
        c.handleTimeout(now);
        this.touched.add(c);
      }
    }
    for (const pm of this.managers.values()) if (pm.pollTimeout() <= now) pm.handleTimeout(now);
    if (this.reap.size > 0) this.reapFailed(now);
    this.sweep();
  }

  /**
   * The connections that saw input, timers or state changes since the last call (each once):
   * what the socket layer must look at for events.
   */
  takeTouched(): MptcpConnection[] {
    if (this.touched.size === 0) return NONE;
    const out = [...this.touched];
    this.touched.clear();
    return out;
  }

  private afterHost(now: number): void {
    if (this.reap.size > 0) this.reapFailed(now);
    for (const hc of this.host.takeTouched()) {
      const e = this.bySubflow.get(hc);
      if (!e) continue;
      e.conn.afterSubflowInput(now, e.subflow);
      this.touched.add(e.conn);
      if (hc.tcp.isClosed || hc.tcp.state === 'TIME_WAIT') this.bySubflow.delete(hc);
      if (e.conn.role === 'server' && !e.conn.announcedToApplication && (e.conn.state === 'established' || (e.conn.state === 'closed' && e.conn.readableBytes > 0))) {
        e.conn.markAnnounced();
        this.listeners.get(hc.tcp.localPort)?.(e.conn);
      }
    }
    this.sweep();
  }

  /** Forgets connections that are closed and have no subflows left. */
  private sweep(): void {
    for (const c of this.conns) {
      if (!c.isClosed || c.subflows.some((s) => !s.tcp.isClosed)) continue;
      if (c.role === 'server' && c.announcedToApplication && c.readableBytes > 0) continue;
      this.conns.delete(c);
      this.managers.delete(c);
      if (this.tokens.get(c.localKey.token) === c) this.tokens.delete(c.localKey.token);
    }
  }
}

const NONE: MptcpConnection[] = [];
