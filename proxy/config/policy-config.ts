/**
 * Reading the policy part of client.yaml (issue 6 §2) into the types of policy-types.ts:
 * `paths:` (named links with addresses or an interface, role or tier, weight, rate caps, data
 * cap, keepalive; the older forms, a bare address or { address, backup, device }, still read)
 * and `rules:` (per destination: hosts, cidrs, ports; scheduler; paths and excludePaths).
 * Checks what a single field cannot: unique names and addresses, rule path references.
 */
import { isIP } from 'node:net';
import { formatIp, parseCidr, parseIp, type Cidr } from '../protocol/ip.js';
import { MAX_TIER, SCHEDULER_NAMES, type DataCap, type DataCapPeriod, type PathConfig, type PolicyRule, type PortRange, type RuleMatch } from './policy-types.js';
import type { ConfigPath, ConfigReader } from './reader.js';
import { describeValue, nearest, parseDuration, parseRate, parseSize } from './units.js';

const NAME = /^[A-Za-z0-9._-]{1,32}$/;
const NAME_HELP = '1..32 of A-Z a-z 0-9 . _ -';
/** Linux interface names: at most 15 characters (IFNAMSIZ - 1), no slash or space. */
const INTERFACE = /^[A-Za-z0-9._@:+-]{1,15}$/;
/** Host globs: letters, digits, dots, dashes and `*`. */
const GLOB = /^[A-Za-z0-9*.-]+$/;
const MAX_RATE_BPS = 1e12;
const MAX_CAP_BYTES = 1e18;

function normalizedAddress(text: string): string {
  const b = parseIp(text);
  return b !== undefined ? formatIp(b) : text;
}

/** `paths:` of the client: the links, each a PathConfig. */
export function readPaths(r: ConfigReader): PathConfig[] {
  const out: PathConfig[] = [];
  const byName = new Map<string, PathConfig>();
  const byAddress = new Map<string, string>();
  const n = r.listLength(['paths']);
  for (let i = 0; i < n; i++) {
    const at: ConfigPath = ['paths', i];
    const v = r.value(at);
    let path: PathConfig | undefined;
    if (typeof v === 'string' || typeof v === 'number') {
      // The older form: a bare local address.
      const address = String(v);
      if (isIP(address) === 0) r.problem(at, `${describeValue(v)} is not an IP address (a path given as text is a local address; use { name, interface } for a device)`);
      else path = { name: `path-${i}`, addresses: [address], interface: undefined, enabled: true, tier: 0, weight: 1, uploadRateBps: undefined, downloadRateBps: undefined, dataCap: undefined, keepaliveSeconds: undefined };
    } else if (!r.isMap(at)) r.problem(at, `expected a local address or a map (name, address or interface, role...), got ${describeValue(v)}`);
    else path = readPathMap(r, at, i);
    if (path === undefined) continue;
    if (byName.has(path.name)) {
      r.problem(r.value([...at, 'name']) !== undefined ? [...at, 'name'] : at, `duplicate path name '${path.name}'`);
      continue;
    }
    byName.set(path.name, path);
    path.addresses.forEach((a, k) => {
      const key = normalizedAddress(a);
      const owner = byAddress.get(key);
      const where: ConfigPath = typeof v === 'string' || typeof v === 'number' ? at : r.value([...at, 'address']) !== undefined ? [...at, 'address'] : [...at, 'addresses', k];
      if (owner !== undefined) r.problem(where, `address ${a} is already path '${owner}' (each address belongs to one path)`);
      else byAddress.set(key, path.name);
    });
    out.push(path);
  }
  return out;
}

function readAddresses(r: ConfigReader, at: ConfigPath): string[] {
  const one = r.optionalString([...at, 'address']);
  const many = r.value([...at, 'addresses']);
  const list: { text: string; where: ConfigPath }[] = [];
  if (one !== undefined) list.push({ text: one, where: [...at, 'address'] });
  if (many !== undefined && many !== null) {
    if (one !== undefined) r.keyProblem([...at, 'addresses'], 'address and addresses are mutually exclusive (put every address in addresses)');
    const n = r.listLength([...at, 'addresses']);
    for (let k = 0; k < n; k++) {
      const t = r.string([...at, 'addresses', k]);
      if (t !== undefined) list.push({ text: t, where: [...at, 'addresses', k] });
    }
  }
  const out: string[] = [];
  for (const { text, where } of list) {
    if (isIP(text) === 0) r.problem(where, `'${text}' is not an IP address (use interface: for a device name)`);
    else out.push(text);
  }
  return out;
}

function readPathMap(r: ConfigReader, at: ConfigPath, index: number): PathConfig | undefined {
  let name = r.optionalString([...at, 'name']) ?? `path-${index}`;
  if (!NAME.test(name)) {
    r.problem([...at, 'name'], `'${name}' is not a valid path name (${NAME_HELP})`);
    name = `path-${index}`;
  }
  const addresses = readAddresses(r, at);
  const iface = r.optionalString([...at, 'interface']);
  const device = r.optionalString([...at, 'device']);
  if (iface !== undefined && device !== undefined) r.keyProblem([...at, 'device'], 'device is the older name of interface: give only interface');
  const ifName = iface ?? device;
  if (ifName !== undefined && !INTERFACE.test(ifName)) r.problem([...at, iface !== undefined ? 'interface' : 'device'], `'${ifName}' is not an interface name (1..15 of A-Z a-z 0-9 . _ @ : + -)`);
  const hasAddress = r.value([...at, 'address']) !== undefined || r.value([...at, 'addresses']) !== undefined;
  if (!hasAddress && ifName === undefined) r.problem(at, 'a path needs address, addresses or interface');

  const role = r.optionalOneOf([...at, 'role'], ['primary', 'backup'] as const);
  const tier = r.optionalNumber([...at, 'tier'], 0, MAX_TIER);
  const backup = r.value([...at, 'backup']) !== undefined ? r.boolean([...at, 'backup'], false) : undefined;
  const given = (['role', 'tier', 'backup'] as const).filter((k) => r.value([...at, k]) !== undefined);
  if (given.length > 1) r.keyProblem([...at, given[1]], `${given.join(' and ')} are mutually exclusive (role: primary | backup, or tier: 0..${MAX_TIER})`);

  return {
    name,
    addresses,
    interface: ifName,
    enabled: r.boolean([...at, 'enabled'], true),
    tier: tier ?? (role === 'backup' || backup === true ? 1 : 0),
    weight: r.number([...at, 'weight'], 1, 1, 1000),
    uploadRateBps: rounded(r.quantity([...at, 'upload'], parseRate, 1000, MAX_RATE_BPS, 'bit/s')),
    downloadRateBps: rounded(r.quantity([...at, 'download'], parseRate, 1000, MAX_RATE_BPS, 'bit/s')),
    dataCap: readDataCap(r, [...at, 'dataCap']),
    keepaliveSeconds: r.quantity([...at, 'keepalive'], parseDuration, 1, 7200, 'seconds'),
  };
}

function rounded(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.round(n);
}

function readDataCap(r: ConfigReader, at: ConfigPath): DataCap | undefined {
  if (!r.section(at)) return undefined;
  const limit = r.quantity([...at, 'limit'], parseSize, 1, MAX_CAP_BYTES, 'bytes');
  if (r.value([...at, 'limit']) === undefined) r.problem([...at, 'limit'], 'required (e.g. limit: 30GB)');
  const period: DataCapPeriod = r.oneOf([...at, 'period'], ['day', 'week', 'month'] as const, 'month');
  let resetDay = 0;
  if (period === 'month') resetDay = r.number([...at, 'resetDay'], 1, 1, 28);
  else if (period === 'week') resetDay = r.number([...at, 'resetDay'], 1, 0, 6);
  else if (r.value([...at, 'resetDay']) !== undefined) r.problem([...at, 'resetDay'], 'has no meaning with period: day (omit it)');
  return limit === undefined ? undefined : { bytes: Math.round(limit), period, resetDay };
}

/** `rules:` of the client, checked against the paths they name. */
export function readRules(r: ConfigReader, paths: readonly PathConfig[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const names = new Set<string>();
  const n = r.listLength(['rules']);
  for (let i = 0; i < n; i++) {
    const at: ConfigPath = ['rules', i];
    if (!r.isMap(at)) {
      r.problem(at, `expected a map (name, match, scheduler, paths, excludePaths), got ${describeValue(r.value(at))}`);
      continue;
    }
    let name = r.optionalString([...at, 'name']) ?? `rule-${i}`;
    if (!NAME.test(name)) {
      r.problem([...at, 'name'], `'${name}' is not a valid rule name (${NAME_HELP})`);
      name = `rule-${i}`;
    } else if (names.has(name)) r.problem([...at, 'name'], `duplicate rule name '${name}'`);
    names.add(name);
    const match = readMatch(r, [...at, 'match']);
    const scheduler = r.optionalOneOf([...at, 'scheduler'], SCHEDULER_NAMES);
    const only = r.value([...at, 'paths']) !== undefined ? pathNames(r, [...at, 'paths'], paths) : undefined;
    if (only !== undefined && only.length === 0 && r.listLength([...at, 'paths']) === 0) r.problem([...at, 'paths'], 'names no path (omit paths: to allow every path)');
    const excludePaths = pathNames(r, [...at, 'excludePaths'], paths);
    const left = (only ?? paths.map((p) => p.name)).filter((p) => !excludePaths.includes(p));
    if (paths.length > 0 && left.length === 0 && (only === undefined || only.length > 0)) r.problem(at, `rule '${name}' leaves no path for its connections (paths minus excludePaths is empty)`);
    if (match !== undefined) out.push({ name, match, scheduler, paths: only, excludePaths });
  }
  return out;
}

function pathNames(r: ConfigReader, at: ConfigPath, paths: readonly PathConfig[]): string[] {
  const known = paths.map((p) => p.name);
  const out: string[] = [];
  const n = r.listLength(at);
  for (let k = 0; k < n; k++) {
    const name = r.string([...at, k]);
    if (name === undefined) continue;
    if (!known.includes(name)) {
      const guess = nearest(name, known);
      r.problem([...at, k], `unknown path '${name}' (${guess !== undefined ? `did you mean '${guess}'?` : known.length > 0 ? `paths are: ${known.join(', ')}` : 'no paths: are configured'})`);
    } else if (!out.includes(name)) out.push(name);
  }
  return out;
}

function readMatch(r: ConfigReader, at: ConfigPath): RuleMatch | undefined {
  if (!r.section(at)) {
    if (r.value(at) === undefined) r.problem(at, 'required: a rule needs match: with hosts, cidrs and/or ports');
    return undefined;
  }
  const hosts: string[] = [];
  const nh = r.listLength([...at, 'hosts']);
  for (let k = 0; k < nh; k++) {
    const g = r.string([...at, 'hosts', k]);
    if (g === undefined) continue;
    if (!GLOB.test(g) || /^\.|\.\.|\.$/.test(g)) r.problem([...at, 'hosts', k], `'${g}' is not a host glob (letters, digits, '.', '-' and '*', e.g. *.example.com)`);
    else hosts.push(g.toLowerCase());
  }
  const cidrs: Cidr[] = [];
  const nc = r.listLength([...at, 'cidrs']);
  for (let k = 0; k < nc; k++) {
    const t = r.string([...at, 'cidrs', k]);
    if (t === undefined) continue;
    const c = parseCidr(t);
    if (c === undefined) r.problem([...at, 'cidrs', k], `'${t}' is not an IP address or CIDR prefix (e.g. 151.101.0.0/16, 2001:db8::/32)`);
    else cidrs.push(c);
  }
  const ports: PortRange[] = [];
  const np = r.listLength([...at, 'ports']);
  for (let k = 0; k < np; k++) {
    const p = readPortRange(r.value([...at, 'ports', k]));
    if (typeof p === 'string') r.problem([...at, 'ports', k], p);
    else ports.push(p);
  }
  if (hosts.length + cidrs.length + ports.length === 0 && nh + nc + np === 0) {
    r.problem(at, 'matches nothing: give hosts, cidrs and/or ports');
    return undefined;
  }
  return { hosts, cidrs, ports };
}

/** 443, "443" or "8000-8100". */
export function readPortRange(v: unknown): PortRange | string {
  const help = 'a port 1..65535 or a range like "8000-8100"';
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
  const m = text !== undefined ? /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text) : null;
  if (m === null) return `${describeValue(v)} is not ${help}`;
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || from > 65535) return `${describeValue(v)} is out of range (ports 1..65535)`;
  if (from > to) return `${describeValue(v)} is an empty range (the first port is above the last)`;
  return { from, to };
}
