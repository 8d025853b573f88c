/**
 * What a configuration reload may change in a running client or aggregator. Given the running
 * and the newly read configuration, returns the configuration to run from now on (the new one
 * with every setting that needs a restart kept as it was), the settings that changed and
 * were applied, and those that need a restart. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AggregatorConfig } from './aggregator-config.js';
import type { ClientConfig } from './client-config.js';

export interface ReloadPlan<T> {
  /** The configuration to run with: the new one, restart-only settings as they were. */
  config: T;
  /** Settings (dotted paths) that changed and take effect now. */
  applied: string[];
  /** Settings that changed but take effect only after a restart. */
  needsRestart: string[];
}

type Setting<T> = readonly [name: string, get: (c: T) => unknown];

/** The transport opens the paths once: their identity, addresses, interface, tier and enabled flag. */
const pathsAsOpened = (c: ClientConfig) => c.paths.map((p) => ({ name: p.name, addresses: p.addresses, interface: p.interface, tier: p.tier, enabled: p.enabled }));

const CLIENT_RESTART: readonly Setting<ClientConfig>[] = [
  ['transport', (c) => c.transport],
  ['congestion', (c) => c.congestion],
  ['queueDelayBudgetMs', (c) => c.queueDelayBudgetMs],
  ['lossDemotion', (c) => c.lossDemotion],
  ['plaintext', (c) => c.plaintext],
  ['listen', (c) => c.listen],
  ['socksListen', (c) => c.socksListen],
  ['httpListen', (c) => c.httpListen],
  ['aggregator.host', (c) => c.aggregator.host],
  ['aggregator.port', (c) => c.aggregator.port],
  ['aggregator.fingerprint', (c) => c.aggregator.fingerprint],
  ['metrics', (c) => c.metrics],
  ['paths', pathsAsOpened],
];

const CLIENT_SETTINGS: readonly Setting<ClientConfig>[] = [
  ['aggregator.clientId', (c) => c.aggregator.clientId],
  ['aggregator.secret', (c) => c.aggregator.secret],
  ['auth', (c) => c.auth],
  ['pool', (c) => c.pool],
  ['connectTimeoutSeconds', (c) => c.connectTimeoutSeconds],
  ['requestTimeoutSeconds', (c) => c.requestTimeoutSeconds],
  ['handshakeTimeoutSeconds', (c) => c.handshakeTimeoutSeconds],
  ['idleTimeoutSeconds', (c) => c.idleTimeoutSeconds],
  ['maxHeaderBytes', (c) => c.maxHeaderBytes],
  ['scheduler', (c) => c.policy.scheduler],
  ['paths', (c) => c.paths],
  ['rules', (c) => c.policy.rules],
];

const AGGREGATOR_RESTART: readonly Setting<AggregatorConfig>[] = [
  ['transport', (c) => c.transport],
  ['congestion', (c) => c.congestion],
  ['queueDelayBudgetMs', (c) => c.queueDelayBudgetMs],
  ['lossDemotion', (c) => c.lossDemotion],
  ['listen', (c) => c.listen],
  ['plaintext', (c) => c.plaintext],
  ['stateDir', (c) => c.stateDir],
  ['publicHost', (c) => c.publicHost],
  ['metrics', (c) => c.metrics],
];

const AGGREGATOR_SETTINGS: readonly Setting<AggregatorConfig>[] = [
  ['clients', (c) => c.clients],
  ['limits', (c) => c.limits],
  ['destinations', (c) => c.destinations],
];

function changed<T>(settings: readonly Setting<T>[], a: T, b: T): string[] {
  return settings.filter(([, get]) => !isDeepStrictEqual(get(a), get(b))).map(([name]) => name);
}

/**
 * Client: auth, timeouts, pool sizes, maxHeaderBytes, clientId and secret (new streams) and
 * the policy take effect; listeners, transport, the aggregator's address and fingerprint,
 * plaintext, metrics and the paths as the transport opened them need a restart (while they
 * differ, the whole policy is kept as it was: its rules name those paths).
 */
export function planClientReload(running: ClientConfig, next: ClientConfig): ReloadPlan<ClientConfig> {
  const needsRestart = changed(CLIENT_RESTART, running, next);
  const keepPolicy = needsRestart.includes('paths');
  const config: ClientConfig = {
    ...next,
    transport: running.transport,
    plaintext: running.plaintext,
    listen: running.listen,
    socksListen: running.socksListen,
    httpListen: running.httpListen,
    aggregator: { ...next.aggregator, host: running.aggregator.host, port: running.aggregator.port, fingerprint: running.aggregator.fingerprint },
    metrics: running.metrics,
    paths: keepPolicy ? running.paths : next.paths,
    policy: keepPolicy ? running.policy : next.policy,
  };
  return { config, applied: changed(CLIENT_SETTINGS, running, config), needsRestart };
}

/** Aggregator: clients, limits and destinations take effect; the rest needs a restart. */
export function planAggregatorReload(running: AggregatorConfig, next: AggregatorConfig): ReloadPlan<AggregatorConfig> {
  const needsRestart = changed(AGGREGATOR_RESTART, running, next);
  const config: AggregatorConfig = {
    ...next,
    transport: running.transport,
    listen: running.listen,
    plaintext: running.plaintext,
    stateDir: running.stateDir,
    publicHost: running.publicHost,
    metrics: running.metrics,
  };
  return { config, applied: changed(AGGREGATOR_SETTINGS, running, config), needsRestart };
}

/** The log lines for an applied reload: what was applied, and what waits for a restart. */
export function reloadLogLines<T>(plan: ReloadPlan<T>): string[] {
  const lines = [`configuration reloaded${plan.applied.length > 0 ? `; applied: ${plan.applied.join(', ')}` : '; nothing to apply'}`];
  if (plan.needsRestart.length > 0) lines.push(`configuration: needs a restart: ${plan.needsRestart.join(', ')} (kept as they were until then)`);
  return lines;
}

/** The log line for a refused reload (a ConfigError's message lists every problem). */
export function rejectedReloadLogLine(error: unknown): string {
  return `configuration reload refused, keeping the running configuration: ${error instanceof Error ? error.message : String(error)}`;
}
