/**
 * The client: local SOCKS5/HTTP listeners (listener.ts), each application connection
 * carried on its own stream to the aggregator (tunnel.ts) taken from the pool of
 * authenticated streams (pool.ts, aggregator-link.ts) over the configured transport.
 * Handshake (stream to the aggregator) and request (REQUEST to REPLY) times go to a
 * LatencySink for metrics.
 */
import type { Socket } from 'node:net';
import type { ClientConfig } from '../config/client-config.js';
import type { Target } from '../protocol/target.js';
import type { StreamTransport } from '../transport/transport.js';
import { NO_LATENCY, stopwatch, type LatencySink } from '../util/latency.js';
import { openAuthenticatedStream } from './aggregator-link.js';
import { newClientCounters, type ClientCounters } from './counters.js';
import { createHttpProxy } from './http-proxy.js';
import { listenLocal, type ListenerMode, type LocalListener } from './listener.js';
import { StreamPool } from './pool.js';
import { serveSocks } from './socks-session.js';
import { Tunnels } from './tunnel.js';

export class Client {
  readonly counters: ClientCounters = newClientCounters();
  readonly pool: StreamPool;
  private readonly tunnels: Tunnels;
  private listeners: LocalListener[] = [];
  private lastOpenError = '';

  constructor(
    private readonly config: ClientConfig,
    private readonly transport: StreamTransport,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly latency: LatencySink = NO_LATENCY,
  ) {
    const helloTimeoutMs = config.connectTimeoutSeconds * 1000;
    this.pool = new StreamPool({
      min: config.pool.min,
      max: config.pool.max,
      idleMs: config.pool.idleSeconds * 1000,
      helloTimeoutMs,
      open: async () => {
        const took = stopwatch();
        try {
          const s = await openAuthenticatedStream(config, transport);
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
    });
    this.tunnels = new Tunnels(this.pool, config.policy, config.requestTimeoutSeconds * 1000, helloTimeoutMs);
  }

  async start(): Promise<LocalListener[]> {
    const cfg = this.config;
    const openTunnel = async (t: Target) => {
      const took = stopwatch();
      const r = await this.tunnels.open(t);
      this.latency.observe('request', took(), r.ok);
      return r;
    };
    const common = { auth: cfg.auth, openTunnel, counters: this.counters, handshakeTimeoutMs: cfg.handshakeTimeoutSeconds * 1000, idleTimeoutMs: cfg.idleTimeoutSeconds * 1000 };
    const socks = (s: Socket) => serveSocks(s, common);
    const httpMixed = createHttpProxy({ ...common, maxHeaderBytes: cfg.maxHeaderBytes, socksToo: true });
    const httpOnly = createHttpProxy({ ...common, maxHeaderBytes: cfg.maxHeaderBytes, socksToo: false });
    const plan: [ListenerMode, typeof cfg.listen][] = [
      ['mixed', cfg.listen],
      ['socks', cfg.socksListen],
      ['http', cfg.httpListen],
    ];
    try {
      for (const [mode, eps] of plan) {
        for (const ep of eps) {
          this.listeners.push(await listenLocal(ep, mode, { socks, http: mode === 'http' ? httpOnly : httpMixed, counters: this.counters, handshakeTimeoutMs: common.handshakeTimeoutMs }));
        }
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    return this.listeners;
  }

  /** Application connections open now (all listeners). */
  activeConnections(): number {
    return this.listeners.reduce((n, l) => n + l.active(), 0);
  }

  get transportInUse(): StreamTransport {
    return this.transport;
  }

  async close(): Promise<void> {
    this.pool.close();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
    await this.transport.close();
  }
}
