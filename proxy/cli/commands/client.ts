/**
 * `mptcp-proxy client --config client.yaml`: runs the local SOCKS5/HTTP proxy that carries
 * every connection to the aggregator over a multipath stream. Prints where it listens and
 * the PAC URL and the metrics/status server (metrics: in the config); stops on SIGINT/SIGTERM. Exit status 2 for usage or configuration errors.
 */
import { Client } from '../../client/client.js';
import { ConfigError } from '../../config/reader.js';
import { loadClientConfig, type ClientConfig } from '../../config/client-config.js';
import { formatTarget, targetFromHost, isTargetError } from '../../protocol/target.js';
import { createTransport } from '../../transport/select.js';
import { parseProxyArgs, reportTransportFailure, untilSignal } from './proxy-args.js';
import type { LocalListener } from '../../client/listener.js';
import { CLIENT_COUNTER_MAP, ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { serveMetrics } from '../../metrics/serve.js';
import type { StreamTransport } from '../../transport/transport.js';

const USAGE = `Usage: mptcp-proxy client --config client.yaml

Runs the local proxy (SOCKS5 and HTTP on one port, default 127.0.0.1:1080; PAC file at
http://<listener>/proxy.pac). See config/client.example.yaml.`;

function show(host: string, port: number): string {
  const t = targetFromHost(host, port === 0 ? 1 : port);
  return isTargetError(t) ? `${host}:${port}` : formatTarget(t).replace(/:1$/, `:${port}`);
}

export async function runClient(args: string[]): Promise<number> {
  const a = parseProxyArgs(args, []);
  if ('help' in a) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ('error' in a) {
    process.stderr.write(`mptcp-proxy client: ${a.error}\n\n${USAGE}\n`);
    return 2;
  }
  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(a.config);
  } catch (e) {
    process.stderr.write(`mptcp-proxy client: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const paths = cfg.paths.map((p) => ({ address: p.address, backup: p.backup, ...(p.device !== undefined ? { device: p.device } : {}) }));
  let transport: StreamTransport;
  try {
    transport = await createTransport(cfg.transport, { userspace: paths.length > 0 ? { localAddresses: paths } : {} });
  } catch (e) {
    return reportTransportFailure('client', a.config, e);
  }
  // The metrics read the client, which reports its latencies to the metrics.
  const ref: { client?: Client } = {};
  const metrics = new ProxyMetrics({ role: 'client', counters: () => ref.client?.counters.snapshot() ?? {}, map: CLIENT_COUNTER_MAP, activeConnections: () => ref.client?.activeConnections() ?? 0, transport });
  const client = new Client(cfg, transport, undefined, metrics);
  ref.client = client;
  let listeners: LocalListener[];
  try {
    listeners = await client.start();
  } catch (e) {
    return reportTransportFailure('client', a.config, e);
  }
  for (const l of listeners) {
    const at = show(l.address.host, l.address.port);
    process.stdout.write(`client: ${l.mode === 'mixed' ? 'SOCKS5 + HTTP' : l.mode === 'socks' ? 'SOCKS5' : 'HTTP'} proxy on ${at}${l.mode !== 'socks' ? ` (PAC: http://${at}/proxy.pac)` : ''}\n`);
  }
  const over = cfg.transport === 'userspace' ? `userspace MPTCP (paths: ${paths.length > 0 ? paths.map((p) => p.address).join(', ') : 'every global address, following changes'})` : cfg.transport;
  process.stdout.write(`client: aggregator ${cfg.aggregator.host}:${cfg.aggregator.port} over ${over}${cfg.plaintext ? ', PLAINTEXT (no TLS)' : ', TLS 1.3, pinned certificate'}\n`);
  const metricsServer = await serveMetrics('client', cfg.metrics, metrics, (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`));
  const sig = await untilSignal();
  await metricsServer?.close();
  process.stdout.write(`client: ${sig}, stopping; counters ${JSON.stringify(client.counters.snapshot())}\n`);
  await client.close();
  return 0;
}
