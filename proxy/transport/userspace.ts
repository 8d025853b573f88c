/**
 * The userspace transport: our own MPTCP (mptcp/stack) on raw sockets (mptcp/driver). The
 * client side opens every stream as an MPTCP connection over all its paths (one local address
 * each: the configured ones, else every global address of an up interface), to all of the
 * aggregator's addresses; the aggregator accepts them on its listening address (every local
 * address for a wildcard). Each side runs one stack and one raw-socket driver, opened on first
 * use. Needs root (raw sockets, nftables); fails with TransportUnavailableError otherwise.
 */
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { CryptoRandom } from '../../mptcp/driver/crypto-random.js';
import { InterfaceWatcher, type InterfaceAddress } from '../../mptcp/driver/interface-watcher.js';
import { chooseClientPortRange, readEphemeralRange, type PortRange } from '../../mptcp/driver/ports.js';
import { RawSocketDriver } from '../../mptcp/driver/raw-driver.js';
import type { MptcpCounters } from '../../mptcp/connection/mptcp-types.js';
import type { CongestionName } from '../../mptcp/cc/index.js';
import { MptcpStack } from '../../mptcp/stack/mptcp-stack.js';
import { connectMptcp, MptcpServer, MptcpSocket } from '../../mptcp/socket/mptcp-socket.js';
import { StackRuntime } from '../../mptcp/socket/runtime.js';
import { formatIp, parseIp } from '../../mptcp/wire/ip-address.js';
import { PathAccounting, type PathSide } from './path-stats.js';
import { resolveOne } from './tcp.js';
import { TransportUnavailableError, type Endpoint, type StackSnapshot, type MultipathControl, type StreamInfo, type StreamListener, type StreamTransport, type TransportStats } from './transport.js';

export interface UserspaceTransportOptions {
  /** Local addresses, one per path, in order of preference (default: every global address). */
  localAddresses?: (string | { address: string; backup?: boolean; device?: string })[];
  /** The aggregator's other addresses (e.g. its IPv6 beside the IPv4 it is dialled on). */
  extraRemoteAddresses?: string[];
  /** Ask for DSS checksums (RFC 8684 §3.3). */
  checksums?: boolean;
  /** Congestion control of our MPTCP connections (default: the stack's, OLIA). */
  congestion?: CongestionName;
  /** Queueing delay (ms) a subflow may add at its bottleneck (default: the stack's, 40; Infinity: off). */
  queueDelayBudgetMs?: number;
  /** Loss demotion thresholds (default: the stack's, 5% / 2%; demoteLossRatio 0: off). */
  lossDemotion?: { demoteLossRatio: number; promoteLossRatio: number };
  /**
   * Follow the machine's addresses at runtime (default: when no localAddresses are given): a
   * new address becomes a path of every connection, a vanished one is withdrawn (REMOVE_ADDR).
   */
  followInterfaces?: boolean;
  /** How often the interface list is looked at (default 1000 ms). */
  interfacePollMs?: number;
  /** The configured name of the path a local address belongs to (metrics label), if any. */
  pathName?: (address: string) => string | undefined;
}

interface Running {
  stack: MptcpStack;
  runtime: StackRuntime<MptcpStack>;
  driver: RawSocketDriver;
  watcher: InterfaceWatcher | null;
}

/** Global unicast addresses of up interfaces (no loopback, no link-local). */
export function defaultLocalAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && (a.address.startsWith('fe80') || a.scopeid)) continue;
      out.push(a.address);
    }
  }
  return out;
}

export class UserspaceTransport implements StreamTransport {
  readonly kind = 'userspace' as const;
  private readonly counters: TransportStats = { kind: 'userspace', opened: 0, openFailed: 0, accepted: 0, active: 0 };
  private client: Running | null = null;
  private readonly listeners = new Set<Running>();
  /** Open MPTCP sockets (for per-path statistics); closed ones are folded into `paths`. */
  private readonly live = new Map<MptcpSocket, PathSide>();
  private readonly paths: PathAccounting;

  constructor(private readonly opts: UserspaceTransportOptions = {}) {
    this.paths = new PathAccounting({ pathName: opts.pathName });
  }

  private locals(): { address: string; backup?: boolean; device?: string }[] {
    const given = this.opts.localAddresses?.map((l) => (typeof l === 'string' ? { address: l } : l));
    return given && given.length > 0 ? given : defaultLocalAddresses().map((address) => ({ address }));
  }

  private start(paths: { address: string; device?: string }[], ports: PortRange[], portRange: [number, number], role: 'client' | 'listener'): Running {
    const addresses = paths.map((p) => parseIp(p.address)).filter((a): a is Uint8Array => a !== null);
    if (addresses.length === 0) throw new TransportUnavailableError('userspace', 'no usable local address');
    const stack = new MptcpStack({ addresses, random: new CryptoRandom(), portRange, mptcp: { checksums: this.opts.checksums ?? false, ...(this.opts.congestion ? { congestion: this.opts.congestion } : {}), ...(this.opts.queueDelayBudgetMs !== undefined ? { queueDelayBudgetMs: this.opts.queueDelayBudgetMs } : {}), ...(this.opts.lossDemotion ?? {}) } });
    const runtime = new StackRuntime(stack);
    let driver: RawSocketDriver | null = null;
    runtime.attach({ wake: () => driver?.wake(), now: () => performance.now() });
    try {
      driver = RawSocketDriver.open({ endpoint: runtime, paths: paths.map((p) => ({ address: p.address, ...(p.device ? { device: p.device } : {}) })), ports });
    } catch (e) {
      throw new TransportUnavailableError('userspace', e instanceof Error ? e.message : String(e));
    }
    // A listener adopts addresses that appear (an interface without carrier at start-up is not
    // listed yet) but never withdraws one: an interface losing carrier for a while must not
    // take away the address its subflows over other interfaces use too. Only the connecting
    // side manages paths, both ways.
    const follow = this.opts.followInterfaces ?? !(this.opts.localAddresses && this.opts.localAddresses.length > 0);
    const watcher = follow ? new InterfaceWatcher(undefined, this.opts.interfacePollMs ?? 1000) : null;
    if (watcher) {
      const d = driver;
      watcher.on('address-added', (a: InterfaceAddress) => {
        const ip = parseIp(a.address);
        if (!ip) return;
        try {
          d.addPath({ address: a.address });
        } catch {
          return; // cannot send from it (yet): a later poll will not retry, the next change will
        }
        stack.addLocalAddress(runtime.now(), ip);
        d.flush();
      });
      if (role === 'client') watcher.on('address-removed', (a: InterfaceAddress) => {
        const ip = parseIp(a.address);
        if (!ip) return;
        stack.removeLocalAddress(runtime.now(), ip);
        d.flush();
        d.removePath(a.address);
      });
      watcher.start();
    }
    return { stack, runtime, driver, watcher };
  }

  async connect(to: Endpoint, timeoutMs: number): Promise<Duplex> {
    let remote: string;
    try {
      remote = isIP(to.host) ? to.host : (await resolveOne(to.host)).address;
    } catch (e) {
      this.counters.openFailed++;
      throw e;
    }
    const locals = this.locals();
    if (!this.client) {
      const range = chooseClientPortRange(readEphemeralRange());
      this.client = this.start(locals, [range], [range.lo, range.hi], 'client');
    }
    const rt = this.client.runtime;
    const remotes = [remote, ...(this.opts.extraRemoteAddresses ?? [])];
    const families = new Set(remotes.map((r) => (isIP(r) === 6 ? 16 : 4)));
    const usable = locals.filter((l) => families.has(isIP(l.address) === 6 ? 16 : 4));
    if (usable.length === 0) {
      this.counters.openFailed++;
      throw Object.assign(new Error(`no local address of the family of ${remote}`), { code: 'EADDRNOTAVAIL' });
    }
    const sock = connectMptcp(rt, { hosts: remotes, port: to.port, localAddresses: usable });
    return new Promise<Duplex>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        fail(Object.assign(new Error(`connect to ${to.host}:${to.port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        sock.removeListener('connect', ok);
        this.counters.openFailed++;
        reject(err);
      };
      const ok = () => {
        clearTimeout(timer);
        sock.removeListener('error', fail);
        this.counters.opened++;
        this.track(sock, 'local');
        resolve(sock);
      };
      sock.once('error', fail);
      sock.once('connect', ok);
    });
  }

  listen(on: Endpoint, onStream: (stream: Duplex, info: StreamInfo) => void): Promise<StreamListener> {
    const wildcard = on.host === '0.0.0.0' || on.host === '::';
    const paths = wildcard ? this.locals().filter((l) => on.host === '::' || isIP(l.address) === 4) : [{ address: on.host }];
    if (!wildcard && !parseIp(on.host)) return Promise.reject(new Error(`userspace transport listens on an IP literal, not '${on.host}'`));
    if (on.port === 0) return Promise.reject(new Error('userspace transport needs an explicit port to listen on'));
    let running: Running;
    try {
      const range = chooseClientPortRange(readEphemeralRange());
      running = this.start(paths, [{ lo: on.port, hi: on.port }], [range.lo, range.hi], 'listener');
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    this.listeners.add(running);
    const server = new MptcpServer(running.runtime).listen(on.port);
    server.on('connection', (s: MptcpSocket) => {
      this.counters.accepted++;
      this.track(s, 'remote');
      const first = s.connection.subflows[0];
      onStream(s, {
        remote: first ? { host: formatIp(first.remote), port: first.tcp.remotePort } : undefined,
        local: first ? { host: formatIp(first.local), port: first.tcp.localPort } : undefined,
      });
    });
    const listener: StreamListener = {
      address: { host: on.host, port: on.port },
      close: () => {
        running.stack.host.unlisten(on.port);
        running.watcher?.stop();
        running.driver.dispose();
        this.listeners.delete(running);
        return Promise.resolve();
      },
    };
    return Promise.resolve(listener);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  multipath(stream: Duplex): MultipathControl | undefined {
    if (!(stream instanceof MptcpSocket) || !this.live.has(stream)) return undefined;
    return { addressIds: () => stream.addressIds(), setPolicy: (p) => stream.setPolicy(p) };
  }

  /**
   * Read-only view of our stacks for metrics: per path the totals of every subflow that used
   * it and gauges of the live ones, and the stacks' MPTCP counters summed. A path is a local
   * address for the streams we open (client) and the peer's address for the streams we
   * accept (aggregator: its clients' links may all reach one of its addresses).
   */
  stackSnapshot(): StackSnapshot {
    const running = [...this.listeners, ...(this.client ? [this.client] : [])];
    const counters: Record<string, number> = {};
    const known = new Set<string>();
    const client = this.client;
    let connections = 0;
    for (const r of running) {
      connections += r.stack.connectionCount;
      if (r === client) for (const a of r.stack.addresses) known.add(formatIp(a));
      const c: Readonly<Record<keyof MptcpCounters, number>> = r.stack.counters;
      for (const [k, v] of Object.entries(c)) counters[k] = (counters[k] ?? 0) + v;
    }
    const live = [...this.live].map(([s, side]) => ({ side, subflows: s.subflows(true) }));
    return { connections, paths: this.paths.snapshot([...known], live), counters };
  }

  close(): Promise<void> {
    for (const l of this.listeners) {
      l.watcher?.stop();
      l.driver.dispose();
    }
    this.listeners.clear();
    if (this.client) {
      // Let final segments leave before the raw sockets and the RST guard go away.
      const c = this.client;
      this.client = null;
      c.watcher?.stop();
      return new Promise((resolve) =>
        setTimeout(() => {
          c.driver.dispose();
          resolve();
        }, 200),
      );
    }
    return Promise.resolve();
  }

  private track(s: MptcpSocket, side: PathSide): void {
    this.counters.active++;
    this.live.set(s, side);
    s.once('close', () => {
      this.counters.active--;
      this.live.delete(s);
      this.paths.retire(s.subflows(true), side);
    });
  }
}

/** The slot proxy/transport/select.ts loads. */
export function createUserspaceTransport(opts?: UserspaceTransportOptions): StreamTransport {
  return new UserspaceTransport(opts);
}
