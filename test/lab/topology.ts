/**
 * Lab topologies: the declarative form (YAML files in test/lab/topologies/, or the same object
 * in code), its validation, and the resulting plan: interface names, IPv4/IPv6 addresses and
 * routing tables of every host. The shape is fixed: a client with N paths, each path through
 * the emulator namespace to the aggregator, and a web host behind the aggregator.
 *
 *   client p<i> ==veth== c<i> [emulator: userspace bridge] a<i> ==veth== p<i> aggregator
 *   aggregator web ==veth== agg web-host
 *
 * Path i (0-based) is subnet 10.100.(i+1).0/24 and fd00:100:(i+1)::/64: client .1, aggregator
 * .2. The aggregator's service address (what clients connect to) is 10.100.0.1 and fd00:100::1
 * on its loopback, reachable over every path; the client picks a path by source address
 * (policy routing: a table per source address), and its main table's default route uses the
 * primary path. The web host is 10.100.250.2 / fd00:100:250::2 and reaches only the
 * aggregator (which does not forward: the client gets to the web only through a proxy).
 * Optional: a shared bottleneck that every path's download direction crosses together
 * (shared-bottleneck.ts), and the kernel TCP congestion control of the lab's hosts (default:
 * the machine's).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { applyPathSpec, defaultPath, type PathConfig, type PathSpec } from './link-config.js';
import { planSharedBottleneck, type SharedBottleneckPlan, type SharedBottleneckSpec } from './shared-bottleneck.js';
import { LabConfigError, parseDuration, type Quantity } from './units.js';

/** MPTCP-option-stripping middlebox on a path (iptables TCPOPTSTRIP on both hosts' egress). */
export type Middlebox = 'none' | 'strip-mptcp';

export interface ScriptStepSpec extends PathSpec {
  at: Quantity;
}

export interface ScriptSpec {
  steps: ScriptStepSpec[];
  /** Start over after this long (a cyclic trace). */
  repeat?: Quantity;
}

export interface PathTopologySpec extends PathSpec {
  name: string;
  /**
   * Default true. false: a plain kernel bridge instead of the userspace emulator (no shaping,
   * no changes, no samples), for capacity runs the emulator's CPU would otherwise cap.
   */
  emulate?: boolean;
  middlebox?: Middlebox;
  script?: ScriptSpec;
}

export interface TopologySpec {
  name?: string;
  /** Default true: IPv6 addresses and routes beside IPv4. */
  ipv6?: boolean;
  /** The path of the client's default route (default: the first). */
  primary?: string;
  /** Seed of the emulators' randomness (loss, jitter, reordering); default 1. */
  seed?: number;
  /** One rate limit and queue for the download direction of all paths together (aggregator). */
  sharedBottleneck?: SharedBottleneckSpec;
  /**
   * net.ipv4.tcp_congestion_control of the client, aggregator and web hosts (plain TCP and
   * kernel MPTCP subflows). Default: the machine's, which new namespaces inherit. Outside the
   * initial namespace the kernel accepts only names in net.ipv4.tcp_allowed_congestion_control
   * (reno always; cubic on most machines, not on one whose default is bbr).
   */
  tcpCongestion?: string;
  paths: PathTopologySpec[];
}

export interface Addresses {
  v4: string;
  v6: string;
}

export interface PathPlan {
  name: string;
  index: number;
  /** Interface names: on the client and the aggregator (`p<i>`), in the emulator (c<i>, a<i>). */
  hostIf: string;
  emuClientIf: string;
  emuAggregatorIf: string;
  client: Addresses;
  aggregator: Addresses;
  /** The client's policy routing table for this path's source address. */
  table: number;
  config: PathConfig;
  emulate: boolean;
  middlebox: Middlebox;
  script: { steps: { atMs: number; config: PathConfig }[]; repeatMs: number } | undefined;
}

export interface TopologyPlan {
  name: string;
  ipv6: boolean;
  seed: number;
  primary: number;
  paths: PathPlan[];
  sharedBottleneck: SharedBottleneckPlan | undefined;
  tcpCongestion: string | undefined;
  /** The aggregator's service address (on its loopback). */
  aggregator: Addresses;
  /** The web host, and the aggregator's address on the web link. */
  web: Addresses;
  aggregatorWebSide: Addresses;
}

export const MAX_PATHS = 8;

/** Reads a topology from YAML text. */
export function parseTopologyYaml(text: string): TopologySpec {
  const v: unknown = parseYaml(text);
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { paths?: unknown }).paths)) throw new LabConfigError('topology: a mapping with a "paths" list is needed');
  return v as TopologySpec;
}

export function loadTopologyFile(file: string): TopologySpec {
  return parseTopologyYaml(readFileSync(file, 'utf8'));
}

/** Validates a topology and computes its plan. Throws LabConfigError naming the field. */
export function planTopology(spec: TopologySpec): TopologyPlan {
  const known = new Set(['name', 'ipv6', 'primary', 'seed', 'sharedBottleneck', 'tcpCongestion', 'paths']);
  for (const k of Object.keys(spec)) if (!known.has(k)) throw new LabConfigError(`topology: unknown key "${k}" (known: ${[...known].join(', ')})`);
  if (spec.paths.length < 1 || spec.paths.length > MAX_PATHS) throw new LabConfigError(`topology.paths: 1 to ${MAX_PATHS} paths`);
  const names = new Set<string>();
  const paths = spec.paths.map((p, index): PathPlan => {
    if (typeof p.name !== 'string' || !/^[A-Za-z][\w-]*$/.test(p.name)) throw new LabConfigError(`topology.paths[${index}].name: a name (letters, digits, - and _) is needed`);
    if (names.has(p.name)) throw new LabConfigError(`topology.paths: "${p.name}" twice`);
    names.add(p.name);
    const { name, middlebox, script, emulate, ...link } = p;
    if (emulate === false && (Object.keys(link).length > 0 || script !== undefined)) throw new LabConfigError(`${name}: a path with emulate: false takes no link settings or script`);
    if (middlebox !== undefined && middlebox !== 'none' && middlebox !== 'strip-mptcp') throw new LabConfigError(`${name}.middlebox: none or strip-mptcp`);
    const config = applyPathSpec(name, defaultPath(), link);
    const n = index + 1;
    return {
      name,
      index,
      hostIf: `p${index}`,
      emuClientIf: `c${index}`,
      emuAggregatorIf: `a${index}`,
      client: { v4: `10.100.${n}.1`, v6: `fd00:100:${n}::1` },
      aggregator: { v4: `10.100.${n}.2`, v6: `fd00:100:${n}::2` },
      table: 100 + index,
      config,
      emulate: emulate ?? true,
      middlebox: middlebox ?? 'none',
      script: script === undefined ? undefined : planScript(name, config, script),
    };
  });
  const primary = spec.primary === undefined ? 0 : paths.findIndex((p) => p.name === spec.primary);
  if (primary < 0) throw new LabConfigError(`topology.primary: no path named "${spec.primary}"`);
  if (spec.tcpCongestion !== undefined && (typeof spec.tcpCongestion !== 'string' || !/^[a-z][a-z0-9_]*$/.test(spec.tcpCongestion))) {
    throw new LabConfigError('topology.tcpCongestion: the name of a kernel congestion control (e.g. cubic, reno, bbr)');
  }
  return {
    name: spec.name ?? 'lab',
    ipv6: spec.ipv6 ?? true,
    seed: spec.seed ?? 1,
    primary,
    paths,
    sharedBottleneck: spec.sharedBottleneck === undefined ? undefined : planSharedBottleneck(spec.sharedBottleneck),
    tcpCongestion: spec.tcpCongestion,
    aggregator: { v4: '10.100.0.1', v6: 'fd00:100::1' },
    web: { v4: '10.100.250.2', v6: 'fd00:100:250::2' },
    aggregatorWebSide: { v4: '10.100.250.1', v6: 'fd00:100:250::1' },
  };
}

/** Resolves script steps in time order, each on top of the configuration before it. */
export function planScript(field: string, initial: PathConfig, script: ScriptSpec): { steps: { atMs: number; config: PathConfig }[]; repeatMs: number } {
  if (!Array.isArray(script.steps)) throw new LabConfigError(`${field}.script.steps: a list is needed`);
  const timed = script.steps.map(({ at, ...spec }, i) => ({ atMs: parseDuration(`${field}.script.steps[${i}].at`, at), spec, i }));
  timed.sort((a, b) => a.atMs - b.atMs || a.i - b.i);
  let config = initial;
  const steps = timed.map(({ atMs, spec, i }) => {
    config = applyPathSpec(`${field}.script.steps[${i}]`, config, spec);
    return { atMs, config };
  });
  const repeatMs = script.repeat === undefined ? 0 : parseDuration(`${field}.script.repeat`, script.repeat);
  if (repeatMs > 0 && steps.length > 0 && steps[steps.length - 1].atMs >= repeatMs) throw new LabConfigError(`${field}.script.repeat: every step must come before the repeat period`);
  return { steps, repeatMs };
}
