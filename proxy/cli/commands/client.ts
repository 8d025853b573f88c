/**
 * `mptcp-proxy client --config client.yaml`: runs the local SOCKS5/HTTP proxy that carries
 * every connection to the aggregator over a multipath stream. Prints where it listens and
 * the PAC URL and the metrics/status server (metrics: in the config); stops on SIGINT/SIGTERM.
 * Reloads the configuration on SIGHUP and when the file changes (an invalid file is refused
 * and the running configuration kept). Exit status 2 for usage or configuration errors.
 */
import { join } from 'node:path';
import { homedir, networkInterfaces } from 'node:os';
import { Client } from '../../client/client.js';
import { ConfigError } from '../../config/reader.js';
import { loadClientConfig, parseClientConfig, type ClientConfig } from '../../config/client-config.js';
import { ConfigWatcher } from '../../config/config-watcher.js';
import type { PathConfig } from '../../config/policy-types.js';
import { formatTarget, targetFromHost, isTargetError } from '../../protocol/target.js';
import { createTransport } from '../../transport/select.js';
import { onReloadSignal, parseProxyArgs, reportTransportFailure, untilSignal } from './proxy-args.js';
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

/** A path's addresses for the userspace transport: its own, or its interface's global addresses now. */
export function transportPaths(paths: readonly PathConfig[], interfaces = networkInterfaces()): { address: string; backup: boolean; device?: string }[] {
  const out: { address: string; backup: boolean; device?: string }[] = [];
  for (const p of paths) {
    if (!p.enabled) continue;
    const own = p.addresses.length > 0 ? p.addresses : (interfaces[p.interface ?? ''] ?? []).filter((a) => !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80'))).map((a) => a.address);
    for (const address of own) out.push({ address, backup: p.tier > 0, ...(p.interface !== undefined ? { device: p.interface } : {}) });
  }
  return out;
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
  const paths = transportPaths(cfg.paths);
  const unaddressed = cfg.paths.filter((p) => p.enabled && p.addresses.length === 0 && !paths.some((t) => t.device === p.interface));
  for (const p of unaddressed) process.stderr.write(`client: path '${p.name}': interface ${p.interface ?? '?'} has no global address now; restart once it has one\n`);
  if (cfg.paths.length > 0 && paths.length === 0) {
    process.stderr.write(`mptcp-proxy client: no configured path is enabled and has an address (${a.config})\n`);
    return 1;
  }
  // The metrics read the client, which reports its latencies to the metrics.
  const ref: { client?: Client } = {};
  const pathName = (address: string) => ref.client?.pathNameOf(address);
  let transport: StreamTransport;
  try {
    transport = await createTransport(cfg.transport, { userspace: paths.length > 0 ? { localAddresses: paths, pathName, congestion: cfg.congestion, queueDelayBudgetMs: cfg.queueDelayBudgetMs, lossDemotion: cfg.lossDemotion } : { pathName, congestion: cfg.congestion, queueDelayBudgetMs: cfg.queueDelayBudgetMs, lossDemotion: cfg.lossDemotion } });
  } catch (e) {
    return reportTransportFailure('client', a.config, e);
  }
  const metrics = new ProxyMetrics({ role: 'client', counters: () => ref.client?.counters.snapshot() ?? {}, map: CLIENT_COUNTER_MAP, activeConnections: () => ref.client?.activeConnections() ?? 0, transport, dataCaps: () => ref.client?.dataCapUsage() ?? [] });
  const usageFile = dataCapStateFile();
  const client = new Client(cfg, transport, undefined, metrics, usageFile);
  if (cfg.policy.paths.some((p) => p.dataCap)) process.stdout.write(`client: data-cap usage kept in ${usageFile}\n`);
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
  const over = cfg.transport === 'userspace' ? `userspace MPTCP (paths: ${paths.length > 0 ? cfg.paths.filter((p) => p.enabled).map((p) => `${p.name} ${p.addresses.join(' ') || p.interface || ''}`).join(', ') : 'every global address, following changes'})` : cfg.transport;
  process.stdout.write(`client: aggregator ${cfg.aggregator.host}:${cfg.aggregator.port} over ${over}${cfg.plaintext ? ', PLAINTEXT (no TLS)' : ', TLS 1.3, pinned certificate'}\n`);
  if (cfg.transport !== 'userspace' && (cfg.policy.paths.length > 0 || cfg.policy.rules.length > 0)) process.stdout.write(`client: the ${cfg.transport} transport cannot apply the path policy (scheduler, tiers, weights, caps, rules)${cfg.transport === 'kernel' ? ': only backup priority, from ip mptcp endpoints flagged backup' : ''}\n`);
  const metricsServer = await serveMetrics('client', cfg.metrics, metrics, (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`));
  const watcher = new ConfigWatcher({ file: a.config, initial: cfg, parse: (text, file) => parseClientConfig(text, file), apply: (next) => void client.applyConfig(next), reject: (e) => client.configRejected(e) });
  watcher.start();
  const stopReloading = onReloadSignal(() => void watcher.reload());
  const sig = await untilSignal();
  stopReloading();
  watcher.close();
  await metricsServer?.close();
  process.stdout.write(`client: ${sig}, stopping; counters ${JSON.stringify(client.counters.snapshot())}\n`);
  await client.close();
  return 0;
}

/**
 * Where data-cap usage survives restarts: $MPTCP_PROXY_STATE_DIR, else /var/lib/mptcp-proxy
 * for root, else $XDG_STATE_HOME/mptcp-proxy (~/.local/state/mptcp-proxy).
 */
function dataCapStateFile(): string {
  const dir = process.env.MPTCP_PROXY_STATE_DIR ?? (process.getuid?.() === 0 ? '/var/lib/mptcp-proxy' : join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local/state'), 'mptcp-proxy'));
  return join(dir, 'client-data-usage.json');
}
