/**
 * The client's configuration (client.yaml): where the aggregator is and how to trust it,
 * the client's identity and secret, the local listeners, optional local authentication, the
 * stream pool, timeouts, and the policy: the paths (links) with their tiers, weights, caps and
 * data caps, the default scheduler and per-destination rules (policy-config.ts reads those).
 * `parseClientConfig` returns the typed config or throws a ConfigError with every problem.
 */
import { CONGESTION_NAMES, type CongestionName } from '../../mptcp/cc/index.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import { readFileSync } from 'node:fs';
import { normalizeFingerprint } from '../tls/certificate.js';
import { isValidClientId } from '../protocol/frame.js';
import { TRANSPORT_KINDS, type Endpoint, type TransportKind } from '../transport/transport.js';
import { DEFAULT_TRANSPORT } from '../transport/select.js';
import { readMetricsConfig, type MetricsConfig } from './metrics-config.js';
import { readPaths, readRules } from './policy-config.js';
import { SCHEDULER_NAMES, type PathConfig, type PolicyConfig, type SchedulerName } from './policy-types.js';
import { readQueueDelayBudget } from './queue-delay-budget.js';
import { readLossDemotion, type LossDemotionSetting } from './loss-demotion.js';
import { ConfigReader, parseEndpointText, processEnvironment, type ConfigEnvironment } from './reader.js';

export const MIN_SECRET_LENGTH = 16;

/** The scheduler of connections that no rule gives one. */
export const DEFAULT_SCHEDULER: SchedulerName = 'ecf';

export interface ClientConfig {
  transport: TransportKind;
  /**
   * userspace transport: congestion control of our MPTCP connections (mptcp/cc): olia (the
   * default, coupled), lia, balia, or uncoupled cubic / newreno.
   */
  congestion: CongestionName;
  /**
   * userspace transport: queueing delay (ms) each subflow may add at its path's bottleneck
   * (MptcpConfig.queueDelayBudgetMs); Infinity (`off` in YAML): the congestion window alone.
   */
  queueDelayBudgetMs: number;
  /**
   * userspace transport: loss demotion of a subflow (MptcpConfig.demoteLossRatio and
   * promoteLossRatio; `lossDemotion: off` in YAML sets demoteLossRatio 0).
   */
  lossDemotion: LossDemotionSetting;
  /**
   * The links (userspace transport): each path's local addresses or interface, tier, weight,
   * caps. Empty: every global address of an up interface, following changes at runtime.
   * The same array as policy.paths.
   */
  paths: PathConfig[];
  aggregator: { host: string; port: number; fingerprint: string | undefined; clientId: string; secret: string };
  /** TLS off between client and aggregator: only when explicitly configured. */
  plaintext: boolean;
  /** Listeners speaking SOCKS5 and HTTP (told apart by the first byte). */
  listen: Endpoint[];
  socksListen: Endpoint[];
  httpListen: Endpoint[];
  /** Local credentials (SOCKS5 RFC 1929 and HTTP Proxy-Authorization Basic), if required. */
  auth: { username: string; password: string } | undefined;
  pool: { min: number; max: number; idleSeconds: number };
  /** Opening a stream to the aggregator (transport, TLS, HELLO). */
  connectTimeoutSeconds: number;
  /** Waiting for the aggregator's REPLY (it includes the destination's connect). */
  requestTimeoutSeconds: number;
  /** SOCKS5 greeting/request or HTTP head from the application. */
  handshakeTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  maxHeaderBytes: number;
  /** Default scheduler, paths and rules per destination (policy-match.ts picks a rule). */
  policy: PolicyConfig;
  /** The metrics and status server (loopback:9464 unless configured; off with metrics: false). */
  metrics: MetricsConfig;
}

/** Keys that existed once, and what to do about them. */
const REMOVED_KEYS: Record<string, string> = {
  policy: "the numeric 'policy' placeholder is gone: delete this line (the policy is scheduler:, paths: and rules:)",
};

function endpoints(r: ConfigReader, key: string, dflt: Endpoint[]): Endpoint[] {
  const n = r.listLength([key]);
  if (r.value([key]) === undefined) return dflt;
  const out: Endpoint[] = [];
  for (let i = 0; i < n; i++) {
    const text = r.string([key, i]);
    if (text === undefined) continue;
    const e = parseEndpointText(text, '127.0.0.1');
    if (typeof e === 'string') r.problem([key, i], e);
    else out.push(e);
  }
  return out;
}

/**
 * Parses client.yaml. `environment`: where `{ env: NAME }` and `{ file: PATH }` secrets are
 * read (default: process.env and the file system).
 */
export function parseClientConfig(text: string, file = 'client.yaml', environment: ConfigEnvironment = processEnvironment()): ClientConfig {
  const r = new ConfigReader(text, environment, file);
  if (r.syntaxBroken) r.finish(file);
  const plaintext = r.boolean(['plaintext'], false);
  r.section(['aggregator']);
  const fpText = r.optionalString(['aggregator', 'fingerprint']);
  let fingerprint: string | undefined;
  if (fpText !== undefined) {
    fingerprint = normalizeFingerprint(fpText);
    if (fingerprint === undefined) r.problem(['aggregator', 'fingerprint'], `'${fpText}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  } else if (!plaintext) r.problem(['aggregator', 'fingerprint'], 'required (the aggregator prints it on start), unless plaintext: true');
  const clientId = r.string(['aggregator', 'clientId']) ?? '';
  if (clientId !== '' && !isValidClientId(clientId)) r.problem(['aggregator', 'clientId'], `'${clientId}' is not a client id (1..64 of A-Z a-z 0-9 . _ -)`);
  const secret = r.secret(['aggregator', 'secret']) ?? '';
  if (secret !== '' && secret.length < MIN_SECRET_LENGTH) r.problem(['aggregator', 'secret'], `must be at least ${MIN_SECRET_LENGTH} characters (it has ${secret.length})`);
  let auth: ClientConfig['auth'];
  if (r.section(['auth'])) {
    const username = r.string(['auth', 'username']);
    const password = r.secret(['auth', 'password']);
    if (username !== undefined && password !== undefined) auth = { username, password };
  }
  r.section(['pool']);
  const pool = { min: r.number(['pool', 'min'], 2, 0, 256), max: r.number(['pool', 'max'], 16, 0, 1024), idleSeconds: r.number(['pool', 'idleSeconds'], 50, 1, 3600) };
  if (pool.max < pool.min) r.problem(['pool', 'max'], `${pool.max} is below pool.min (${pool.min})`);
  const paths = readPaths(r);
  const policy: PolicyConfig = { scheduler: r.oneOf(['scheduler'], SCHEDULER_NAMES, DEFAULT_SCHEDULER), paths, rules: readRules(r, paths) };
  const cfg: ClientConfig = {
    transport: r.oneOf(['transport'], TRANSPORT_KINDS, DEFAULT_TRANSPORT),
    congestion: r.oneOf(['congestion'], CONGESTION_NAMES, DEFAULT_MPTCP_CONFIG.congestion),
    queueDelayBudgetMs: readQueueDelayBudget(r),
    lossDemotion: readLossDemotion(r),
    paths,
    aggregator: {
      host: r.string(['aggregator', 'host']) ?? '',
      port: r.number(['aggregator', 'port'], 8443, 1, 65535),
      fingerprint,
      clientId,
      secret,
    },
    plaintext,
    listen: endpoints(r, 'listen', [{ host: '127.0.0.1', port: 1080 }]),
    socksListen: endpoints(r, 'socksListen', []),
    httpListen: endpoints(r, 'httpListen', []),
    auth,
    pool,
    connectTimeoutSeconds: r.number(['connectTimeoutSeconds'], 10, 0.1, 300, false),
    requestTimeoutSeconds: r.number(['requestTimeoutSeconds'], 30, 0.1, 600, false),
    handshakeTimeoutSeconds: r.number(['handshakeTimeoutSeconds'], 10, 0.1, 600, false),
    idleTimeoutSeconds: r.number(['idleTimeoutSeconds'], 300, 1, 86_400, false),
    maxHeaderBytes: r.number(['maxHeaderBytes'], 16_384, 1024, 1_048_576),
    policy,
    metrics: readMetricsConfig(r, 9464),
  };
  if (cfg.paths.length > 0 && cfg.transport !== 'userspace') r.problem(['paths'], `only the userspace transport takes paths (with '${cfg.transport}', set them up in the OS)`);
  r.checkUnknownKeys(REMOVED_KEYS);
  r.finish(file);
  return cfg;
}

export function loadClientConfig(file: string, environment: ConfigEnvironment = processEnvironment()): ClientConfig {
  return parseClientConfig(readFileSync(file, 'utf8'), file, environment);
}
