/**
 * The client: local SOCKS5/HTTP listeners (listener.ts), each application connection
 * carried on its own stream to the aggregator (tunnel.ts) taken from the pool of
 * authenticated streams (pool.ts, aggregator-link.ts) over the configured transport.
 * Handshake (stream to the aggregator) and request (REQUEST to REPLY) times go to a
 * LatencySink for metrics. applyConfig() takes a reloaded configuration: every connection
 * and stream opened from then on reads it, connections already open carry on as they are.
 */
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientConfig } from '../config/client-config.js';
import { planClientReload, rejectedReloadLogLine, reloadLogLines, type ReloadPlan } from '../config/reload-plan.js';
import type { WirePolicy } from '../protocol/policy-wire.js';
import { targetHost, type Target } from '../protocol/target.js';
import type { StreamTransport } from '../transport/transport.js';
import { NO_LATENCY, stopwatch, type LatencySink } from '../util/latency.js';
import { openAuthenticatedStream, transportStreamOf } from './aggregator-link.js';
import { DataCaps, type DataCapUsage } from './data-caps.js';
import { ClientPathPolicy } from './path-policy.js';
import { newClientCounters, type ClientCounters } from './counters.js';
import { createHttpProxy, type HttpProxyDeps } from './http-proxy.js';
import { listenLocal, type ListenerMode, type LocalListener } from './listener.js';
import { StreamPool, type PoolOptions } from './pool.js';
import { serveSocks, type SocksDeps } from './socks-session.js';
import { Tunnels } from './tunnel.js';

/** What a listener reads for each new connection (listener.ts reads these fields then). */
interface ListenerHandlers {
  socks: (s: Socket) => void;
  http: HttpServer;
  counters: ClientCounters;
  handshakeTimeoutMs: number;
}

export class Client {
  readonly counters: ClientCounters = newClientCounters();
  readonly pool: StreamPool;
  private tunnels: Tunnels;
  private listeners: LocalListener[] = [];
  private lastOpenError = '';
  /** The running configuration; replaced (never mutated) by applyConfig. */
  private config: ClientConfig;
  private readonly dataCaps: DataCaps;
  private readonly pathPolicy: ClientPathPolicy;
  /** The pool reads its sizes from this object on every refill and sweep. */
  private readonly poolOptions: PoolOptions;
  private readonly handlers: { mode: ListenerMode; handlers: ListenerHandlers }[] = [];
  private httpServers: { mixed: HttpServer; only: HttpServer } | undefined;

  constructor(
    config: ClientConfig,
    private readonly transport: StreamTransport,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly latency: LatencySink = NO_LATENCY,
    /** Where data-cap usage is kept across restarts (undefined: not kept). */
    dataCapFile?: string,
  ) {
    this.config = config;
    this.dataCaps = new DataCaps(dataCapFile, log);
    this.dataCaps.configure(config.policy.paths);
    this.pathPolicy = new ClientPathPolicy(this.dataCaps);
    this.poolOptions = {
      min: config.pool.min,
      max: config.pool.max,
      idleMs: config.pool.idleSeconds * 1000,
      helloTimeoutMs: config.connectTimeoutSeconds * 1000,
      open: async () => {
        const took = stopwatch();
        try {
          const s = await openAuthenticatedStream(this.config, transport);
          this.latency.observe('handshake', took(), true);
          return s;
        } catch (e) {
          this.latency.observe('handshake', took(), false);
          throw e;
        }
      },
      onOpenError: (e) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastOpenError) this.log(`aggregator: ${msg}`);
        this.lastOpenError = msg;
      },
    };
    this.pool = new StreamPool(this.poolOptions);
    this.tunnels = this.newTunnels();
  }

  /** The configuration in force now. */
  get currentConfig(): ClientConfig {
    return this.config;
  }

  async start(): Promise<LocalListener[]> {
    const cfg = this.config;
    const servers = this.newHttpServers();
    this.httpServers = servers;
    const socks = (s: Socket) => serveSocks(s, this.socksDeps());
    const plan: [ListenerMode, typeof cfg.listen][] = [
      ['mixed', cfg.listen],
      ['socks', cfg.socksListen],
      ['http', cfg.httpListen],
    ];
    try {
      for (const [mode, eps] of plan) {
        for (const ep of eps) {
          const handlers: ListenerHandlers = { socks, http: mode === 'http' ? servers.only : servers.mixed, counters: this.counters, handshakeTimeoutMs: cfg.handshakeTimeoutSeconds * 1000 };
          this.handlers.push({ mode, handlers });
          this.listeners.push(await listenLocal(ep, mode, handlers));
        }
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    return this.listeners;
  }

  /**
   * Takes a reloaded configuration without dropping anything open: local auth, timeouts, pool
   * sizes, maxHeaderBytes, clientId and secret (for new streams) and the policy apply to
   * what starts from now on; settings that need a restart are logged and kept as they were.
   */
  applyConfig(next: ClientConfig): ReloadPlan<ClientConfig> {
    const plan = planClientReload(this.config, next);
    const before = this.config;
    this.config = plan.config;
    const cfg = plan.config;
    this.dataCaps.configure(cfg.policy.paths);
    Object.assign(this.poolOptions, { min: cfg.pool.min, max: cfg.pool.max, idleMs: cfg.pool.idleSeconds * 1000, helloTimeoutMs: cfg.connectTimeoutSeconds * 1000 });
    this.tunnels = this.newTunnels();
    if (this.httpServers !== undefined && (before.maxHeaderBytes !== cfg.maxHeaderBytes || before.handshakeTimeoutSeconds !== cfg.handshakeTimeoutSeconds)) {
      // Server-level limits: new connections go to new servers; open ones finish on the old.
      this.httpServers = this.newHttpServers();
    }
    for (const { mode, handlers } of this.handlers) {
      handlers.handshakeTimeoutMs = cfg.handshakeTimeoutSeconds * 1000;
      if (this.httpServers !== undefined) handlers.http = mode === 'http' ? this.httpServers.only : this.httpServers.mixed;
    }
    this.pool.refill();
    this.counters.inc('configReloadsOk');
    for (const line of reloadLogLines(plan)) this.log(line);
    return plan;
  }

  /** A reloaded configuration was invalid: every problem is logged, the running one stays. */
  configRejected(error: unknown): void {
    this.counters.inc('configReloadsInvalid');
    this.log(rejectedReloadLogLine(error));
  }

  /** Application connections open now (all listeners). */
  activeConnections(): number {
    return this.listeners.reduce((n, l) => n + l.active(), 0);
  }

  get transportInUse(): StreamTransport {
    return this.transport;
  }

  /** The configured name of the path a local address belongs to, if any. */
  pathNameOf(address: string): string | undefined {
    const policy = this.config.policy;
    return policy.paths[this.pathPolicy.pathIndexOf(policy, address)]?.name;
  }

  /** Data-cap usage per capped path (metrics and status). */
  dataCapUsage(): DataCapUsage[] {
    return this.dataCaps.usage();
  }

  async close(): Promise<void> {
    this.dataCaps.close();
    this.pool.close();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
    await this.transport.close();
  }

  private newTunnels(): Tunnels {
    return new Tunnels(this.pool, (t, s) => this.policyFor(t, s), this.config.requestTimeoutSeconds * 1000, this.config.connectTimeoutSeconds * 1000);
  }

  /**
   * The running policy for a connection to `target` on `stream`: applied to our side (uploads)
   * and returned for the aggregator (downloads). Only our userspace transport takes a policy
   * per connection; with the kernel's MPTCP the paths' backup flags (ip mptcp endpoint ...
   * backup) are all there is, and no policy is sent.
   */
  private policyFor(target: Target, stream: Duplex): WirePolicy | null {
    const mp = this.transport.multipath?.(transportStreamOf(stream));
    if (!mp) return null;
    const plan = this.pathPolicy.plan(this.config.policy, { host: targetHost(target), port: target.port }, mp.addressIds());
    mp.setPolicy(plan.local);
    return plan.wire;
  }

  private readonly openTunnel = async (t: Target) => {
    const took = stopwatch();
    const r = await this.tunnels.open(t);
    this.latency.observe('request', took(), r.ok);
    return r;
  };

  /** SOCKS5 session settings, read when a connection arrives. */
  private socksDeps(): SocksDeps {
    const cfg = this.config;
    return { auth: cfg.auth, openTunnel: this.openTunnel, counters: this.counters, handshakeTimeoutMs: cfg.handshakeTimeoutSeconds * 1000, idleTimeoutMs: cfg.idleTimeoutSeconds * 1000 };
  }

  /** HTTP servers whose per-request settings (auth, idle timeout) read the running configuration. */
  private newHttpServers(): { mixed: HttpServer; only: HttpServer } {
    const running = () => this.config;
    const deps = (socksToo: boolean): HttpProxyDeps => ({
      get auth() {
        return running().auth;
      },
      get idleTimeoutMs() {
        return running().idleTimeoutSeconds * 1000;
      },
      openTunnel: this.openTunnel,
      counters: this.counters,
      maxHeaderBytes: this.config.maxHeaderBytes,
      handshakeTimeoutMs: this.config.handshakeTimeoutSeconds * 1000,
      socksToo,
    });
    return { mixed: createHttpProxy(deps(true)), only: createHttpProxy(deps(false)) };
  }
}
