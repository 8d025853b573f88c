/**
 * The set-up shared by the e2e files that run the proxy over our userspace MPTCP in a
 * proxy/demo/topology.ts network: the CLI built into a folder of the test's own (several e2e
 * files build at the same time, and others' runs use dist/), the web host, an aggregator and a
 * client as separate processes inside the namespaces, and the counters a process prints when
 * it stops.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Topology } from '../../../proxy/demo/topology.js';
import { startProgram, type Program } from './topology.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WEB_SERVER = join(ROOT, 'test/e2e/peers/web-server.mjs');
/** What the CLI needs in its environment for the userspace transport (the raw-socket addon). */
export const CLI_ENV = { MPTCP_RAW_ADDON: join(ROOT, 'mptcp/native/build/Release/mptcp_raw.node') };

/**
 * Builds the CLI into node_modules/.cache/<folder> (outside the linted tree, inside the project
 * so that npm imports resolve) and returns the path of its main.js. Type errors elsewhere in
 * the tree do not stop tsc from emitting: only a missing output counts.
 */
export function buildCli(folder: string): string {
  const dist = join(ROOT, 'node_modules/.cache', folder);
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    /* type errors elsewhere in the tree: the emitted JS is still there */
  }
  const cli = join(dist, 'proxy/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} missing after build`);
  return cli;
}

export interface UserspaceProxy {
  web: Program;
  aggregator: Program;
  client: Program;
  fingerprint: string;
  /** Starts the aggregator again with the same configuration and state (its certificate). */
  restartAggregator(): Promise<Program>;
  /** Starts the client again with the same configuration (or the one setClientYaml wrote). */
  restartClient(): Promise<Program>;
  /**
   * Rewrites the client's configuration with other extra YAML (top-level keys, in place of
   * `clientYaml`); a running client reloads what it can, restartClient() takes all of it.
   */
  setClientYaml(extra: string): void;
  /** Stops every process started here (idempotent). */
  stop(): Promise<void>;
}

export interface UserspaceProxyOptions {
  cli: string;
  /** Configuration files and the aggregator's state go here. */
  dir: string;
  secret: string;
  /** Extra aggregator YAML (top-level keys). */
  aggregatorYaml?: string;
  /** Extra client YAML (top-level keys). */
  clientYaml?: string;
  /** Extra environment of the client process (e.g. MPTCP_PROXY_STATE_DIR). */
  clientEnv?: Record<string, string>;
  /** The client's listener (default 127.0.0.1:1080). */
  listen?: string;
  /** Extra arguments of the web server (after its port). */
  webArgs?: string[];
}

/**
 * Starts the web host (port 8080), the aggregator (port 8443, userspace transport, the web
 * host's /24 allowed) and the client (every global address of the client host as paths) in
 * `topo`, which must exist. Resolves once the client is ready.
 */
export async function startUserspaceProxy(topo: Topology, o: UserspaceProxyOptions): Promise<UserspaceProxy> {
  const { ns, addr } = topo;
  const all: Program[] = [];
  const started = (p: Program) => {
    all.push(p);
    return p;
  };
  const web = started(startProgram(ns.web, 'node', [WEB_SERVER, '8080', ...(o.webArgs ?? [])]));
  await web.waitFor(/listening/);
  const aggConfig = join(o.dir, 'aggregator.yaml');
  const webNet = addr.web4.replace(/\.\d+$/, '.0/24');
  // No `transport:` line: userspace is the default.
  writeFileSync(aggConfig, `listen: 0.0.0.0:8443\nstateDir: ${join(o.dir, 'state')}\nclients:\n  - { id: laptop, secret: ${JSON.stringify(o.secret)} }\ndestinations:\n  allow: [${webNet}]\n${o.aggregatorYaml ?? ''}`);
  const startAggregator = async () => {
    const p = started(startProgram(ns.agg, 'node', [o.cli, 'aggregator', '--config', aggConfig], CLI_ENV));
    await p.waitFor(/listening on .* over userspace/, 30_000);
    return p;
  };
  const aggregator = await startAggregator();
  const fingerprint = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(aggregator.output())?.[1];
  if (fingerprint === undefined) throw new Error(`no fingerprint in:\n${aggregator.output()}`);
  const clientConfig = join(o.dir, 'client.yaml');
  const writeClientConfig = (extra: string) =>
    writeFileSync(clientConfig, `aggregator:\n  host: ${addr.agg1}\n  port: 8443\n  fingerprint: ${fingerprint}\n  clientId: laptop\n  secret: ${JSON.stringify(o.secret)}\nlisten: [${o.listen ?? '127.0.0.1:1080'}]\n${extra}`);
  writeClientConfig(o.clientYaml ?? '');
  const startClient = async () => {
    const p = started(startProgram(ns.client, 'node', [o.cli, 'client', '--config', clientConfig], { ...CLI_ENV, ...o.clientEnv }));
    await p.waitFor(/over userspace MPTCP/, 30_000);
    return p;
  };
  const client = await startClient();
  return {
    web,
    aggregator,
    client,
    fingerprint,
    restartAggregator: startAggregator,
    restartClient: startClient,
    setClientYaml: writeClientConfig,
    stop: async () => {
      await Promise.all(all.map((p) => p.stop()));
    },
  };
}

/**
 * Stops a client or aggregator process and returns the counters it prints on SIGTERM
 * ("<who>: SIGTERM, stopping; counters {...}").
 */
export async function stopAndReadCounters(p: Program): Promise<Record<string, number>> {
  await p.stop();
  // 'exit' can come before the last output: wait for the end of stdout.
  const stdout = p.child.stdout;
  if (stdout !== null && !stdout.readableEnded) await new Promise((r) => stdout.once('end', r));
  const m = /stopping; counters (\{.*\})/.exec(p.output());
  if (m === null) throw new Error(`no counters in the output:\n${p.output()}`);
  return JSON.parse(m[1]) as Record<string, number>;
}
