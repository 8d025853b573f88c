/**
 * The aggregator's configuration (aggregator.yaml): listener and transport, TLS state
 * directory, the clients and their secrets, limits and the destination policy (allow-list of
 * CIDRs on top of the default refusals). `parseAggregatorConfig` returns the typed config or
 * throws a ConfigError with every problem found. Client secrets may come from the environment
 * or files (`{ env: NAME }`, `{ file: PATH }`).
 */
import { CONGESTION_NAMES, type CongestionName } from '../../mptcp/cc/index.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseCidr, type Cidr } from '../protocol/ip.js';
import { isValidClientId } from '../protocol/frame.js';
import { TRANSPORT_KINDS, type Endpoint, type TransportKind } from '../transport/transport.js';
import { DEFAULT_TRANSPORT } from '../transport/select.js';
import { MIN_SECRET_LENGTH } from './client-config.js';
import { readMetricsConfig, type MetricsConfig } from './metrics-config.js';
import { describeValue } from './units.js';
import { readQueueDelayBudget } from './queue-delay-budget.js';
import { readLossDemotion, type LossDemotionSetting } from './loss-demotion.js';
import { ConfigReader, parseEndpointText, processEnvironment, type ConfigEnvironment } from './reader.js';

export interface AggregatorConfig {
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
  listen: Endpoint;
  plaintext: boolean;
  stateDir: string;
  /** The address clients use, for the printed client config (default: the listen host). */
  publicHost: string | undefined;
  clients: { id: string; secret: string }[];
  limits: {
    connectionsPerClient: number;
    connectTimeoutSeconds: number;
    idleTimeoutSeconds: number;
    /** How long a fresh stream may take to authenticate. */
    helloTimeoutSeconds: number;
    /** How long an authenticated stream may wait in the client's pool for its request. */
    poolIdleSeconds: number;
    /** Unauthenticated streams are closed this long after they were accepted. */
    refusalDelayMs: number;
    /** Streams still in TLS or HELLO at once; more are closed at once (counted). */
    maxUnauthenticated: number;
  };
  destinations: { allow: Cidr[]; deny: Cidr[] };
  /** The metrics and status server (loopback:9465 unless configured; off with metrics: false). */
  metrics: MetricsConfig;
}

function cidrs(r: ConfigReader, path: string[]): Cidr[] {
  const n = r.listLength(path);
  const out: Cidr[] = [];
  for (let i = 0; i < n; i++) {
    const t = r.string([...path, i]);
    if (t === undefined) continue;
    const c = parseCidr(t);
    if (c === undefined) r.problem([...path, i], `'${t}' is not an IP address or CIDR prefix (e.g. 10.20.0.0/16, 2001:db8::/32)`);
    else out.push(c);
  }
  return out;
}

/**
 * Parses aggregator.yaml. `environment`: where `{ env: NAME }` and `{ file: PATH }` secrets are
 * read (default: process.env and the file system).
 */
export function parseAggregatorConfig(text: string, file = 'aggregator.yaml', environment: ConfigEnvironment = processEnvironment()): AggregatorConfig {
  const r = new ConfigReader(text, environment, file);
  if (r.syntaxBroken) r.finish(file);
  const listenText = r.string(['listen'], '127.0.0.1:8443') ?? '127.0.0.1:8443';
  let listen: Endpoint = { host: '127.0.0.1', port: 8443 };
  const e = parseEndpointText(listenText, '127.0.0.1');
  if (typeof e === 'string') r.problem(['listen'], e);
  else listen = e;
  const clients: { id: string; secret: string }[] = [];
  const n = r.listLength(['clients']);
  if (n === 0) r.problem(['clients'], 'at least one client (id and secret) is required');
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (!r.isMap(['clients', i])) {
      r.problem(['clients', i], `expected a map with id and secret, got ${describeValue(r.value(['clients', i]))}`);
      continue;
    }
    const id = r.string(['clients', i, 'id']);
    const secret = r.secret(['clients', i, 'secret']);
    if (id !== undefined && !isValidClientId(id)) r.problem(['clients', i, 'id'], `'${id}' is not a client id (1..64 of A-Z a-z 0-9 . _ -)`);
    else if (id !== undefined && ids.has(id)) r.problem(['clients', i, 'id'], `duplicate client id '${id}'`);
    if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) r.problem(['clients', i, 'secret'], `must be at least ${MIN_SECRET_LENGTH} characters (it has ${secret.length})`);
    if (id === undefined || secret === undefined) continue;
    ids.add(id);
    clients.push({ id, secret });
  }
  r.section(['limits']);
  r.section(['destinations']);
  const cfg: AggregatorConfig = {
    transport: r.oneOf(['transport'], TRANSPORT_KINDS, DEFAULT_TRANSPORT),
    congestion: r.oneOf(['congestion'], CONGESTION_NAMES, DEFAULT_MPTCP_CONFIG.congestion),
    queueDelayBudgetMs: readQueueDelayBudget(r),
    lossDemotion: readLossDemotion(r),
    listen,
    plaintext: r.boolean(['plaintext'], false),
    stateDir: r.string(['stateDir'], '/var/lib/mptcp-proxy') ?? '/var/lib/mptcp-proxy',
    publicHost: r.optionalString(['publicHost']),
    clients,
    limits: {
      connectionsPerClient: r.number(['limits', 'connectionsPerClient'], 512, 1, 1_000_000),
      connectTimeoutSeconds: r.number(['limits', 'connectTimeoutSeconds'], 10, 0.1, 300, false),
      idleTimeoutSeconds: r.number(['limits', 'idleTimeoutSeconds'], 300, 1, 86_400, false),
      helloTimeoutSeconds: r.number(['limits', 'helloTimeoutSeconds'], 10, 0.1, 300, false),
      poolIdleSeconds: r.number(['limits', 'poolIdleSeconds'], 60, 1, 3600, false),
      refusalDelayMs: r.number(['limits', 'refusalDelayMs'], 1000, 0, 60_000),
      maxUnauthenticated: r.number(['limits', 'maxUnauthenticated'], 256, 1, 1_000_000),
    },
    destinations: { allow: cidrs(r, ['destinations', 'allow']), deny: cidrs(r, ['destinations', 'deny']) },
    metrics: readMetricsConfig(r, 9465),
  };
  if (cfg.transport === 'userspace') {
    // Raw sockets are opened per local address, on a known port.
    if (isIP(cfg.listen.host) === 0) r.problem(['listen'], `the userspace transport listens on an IP address or 0.0.0.0 / [::], not '${cfg.listen.host}'`);
    if (cfg.listen.port === 0) r.problem(['listen'], 'the userspace transport needs an explicit port');
  }
  r.checkUnknownKeys();
  r.finish(file);
  return cfg;
}

export function loadAggregatorConfig(file: string, environment: ConfigEnvironment = processEnvironment()): AggregatorConfig {
  return parseAggregatorConfig(readFileSync(file, 'utf8'), file, environment);
}
