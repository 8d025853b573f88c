/**
 * The `metrics:` section shared by client.yaml and aggregator.yaml: where the metrics and
 * status server listens. Absent: on loopback at the role's default port; `metrics: false` or
 * `metrics: { enabled: false }` turns it off; `metrics: { listen: "0.0.0.0:9464" }` exposes
 * it (only do that behind a firewall: the status page has no authentication).
 */
import type { Endpoint } from '../transport/transport.js';
import { parseEndpointText, type ConfigReader } from './reader.js';
import { describeValue } from './units.js';

export interface MetricsConfig {
  /** Undefined: no metrics server. */
  listen: Endpoint | undefined;
}

export function readMetricsConfig(r: ConfigReader, defaultPort: number): MetricsConfig {
  const dflt: Endpoint = { host: '127.0.0.1', port: defaultPort };
  const v = r.value(['metrics']);
  if (v === undefined || v === null) return { listen: dflt };
  if (v === false) return { listen: undefined };
  if (typeof v !== 'object' || Array.isArray(v)) {
    r.problem(['metrics'], `expected false or a map with listen (host:port) and enabled, got ${describeValue(v)}`);
    return { listen: dflt };
  }
  const enabled = r.boolean(['metrics', 'enabled'], true);
  const text = r.optionalString(['metrics', 'listen']);
  let listen = dflt;
  if (text !== undefined) {
    const e = parseEndpointText(text, '127.0.0.1');
    if (typeof e === 'string') r.problem(['metrics', 'listen'], e);
    else listen = e;
  }
  return { listen: enabled ? listen : undefined };
}
