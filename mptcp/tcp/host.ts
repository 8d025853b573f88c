/**
 * A host's userspace TCP: many TcpConnections behind one PacketEndpoint (mptcp/core/sans-io.ts).
 * Owns demultiplexing by 4-tuple, listeners and their accept backlog, IPv4/IPv6 headers and
 * TCP checksums, initial sequence numbers per RFC 6528, and RSTs for segments that belong to
 * no connection (RFC 9293 §3.10.7.1). Sans-IO: the simulator or the raw-socket driver calls it.
 */
import { createHash } from 'node:crypto';
import type { PacketEndpoint, Random } from '../core/sans-io.js';
import { readU16, writeU16, writeU32 } from '../wire/bytes.js';
import { formatIp } from '../wire/ip-address.js';
import { IPPROTO_TCP, ipv4ChecksumValid, writeIpv4Header } from '../wire/ipv4.js';
import { scanSegment, SegmentView } from '../wire/segment-view.js';
import { fillTcpChecksum, TcpFlag, tcpChecksumValid } from '../wire/tcp-header.js';
import { TcpConnection } from './connection.js';
import type { SubflowHooks } from './subflow-hooks.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from './tcp-types.js';

export interface HostCounters {
  packetsIn: number;
  packetsOut: number;
  badChecksum: number;
  malformed: number;
  notForUs: number;
  resetsSent: number;
  backlogDrops: number;
}

interface Listener {
  port: number;
  backlog: number;
  pending: number;
  onConnection: (c: HostConnection) => void;
  onSyn: SynHandler | null;
}

/**
 * Decides about a SYN for a listener before any state exists (an MPTCP stack looks at
 * MP_CAPABLE / MP_JOIN here): `null` refuses it with a RST; otherwise the hooks turn the new
 * connection into a subflow, and `attach` receives the connection as soon as it exists.
 */
export type SynHandler = (now: number, syn: SegmentView, packet: Uint8Array, local: Uint8Array, remote: Uint8Array) => SynDecision;

/** A SynHandler's answer: hooks for a subflow (and where to attach it), plain TCP, or refuse. */
export type SynDecision = { hooks: SubflowHooks; attach(c: HostConnection): void } | 'plain' | null;

/** A connection as the host's users see it: the engine plus its addresses. */
export interface HostConnection {
  readonly tcp: TcpConnection;
  readonly local: Uint8Array;
  readonly remote: Uint8Array;
  readonly key: string;
}

interface Entry extends HostConnection {
  /** Announced to the listener once established. */
  listener: Listener | null;
}

/**
 * Connections by port pair (local * 65536 + remote), then by addresses: a lookup per packet
 * with no allocation (a string key would format two addresses per segment).
 */
class ConnectionTable {
  private readonly buckets = new Map<number, Entry[]>();
  size = 0;

  get(local: Uint8Array, lport: number, remote: Uint8Array, rport: number): Entry | undefined {
    const b = this.buckets.get(lport * 65536 + rport);
    if (!b) return undefined;
    for (const e of b) if (sameBytes(e.local, local) && sameBytes(e.remote, remote)) return e;
    return undefined;
  }

  add(e: Entry): void {
    const k = e.tcp.localPort * 65536 + e.tcp.remotePort;
    const b = this.buckets.get(k);
    if (b) b.push(e);
    else this.buckets.set(k, [e]);
    this.size++;
  }

  delete(e: Entry): void {
    const k = e.tcp.localPort * 65536 + e.tcp.remotePort;
    const b = this.buckets.get(k);
    const i = b ? b.indexOf(e) : -1;
    if (!b || i < 0) return;
    b.splice(i, 1);
    if (b.length === 0) this.buckets.delete(k);
    this.size--;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class TcpHost implements PacketEndpoint {
  readonly config: TcpConfig;
  readonly counters: HostCounters = { packetsIn: 0, packetsOut: 0, badChecksum: 0, malformed: 0, notForUs: 0, resetsSent: 0, backlogDrops: 0 };
  private readonly conns = new ConnectionTable();
  private readonly listeners = new Map<number, Listener>();
  private readonly view = new SegmentView();
  private readonly isnSecret: Uint8Array;
  private readonly pendingRsts: Uint8Array[] = [];
  private nextEphemeral: number;
  private rr: Entry[] = [];
  private ipId = 0;
  private readonly touched = new Set<Entry>();

  constructor(
    readonly addresses: Uint8Array[],
    private readonly random: Random,
    config: Partial<TcpConfig> = {},
    /** Local port range for connect() (kept out of the kernel's ephemeral range by the driver). */
    private readonly portRange: [number, number] = [61000, 65535],
  ) {
    this.config = { ...DEFAULT_TCP_CONFIG, ...config };
    this.isnSecret = new Uint8Array(16);
    for (let i = 0; i < 16; i++) this.isnSecret[i] = random.nextU32() & 0xff;
    this.nextEphemeral = portRange[0] + (random.nextU32() % (portRange[1] - portRange[0] + 1));
  }

  listen(port: number, onConnection: (c: HostConnection) => void, backlog = 128, onSyn: SynHandler | null = null): void {
    this.listeners.set(port, { port, backlog, pending: 0, onConnection, onSyn });
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  connect(now: number, local: Uint8Array, remote: Uint8Array, remotePort: number, hooks?: SubflowHooks): HostConnection {
    const localPort = this.pickPort(local, remote, remotePort);
    const tcp = TcpConnection.connect({
      config: this.config,
      localPort,
      remotePort,
      ipv6: local.length === 16,
      iss: this.isn(now, local, localPort, remote, remotePort),
      tsOffset: this.random.nextU32(),
      now,
      hooks,
    });
    const e: Entry = { tcp, local, remote, key: key(local, localPort, remote, remotePort), listener: null };
    this.conns.add(e);
    this.rr.push(e);
    return e;
  }

  /** Per-connection state and counters, for debugging tools. */
  debugState(): { key: string; stats: ReturnType<TcpConnection['stats']>; timeout: number }[] {
    return this.rr.map((e) => ({ key: e.key, stats: e.tcp.stats(), timeout: e.tcp.pollTimeout() }));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  // ---- PacketEndpoint ------------------------------------------------------------------------

  handlePacket(now: number, packet: Uint8Array): void {
    this.counters.packetsIn++;
    const version = packet.length > 0 ? packet[0] >>> 4 : 0;
    let src: Uint8Array;
    let dst: Uint8Array;
    let l4: number;
    let end: number;
    if (version === 4 && packet.length >= 20) {
      const ihl = (packet[0] & 0x0f) * 4;
      end = readU16(packet, 2);
      if (ihl < 20 || end > packet.length || end < ihl + 20 || packet[9] !== IPPROTO_TCP || (readU16(packet, 6) & 0x3fff) !== 0 || !ipv4ChecksumValid(packet, 0)) {
        this.counters.malformed++;
        return;
      }
      src = packet.subarray(12, 16);
      dst = packet.subarray(16, 20);
      l4 = ihl;
    } else if (version === 6 && packet.length >= 60) {
      end = 40 + readU16(packet, 4);
      if (end > packet.length || packet[6] !== IPPROTO_TCP) {
        this.counters.malformed++; // extension headers are not expected on our paths
        return;
      }
      src = packet.subarray(8, 24);
      dst = packet.subarray(24, 40);
      l4 = 40;
    } else {
      this.counters.malformed++;
      return;
    }
    if (!tcpChecksumValid(packet, l4, end, src, dst)) {
      this.counters.badChecksum++;
      return;
    }
    const v = this.view;
    if (!scanSegment(packet, l4, end, v)) {
      this.counters.malformed++;
      return;
    }
    const e = this.conns.get(dst, v.dstPort, src, v.srcPort);
    if (e) {
      e.tcp.handleSegment(now, v, packet);
      this.afterInput(now, e);
      return;
    }
    const listener = this.listeners.get(v.dstPort);
    const isOurs = this.addresses.some((a) => sameBytes(a, dst));
    if (listener && isOurs && v.flags & TcpFlag.SYN && !(v.flags & (TcpFlag.ACK | TcpFlag.RST))) {
      if (listener.pending >= listener.backlog) {
        this.counters.backlogDrops++;
        return;
      }
      const local = dst.slice();
      const remote = src.slice();
      const decision = listener.onSyn ? listener.onSyn(now, v, packet, local, remote) : 'plain';
      if (decision === null) {
        this.counters.notForUs++;
        this.queueRst(dst, src, v);
        return;
      }
      const hooks = decision === 'plain' ? undefined : decision.hooks;
      const tcp = TcpConnection.accept(
        { config: this.config, localPort: v.dstPort, remotePort: v.srcPort, ipv6: version === 6, iss: this.isn(now, local, v.dstPort, remote, v.srcPort), tsOffset: this.random.nextU32(), now, hooks },
        v,
      );
      const entry: Entry = { tcp, local, remote, key: key(local, v.dstPort, remote, v.srcPort), listener };
      listener.pending++;
      this.conns.add(entry);
      this.rr.push(entry);
      if (decision !== 'plain') decision.attach(entry);
      this.touched.add(entry);
      return;
    }
    this.counters.notForUs++;
    if (!(v.flags & TcpFlag.RST) && isOurs) this.queueRst(dst, src, v);
  }

  pollTransmit(now: number, out: Uint8Array): number {
    const rst = this.pendingRsts.shift();
    if (rst) {
      out.set(rst);
      this.counters.packetsOut++;
      this.counters.resetsSent++;
      return rst.length;
    }
    // Round-robin over connections so one bulk transfer cannot starve the others.
    for (let i = 0; i < this.rr.length; i++) {
      const e = this.rr[i];
      const ipLen = e.local.length === 4 ? 20 : 40;
      const n = e.tcp.pollSegment(now, out, ipLen);
      if (n > 0) {
        this.rr.splice(i, 1);
        this.rr.push(e);
        this.finishPacket(out, ipLen, n, e.local, e.remote);
        this.sweep(e);
        return ipLen + n;
      }
      this.sweep(e);
    }
    return 0;
  }

  pollTimeout(): number {
    let t = Infinity;
    for (const e of this.rr) {
      const d = e.tcp.pollTimeout();
      if (d < t) t = d;
    }
    return t;
  }

  handleTimeout(now: number): void {
    for (const e of [...this.rr]) {
      if (e.tcp.pollTimeout() <= now) {
        e.tcp.handleTimeout(now);
        this.afterInput(now, e);
      }
    }
  }

  // ---- Internals ----------------------------------------------------------------------------

  /**
   * The connections that handled a segment or timer since the last call (each once): what an
   * upper layer must look at for events, without scanning every connection per packet.
   */
  takeTouched(): HostConnection[] {
    if (this.touched.size === 0) return NO_CONNECTIONS;
    const out = [...this.touched];
    this.touched.clear();
    return out;
  }

  private afterInput(_now: number, e: Entry): void {
    this.touched.add(e);
    if (e.listener && e.tcp.state !== 'SYN_RECEIVED') {
      const l = e.listener;
      e.listener = null;
      l.pending--;
      if (e.tcp.state !== 'CLOSED') l.onConnection(e);
    }
    this.sweep(e);
  }

  /** Forgets a connection once it is closed and has nothing left to send. */
  private sweep(e: Entry): void {
    if (!e.tcp.isClosed) return;
    if (e.listener) {
      e.listener.pending--;
      e.listener = null;
    }
    this.conns.delete(e);
    const i = this.rr.indexOf(e);
    if (i >= 0) this.rr.splice(i, 1);
  }

  private finishPacket(out: Uint8Array, ipLen: number, tcpLen: number, src: Uint8Array, dst: Uint8Array): void {
    if (ipLen === 20) {
      writeIpv4Header(out, 0, 0, 20 + tcpLen, this.ipId++ & 0xffff, 64, IPPROTO_TCP, src, dst);
    } else {
      writeU32(out, 0, 0x60000000);
      writeU16(out, 4, tcpLen);
      out[6] = IPPROTO_TCP;
      out[7] = 64;
      out.set(src, 8);
      out.set(dst, 24);
    }
    fillTcpChecksum(out, ipLen, ipLen + tcpLen, src, dst);
    this.counters.packetsOut++;
  }

  /** RFC 9293 §3.10.7.1: answer a segment for no connection with a RST. */
  private queueRst(local: Uint8Array, remote: Uint8Array, v: SegmentView): void {
    if (this.pendingRsts.length > 64) return; // bounded: a flood of strays costs nothing more
    const ipLen = local.length === 4 ? 20 : 40;
    const pkt = new Uint8Array(ipLen + 20);
    const withAck = !(v.flags & TcpFlag.ACK);
    const seq = withAck ? 0 : v.ack;
    const ack = withAck ? (v.seq + v.payloadLength + (v.flags & TcpFlag.SYN ? 1 : 0) + (v.flags & TcpFlag.FIN ? 1 : 0)) >>> 0 : 0;
    writeU16(pkt, ipLen, v.dstPort);
    writeU16(pkt, ipLen + 2, v.srcPort);
    writeU32(pkt, ipLen + 4, seq);
    writeU32(pkt, ipLen + 8, ack);
    pkt[ipLen + 12] = 5 << 4;
    pkt[ipLen + 13] = TcpFlag.RST | (withAck ? TcpFlag.ACK : 0);
    this.finishPacket(pkt, ipLen, 20, local.slice(), remote.slice());
    this.counters.packetsOut--; // counted when actually sent
    this.pendingRsts.push(pkt);
  }

  /** RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock, F a keyed hash. */
  private isn(now: number, local: Uint8Array, lport: number, remote: Uint8Array, rport: number): number {
    const h = createHash('sha256').update(this.isnSecret).update(local).update(remote).update(`${lport}/${rport}`).digest();
    return (Math.floor(now * 250) + h.readUInt32BE(0)) >>> 0;
  }

  private pickPort(local: Uint8Array, remote: Uint8Array, remotePort: number): number {
    const [lo, hi] = this.portRange;
    for (let i = 0; i <= hi - lo; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p >= hi ? lo : p + 1;
      if (!this.conns.get(local, p, remote, remotePort) && !this.listeners.has(p)) return p;
    }
    throw new Error(`no free local port in ${lo}-${hi} towards ${formatIp(remote)}:${remotePort}`);
  }
}

const NO_CONNECTIONS: HostConnection[] = [];

function key(local: Uint8Array, lport: number, remote: Uint8Array, rport: number): string {
  return `${formatIp(local)}|${lport}|${formatIp(remote)}|${rport}`;
}
