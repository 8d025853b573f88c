/**
 * A three-host network in Linux network namespaces, for the demo (`mptcp-proxy demo`) and the
 * end-to-end tests: a client host with two paths to the aggregator host, and a web host behind
 * the aggregator.
 *
 *   <tag>cli  <tag>c1 10.N.1.1 ---- 10.N.1.2 <tag>a1  <tag>agg  <tag>a3 10.N.3.1 ---- 10.N.3.2 <tag>w3  <tag>web
 *             <tag>c2 10.N.2.1 ---- 10.N.2.2 <tag>a2            fdN:3::1            fdN:3::2
 *   (optional) <tag>h1 10.N.9.2 ---- 10.N.9.1 <tag>h0 in the namespace this process runs in
 *
 * Packets from the client's second address leave through path 2 (policy routing), whatever
 * their destination, so a subflow from each client address really uses its own link. Options:
 * an HTB rate limit per path (so that one path alone cannot carry everything), kernel MPTCP
 * endpoints and limits (for the kernel transport), TX checksum offload off on the paths
 * (raw sockets on veth otherwise see unfinished checksums: needed by the userspace transport),
 * and a host link that makes the client host reachable from this machine. The aggregator
 * resolves `web.<tag>` (A and AAAA) through /etc/netns/<agg>/hosts. Needs root and iproute2
 * (tc for rates, ethtool for raw sockets). `destroy()` is idempotent and also removes what a
 * crashed earlier run left.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

export interface TopologyOptions {
  /** 1..5 of a-z 0-9: prefixes namespace and interface names. */
  tag: string;
  /** 1..254: the second octet of every IPv4 address (and the IPv6 prefix fdN:3::/64). */
  net: number;
  /** HTB rate limit of each path, both directions (Mbit/s); none when absent. */
  rateMbit?: readonly [number, number];
  /** Kernel MPTCP: a `subflow` endpoint for the client's second address, limits on both hosts. */
  kernelMptcp?: boolean;
  /** TX checksum offload (and TSO/GSO) off on both paths, as the userspace transport needs. */
  rawSockets?: boolean;
  /** A veth from this process's namespace to the client host (10.N.9.1 here, 10.N.9.2 there). */
  hostLink?: boolean;
}

export interface Topology {
  readonly ns: { client: string; agg: string; web: string };
  readonly dev: { client: [string, string]; agg: [string, string]; aggWeb: string; web: string; hostSide: string; clientHostSide: string };
  readonly addr: {
    client1: string;
    client2: string;
    agg1: string;
    agg2: string;
    aggWeb4: string;
    aggWeb6: string;
    web4: string;
    web6: string;
    /** The host link's ends (when hostLink is set). */
    host: string;
    clientHost: string;
  };
  readonly webName: string;
  /** Builds it (after removing any leftover of the same tag). Throws when a command fails. */
  create(): void;
  /** Removes namespaces (their interfaces go with them) and the hosts file; never throws. */
  destroy(): void;
  /** Runs a command inside a namespace; returns stdout, throws on failure. */
  exec(ns: string, cmd: string, args: readonly string[]): string;
}

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function defineTopology(opts: TopologyOptions): Topology {
  if (!/^[a-z0-9]{1,5}$/.test(opts.tag)) throw new Error(`topology tag '${opts.tag}' must be 1..5 of a-z 0-9`);
  if (!Number.isInteger(opts.net) || opts.net < 1 || opts.net > 254) throw new Error(`topology net ${opts.net} must be 1..254`);
  const t = opts.tag;
  const n = opts.net;
  const ns = { client: `${t}cli`, agg: `${t}agg`, web: `${t}web` };
  const dev = { client: [`${t}c1`, `${t}c2`] as [string, string], agg: [`${t}a1`, `${t}a2`] as [string, string], aggWeb: `${t}a3`, web: `${t}w3`, hostSide: `${t}h0`, clientHostSide: `${t}h1` };
  const addr = {
    client1: `10.${n}.1.1`,
    client2: `10.${n}.2.1`,
    agg1: `10.${n}.1.2`,
    agg2: `10.${n}.2.2`,
    aggWeb4: `10.${n}.3.1`,
    aggWeb6: `fd${n}:3::1`,
    web4: `10.${n}.3.2`,
    web6: `fd${n}:3::2`,
    host: `10.${n}.9.1`,
    clientHost: `10.${n}.9.2`,
  };
  const webName = `web.${t}`;
  const ip = (...args: string[]) => run('ip', args);
  const exec = (where: string, cmd: string, args: readonly string[]) => run('ip', ['netns', 'exec', where, cmd, ...args]);

  const destroy = () => {
    for (const name of Object.values(ns)) {
      try {
        ip('netns', 'del', name);
      } catch {
        /* not there */
      }
    }
    try {
      ip('link', 'del', dev.hostSide); // normally gone with the client namespace
    } catch {
      /* not there */
    }
    rmSync(`/etc/netns/${ns.agg}`, { recursive: true, force: true });
  };

  const create = () => {
    destroy();
    for (const name of Object.values(ns)) {
      ip('netns', 'add', name);
      ip('-n', name, 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', dev.client[0], 'netns', ns.client, 'type', 'veth', 'peer', 'name', dev.agg[0], 'netns', ns.agg);
    ip('link', 'add', dev.client[1], 'netns', ns.client, 'type', 'veth', 'peer', 'name', dev.agg[1], 'netns', ns.agg);
    ip('link', 'add', dev.aggWeb, 'netns', ns.agg, 'type', 'veth', 'peer', 'name', dev.web, 'netns', ns.web);
    const addrs: [string, string, string][] = [
      [ns.client, dev.client[0], `${addr.client1}/24`],
      [ns.client, dev.client[1], `${addr.client2}/24`],
      [ns.agg, dev.agg[0], `${addr.agg1}/24`],
      [ns.agg, dev.agg[1], `${addr.agg2}/24`],
      [ns.agg, dev.aggWeb, `${addr.aggWeb4}/24`],
      [ns.web, dev.web, `${addr.web4}/24`],
    ];
    for (const [where, d, a] of addrs) ip('-n', where, 'addr', 'add', a, 'dev', d);
    ip('-n', ns.agg, 'addr', 'add', `${addr.aggWeb6}/64`, 'dev', dev.aggWeb, 'nodad');
    ip('-n', ns.web, 'addr', 'add', `${addr.web6}/64`, 'dev', dev.web, 'nodad');
    const links: [string, string][] = [
      [ns.client, dev.client[0]],
      [ns.client, dev.client[1]],
      [ns.agg, dev.agg[0]],
      [ns.agg, dev.agg[1]],
      [ns.agg, dev.aggWeb],
      [ns.web, dev.web],
    ];
    for (const [where, d] of links) ip('-n', where, 'link', 'set', d, 'up');
    // Path 2: packets from the client's second address leave through its second link.
    ip('-n', ns.client, 'rule', 'add', 'from', addr.client2, 'table', '102');
    ip('-n', ns.client, 'route', 'add', `10.${n}.1.0/24`, 'via', addr.agg2, 'dev', dev.client[1], 'onlink', 'table', '102');
    if (opts.kernelMptcp === true) {
      exec(ns.client, 'ip', ['mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2']);
      exec(ns.client, 'ip', ['mptcp', 'endpoint', 'add', addr.client2, 'dev', dev.client[1], 'subflow']);
      exec(ns.agg, 'ip', ['mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2']);
    }
    const paths: [string, string, number][] = [
      [ns.client, dev.client[0], 0],
      [ns.client, dev.client[1], 1],
      [ns.agg, dev.agg[0], 0],
      [ns.agg, dev.agg[1], 1],
    ];
    for (const [where, d, i] of paths) {
      if (opts.rawSockets === true) exec(where, 'ethtool', ['-K', d, 'tx', 'off', 'tso', 'off', 'gso', 'off']);
      const rate = opts.rateMbit?.[i];
      if (rate !== undefined) {
        exec(where, 'tc', ['qdisc', 'add', 'dev', d, 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '100']);
        exec(where, 'tc', ['class', 'add', 'dev', d, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${rate}mbit`]);
      }
    }
    if (opts.hostLink === true) {
      ip('link', 'add', dev.hostSide, 'type', 'veth', 'peer', 'name', dev.clientHostSide, 'netns', ns.client);
      ip('addr', 'add', `${addr.host}/30`, 'dev', dev.hostSide);
      ip('-n', ns.client, 'addr', 'add', `${addr.clientHost}/30`, 'dev', dev.clientHostSide);
      ip('link', 'set', dev.hostSide, 'up');
      ip('-n', ns.client, 'link', 'set', dev.clientHostSide, 'up');
    }
    mkdirSync(`/etc/netns/${ns.agg}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns.agg}/hosts`, `127.0.0.1 localhost\n::1 localhost\n${addr.web4} ${webName}\n${addr.web6} ${webName}\n`);
  };

  return { ns, dev, addr, webName, create, destroy, exec };
}

/** Received and sent bytes of an interface in a namespace (`ip -s link`). */
export function linkBytes(ns: string, dev: string): { rx: number; tx: number } {
  const j = JSON.parse(run('ip', ['-j', '-s', '-n', ns, 'link', 'show', 'dev', dev])) as { stats64: { rx: { bytes: number }; tx: { bytes: number } } }[];
  return { rx: j[0].stats64.rx.bytes, tx: j[0].stats64.tx.bytes };
}
