/**
 * The metrics and status HTTP server of a client or an aggregator (fastify): GET /metrics
 * (Prometheus text format), GET /healthz, GET /api/status (JSON: paths, connections,
 * counters) and GET / (a small status page polling /api/status: per-path throughput and RTT
 * chart, path states, connections). Listens on loopback unless configured otherwise. Only
 * GET routes; anything else gets fastify's 404, and a failing route a 500, never a crash.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Endpoint } from '../transport/transport.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { statusPageHtml } from './status-page.js';

export const DEFAULT_METRICS_PORT = { client: 9464, aggregator: 9465 } as const;

export interface MetricsServer {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: Endpoint;
  close(): Promise<void>;
}

export function buildMetricsApp(metrics: ProxyMetrics): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 });
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
  app.get('/healthz', (_req, reply) => reply.send({ ok: true }));
  app.get('/api/status', (_req, reply) => reply.header('cache-control', 'no-store').send(metrics.status()));
  const page = statusPageHtml(metrics.status().role);
  app.get('/', (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'").send(page));
  return app;
}

export async function startMetricsServer(metrics: ProxyMetrics, on: Endpoint): Promise<MetricsServer> {
  const app = buildMetricsApp(metrics);
  await app.listen({ host: on.host, port: on.port });
  metrics.startSampling();
  const a = app.server.address();
  const address = a !== null && typeof a === 'object' ? { host: a.address, port: a.port } : on;
  return {
    address,
    close: () => {
      metrics.stopSampling();
      return app.close();
    },
  };
}
