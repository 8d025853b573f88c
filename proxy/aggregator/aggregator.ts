/**
 * The aggregator: accepts streams from the transport, runs TLS 1.3 over each (unless
 * plaintext is configured), authenticates the client's HELLO, answers its REQUEST by
 * connecting to the destination (destination policy, Happy Eyeballs v2, connect timeout) and
 * relays both ways with backpressure, half-close and an idle timeout; enforces the
 * per-client connection limit. A stream that fails authentication in any way gets no byte
 * from us and is closed a constant delay after it was accepted; every outcome is counted.
 * applyConfig() takes a reloaded configuration (clients, limits, destinations) for what
 * arrives from then on: a removed client's new streams and requests are refused, relays
 * already running carry on.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { AggregatorConfig } from '../config/aggregator-config.js';
import { planAggregatorReload, rejectedReloadLogLine, reloadLogLines, type ReloadPlan } from '../config/reload-plan.js';
import { readFrame, writeFrame } from '../protocol/frame-stream.js';
import { channelBinding, helloMacMatches } from '../protocol/hello-proof.js';
import { Status, statusName, type StatusCode } from '../protocol/status.js';
import { formatTarget, targetHost } from '../protocol/target.js';
import type { TlsIdentity } from '../tls/certificate.js';
import type { Endpoint, StreamListener, StreamTransport } from '../transport/transport.js';
import { layerOn } from '../util/abort.js';
import { Counters } from '../util/counters.js';
import { NO_LATENCY, stopwatch, type LatencySink } from '../util/latency.js';
import { relay } from '../util/relay.js';
import { connectTcp, resolveFamily } from './connector.js';
import { DestinationPolicy } from './destination-policy.js';
import { PolicyEnforcer } from './policy-enforcer.js';
import type { WirePolicy } from '../protocol/policy-wire.js';
import { happyEyeballs, type Attempt } from './happy-eyeballs.js';

export type AggregatorCounter =
  | 'streamsAccepted'
  | 'refusedOverload'
  | 'tlsFailed'
  | 'helloTimeout'
  | 'helloInvalid'
  | 'authUnknownClient'
  | 'authBadProof'
  | 'refusedUnauthenticated'
  | 'authenticated'
  | 'poolExpired'
  | 'requestInvalid'
  | 'requests'
  | 'requestsOk'
  | 'requestsNotAllowed'
  | 'requestsFailed'
  | 'requestsLimited'
  | 'relayIdleTimeout'
  | 'relayErrors'
  | 'bytesUp'
  | 'bytesDown'
  /** Configuration reloads: applied, or refused because the new file was invalid. */
  | 'configReloadsOk'
  | 'configReloadsInvalid';

export interface AggregatorDeps {
  resolve?: (name: string, family: 4 | 6) => Promise<string[]>;
  connect?: (address: string, port: number) => Attempt<Socket>;
  log?: (line: string) => void;
  /** Handshake (accept to authenticated) and request (REQUEST to REPLY) times. */
  latency?: LatencySink;
}

export class Aggregator {
  readonly counters = new Counters<AggregatorCounter>();
  private listener: StreamListener | undefined;
  private policy: DestinationPolicy;
  private readonly perClient = new Map<string, number>();
  private readonly pathPolicies = new PolicyEnforcer();
  private secrets: Map<string, string>;
  private readonly open = new Set<Duplex>();
  /** Streams not yet authenticated (TLS handshake or HELLO pending), capped. */
  private unauthenticated = 0;
  private readonly log: (line: string) => void;
  private readonly secureContext: SecureContext | undefined;
  private readonly latency: LatencySink;

  constructor(
    private config: AggregatorConfig,
    private readonly transport: StreamTransport,
    private readonly identity: TlsIdentity | undefined,
    private readonly deps: AggregatorDeps = {},
  ) {
    if (!config.plaintext && identity === undefined) throw new Error('TLS needs an identity (key and certificate)');
    this.policy = new DestinationPolicy(config.destinations.allow, config.destinations.deny);
    // One TLS context for every stream: the key and certificate are parsed once.
    this.secureContext = identity === undefined ? undefined : createSecureContext({ key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.3' });
    this.secrets = new Map(config.clients.map((c) => [c.id, c.secret]));
    this.log = deps.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.latency = deps.latency ?? NO_LATENCY;
  }

  /** Proxied connections now (answered or being connected), all clients. */
  activeConnections(): number {
    let n = 0;
    for (const v of this.perClient.values()) n += v;
    return n;
  }

  get transportInUse(): StreamTransport {
    return this.transport;
  }

  async start(): Promise<Endpoint> {
    this.listener = await this.transport.listen(this.config.listen, (s) => {
      this.open.add(s);
      s.once('close', () => this.open.delete(s));
      void this.serve(s);
    });
    return this.listener.address;
  }

  /** The configuration in force now. */
  get currentConfig(): AggregatorConfig {
    return this.config;
  }

  /**
   * Takes a reloaded configuration without dropping anything open: clients (ids and secrets),
   * limits and destinations apply to streams and requests from now on; settings that need a
   * restart are logged and kept as they were.
   */
  applyConfig(next: AggregatorConfig): ReloadPlan<AggregatorConfig> {
    const plan = planAggregatorReload(this.config, next);
    this.config = plan.config;
    this.secrets = new Map(plan.config.clients.map((c) => [c.id, c.secret]));
    this.policy = new DestinationPolicy(plan.config.destinations.allow, plan.config.destinations.deny);
    this.counters.inc('configReloadsOk');
    for (const line of reloadLogLines(plan)) this.log(line);
    return plan;
  }

  /** A reloaded configuration was invalid: every problem is logged, the running one stays. */
  configRejected(error: unknown): void {
    this.counters.inc('configReloadsInvalid');
    this.log(rejectedReloadLogLine(error));
  }

  async close(): Promise<void> {
    const closing = this.listener?.close();
    for (const s of this.open) s.destroy();
    await closing;
    await this.transport.close();
  }

  /**
   * The client's path policy for this connection's downloads (userspace transport; the
   * kernel's MPTCP honours only the backup flags the client sets with MP_JOIN and MP_PRIO).
   */
  private applyPathPolicy(raw: Duplex, clientId: string, policy: WirePolicy | null): void {
    if (!policy) return;
    const mp = this.transport.multipath?.(raw);
    if (!mp) return;
    try {
      mp.setPolicy(this.pathPolicies.forRequest(clientId, policy));
    } catch (e) {
      this.log(`client ${clientId}: path policy not applied: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** One stream, start to end. Never throws. */
  private async serve(raw: Duplex): Promise<void> {
    this.counters.inc('streamsAccepted');
    raw.on('error', () => undefined);
    const acceptedAt = Date.now();
    const handshakeTook = stopwatch();
    const limits = this.config.limits;
    if (this.unauthenticated >= limits.maxUnauthenticated) {
      this.counters.inc('refusedOverload');
      raw.destroy();
      return;
    }
    this.unauthenticated++;
    let pending = true;
    const leavePending = () => {
      if (pending) this.unauthenticated--;
      pending = false;
    };
    raw.once('close', leavePending);
    const helloDeadline = acceptedAt + limits.helloTimeoutSeconds * 1000;
    const refuse = (counter: AggregatorCounter, why: string) => {
      // Still counted as pending until the delayed close, so a flood stays capped.
      this.counters.inc(counter);
      this.counters.inc('refusedUnauthenticated');
      this.latency.observe('handshake', handshakeTook(), false);
      this.log(`refused unauthenticated stream: ${why}`);
      const wait = Math.max(0, acceptedAt + limits.refusalDelayMs - Date.now());
      setTimeout(() => raw.destroy(), wait).unref();
    };

    let conn: Duplex = raw;
    let tls: TLSSocket | undefined;
    if (!this.config.plaintext && this.identity !== undefined) {
      tls = new TLSSocket(raw, { isServer: true, secureContext: this.secureContext });
      tls.on('error', () => undefined);
      layerOn(tls, raw);
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), Math.max(0, helloDeadline - Date.now()));
        tls?.once('secure', () => (clearTimeout(t), resolve(true)));
        tls?.once('error', () => (clearTimeout(t), resolve(false)));
        tls?.once('close', () => (clearTimeout(t), resolve(false)));
      });
      if (!ok) return refuse('tlsFailed', 'TLS handshake failed');
      conn = tls;
    }

    const hello = await readFrame(conn, Math.max(1, helloDeadline - Date.now()));
    if (!hello.ok) return refuse(hello.reason === 'timeout' ? 'helloTimeout' : 'helloInvalid', hello.reason === 'invalid' ? hello.error.message : hello.message);
    if (hello.frame.type !== 'hello') return refuse('helloInvalid', `expected HELLO, got ${hello.frame.type}`);
    const clientId = hello.frame.clientId;
    const secret = this.secrets.get(clientId);
    if (secret === undefined) return refuse('authUnknownClient', `unknown client '${clientId}'`);
    if (!helloMacMatches(secret, clientId, channelBinding(tls), hello.frame.mac)) return refuse('authBadProof', `bad proof from '${clientId}'`);
    this.counters.inc('authenticated');
    this.latency.observe('handshake', handshakeTook(), true);
    leavePending();
    writeFrame(conn, { type: 'helloOk' });

    const req = await readFrame(conn, limits.poolIdleSeconds * 1000);
    // A reload may have removed this client or changed its secret while the stream waited:
    // close it unanswered (the client retries on a fresh stream, which authenticates anew).
    const secretNow = this.secrets.get(clientId);
    if (req.ok && secretNow !== secret) {
      this.counters.inc(secretNow === undefined ? 'authUnknownClient' : 'authBadProof');
      this.log(`client ${clientId}: ${secretNow === undefined ? 'removed' : 'secret changed'} by a configuration reload; stream closed`);
      conn.destroy();
      return;
    }
    if (!req.ok) {
      if (req.reason === 'invalid') {
        this.counters.inc('requestInvalid');
        this.log(`client ${clientId}: invalid request frame: ${req.error.message}`);
      } else this.counters.inc('poolExpired');
      conn.destroy();
      return;
    }
    if (req.frame.type !== 'request') {
      this.counters.inc('requestInvalid');
      conn.destroy();
      return;
    }
    const { requestId, target } = req.frame;
    this.counters.inc('requests');
    this.applyPathPolicy(raw, clientId, req.frame.policy);
    const requestTook = stopwatch();
    const answer = (status: StatusCode, reason: string) => {
      this.latency.observe('request', requestTook(), status === Status.ok);
      writeFrame(conn, { type: 'reply', requestId, status, reason: reason.replace(/[^\x20-\x7e]/g, '?') });
    };

    const active = this.perClient.get(clientId) ?? 0;
    const now = this.config.limits;
    if (active >= now.connectionsPerClient) {
      this.counters.inc('requestsLimited');
      answer(Status.limitReached, `client ${clientId} has ${active} connections (limit ${now.connectionsPerClient})`);
      conn.end();
      return;
    }
    this.perClient.set(clientId, active + 1);
    try {
      const outcome = await happyEyeballs(
        targetHost(target),
        target.port,
        {
          resolve: this.deps.resolve ?? resolveFamily,
          connect: (a, p) => (this.deps.connect ?? connectTcp)(a, p),
          check: (ip) => this.policy.check(ip),
        },
        { timeoutMs: now.connectTimeoutSeconds * 1000 },
      );
      if (!outcome.ok) {
        this.counters.inc(outcome.status === Status.notAllowed ? 'requestsNotAllowed' : 'requestsFailed');
        this.log(`client ${clientId}: ${formatTarget(target)}: ${statusName(outcome.status)}: ${outcome.reason}`);
        answer(outcome.status, outcome.reason);
        conn.end();
        return;
      }
      this.counters.inc('requestsOk');
      answer(Status.ok, outcome.address);
      const upstream = outcome.value;
      this.open.add(upstream);
      upstream.once('close', () => this.open.delete(upstream));
      const r = await relay(conn, upstream, now.idleTimeoutSeconds * 1000, (d, n) => this.counters.inc(d === 'aToB' ? 'bytesUp' : 'bytesDown', n));
      if (r.end === 'idle') this.counters.inc('relayIdleTimeout');
      if (r.end === 'error') this.counters.inc('relayErrors');
    } finally {
      this.perClient.set(clientId, (this.perClient.get(clientId) ?? 1) - 1);
    }
  }
}
