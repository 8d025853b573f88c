/**
 * The client's configuration (client.yaml): where the aggregator is and how to trust it,
 * the client's identity, the local listeners, optional local authentication, the stream pool,
 * timeouts, and for the userspace transport the local addresses to use as paths.
 * `parseClientConfig` returns the typed config or every problem found.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { normalizeFingerprint } from '../tls/certificate.js';
import { isValidClientId } from '../protocol/frame.js';
import { TRANSPORT_KINDS, type Endpoint, type TransportKind } from '../transport/transport.js';
import { DEFAULT_TRANSPORT } from '../transport/select.js';
import { readMetricsConfig, type MetricsConfig } from './metrics-config.js';
import { ConfigError, ConfigReader, parseEndpointText } from './reader.js';

export const MIN_SECRET_LENGTH = 16;

/** One path of the userspace transport: a local address (and optionally its device). */
export interface ClientPath {
  address: string;
  /** Used only when the other paths fail (MP_JOIN with the B flag). */
  backup: boolean;
  device: string | undefined;
}

export interface ClientConfig {
  transport: TransportKind;
  /**
   * userspace transport: the local addresses to use, one per path, in order of preference.
   * Empty: every global address of an up interface, following address changes at runtime.
   */
  paths: ClientPath[];
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
  policy: number;
  /** The metrics and status server (loopback:9464 unless configured; off with metrics: false). */
  metrics: MetricsConfig;
}

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

/** `paths:` entries: "10.0.0.2" or { address, backup?, device? }. */
function paths(r: ConfigReader): ClientPath[] {
  const n = r.listLength(['paths']);
  const out: ClientPath[] = [];
  for (let i = 0; i < n; i++) {
    const v = r.value(['paths', i]);
    const isMap = v !== null && typeof v === 'object' && !Array.isArray(v);
    const address = isMap ? r.string(['paths', i, 'address']) : r.string(['paths', i]);
    const backup = isMap ? r.boolean(['paths', i, 'backup'], false) : false;
    const device = isMap ? r.optionalString(['paths', i, 'device']) : undefined;
    if (isMap) for (const k of Object.keys(v)) if (!['address', 'backup', 'device'].includes(k)) r.problem(['paths', i, k], 'unknown key');
    if (address === undefined) continue;
    if (isIP(address) === 0) r.problem(isMap ? ['paths', i, 'address'] : ['paths', i], `'${address}' is not an IP address (a path is a local address)`);
    else if (out.some((p) => p.address === address)) r.problem(['paths', i], `duplicate path ${address}`);
    else out.push({ address, backup, device });
  }
  return out;
}

export function parseClientConfig(text: string, file = 'client.yaml'): ClientConfig {
  const r = new ConfigReader(text);
  const plaintext = r.boolean(['plaintext'], false);
  const fpText = r.optionalString(['aggregator', 'fingerprint']);
  let fingerprint: string | undefined;
  if (fpText !== undefined) {
    fingerprint = normalizeFingerprint(fpText);
    if (fingerprint === undefined) r.problem(['aggregator', 'fingerprint'], 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)');
  } else if (!plaintext) r.problem(['aggregator', 'fingerprint'], 'required (the aggregator prints it on start), unless plaintext: true');
  const clientId = r.string(['aggregator', 'clientId']) ?? '';
  if (clientId !== '' && !isValidClientId(clientId)) r.problem(['aggregator', 'clientId'], 'must be 1..64 of A-Z a-z 0-9 . _ -');
  const secret = r.string(['aggregator', 'secret']) ?? '';
  if (secret !== '' && secret.length < MIN_SECRET_LENGTH) r.problem(['aggregator', 'secret'], `must be at least ${MIN_SECRET_LENGTH} characters`);
  const username = r.optionalString(['auth', 'username']);
  const password = r.optionalString(['auth', 'password']);
  if ((username === undefined) !== (password === undefined)) r.problem(['auth'], 'username and password go together');
  const pool = { min: r.number(['pool', 'min'], 2, 0, 256), max: r.number(['pool', 'max'], 16, 0, 1024), idleSeconds: r.number(['pool', 'idleSeconds'], 50, 1, 3600) };
  if (pool.max < pool.min) r.problem(['pool', 'max'], 'must be >= pool.min');
  const cfg: ClientConfig = {
    transport: r.oneOf(['transport'], TRANSPORT_KINDS, DEFAULT_TRANSPORT),
    paths: paths(r),
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
    auth: username !== undefined && password !== undefined ? { username, password } : undefined,
    pool,
    connectTimeoutSeconds: r.number(['connectTimeoutSeconds'], 10, 0.1, 300, false),
    requestTimeoutSeconds: r.number(['requestTimeoutSeconds'], 30, 0.1, 600, false),
    handshakeTimeoutSeconds: r.number(['handshakeTimeoutSeconds'], 10, 0.1, 600, false),
    idleTimeoutSeconds: r.number(['idleTimeoutSeconds'], 300, 1, 86_400, false),
    maxHeaderBytes: r.number(['maxHeaderBytes'], 16_384, 1024, 1_048_576),
    policy: r.number(['policy'], 0, 0, 65535),
    metrics: readMetricsConfig(r, 9464),
  };
  if (cfg.paths.length > 0 && cfg.transport !== 'userspace') r.problem(['paths'], `only the userspace transport takes paths (with '${cfg.transport}', set them up in the OS)`);
  r.checkUnknownKeys();
  if (r.issues.length > 0) throw new ConfigError(file, r.issues);
  return cfg;
}

export function loadClientConfig(file: string): ClientConfig {
  return parseClientConfig(readFileSync(file, 'utf8'), file);
}
