/**
 * Starting the metrics server from the CLI: a port that is taken or an address that does not
 * exist is reported on stderr and the proxy runs on without metrics (metrics must never stop
 * the proxy). Prints where /metrics and the status page are.
 */
import type { MetricsConfig } from '../config/metrics-config.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { startMetricsServer, type MetricsServer } from './server.js';

export async function serveMetrics(role: string, cfg: MetricsConfig, metrics: ProxyMetrics, out: (line: string) => void, err: (line: string) => void): Promise<MetricsServer | undefined> {
  if (cfg.listen === undefined) return undefined;
  try {
    const s = await startMetricsServer(metrics, cfg.listen);
    const host = s.address.host.includes(':') ? `[${s.address.host}]` : s.address.host;
    out(`${role}: metrics on http://${host}:${s.address.port}/metrics, status page http://${host}:${s.address.port}/`);
    return s;
  } catch (e) {
    err(`${role}: metrics server not started on ${cfg.listen.host}:${cfg.listen.port}: ${e instanceof Error ? e.message : String(e)} (set metrics.listen or metrics: false)`);
    return undefined;
  }
}
