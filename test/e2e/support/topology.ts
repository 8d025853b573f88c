/**
 * The end-to-end lab in network namespaces: a client host with two paths to the aggregator
 * host, and a web host behind the aggregator.
 *
 *   e2ecli  e2ec1 10.71.1.1 ---- 10.71.1.2 e2ea1  e2eagg  e2ea3 10.71.3.1  ---- 10.71.3.2  e2ew3  e2eweb
 *           e2ec2 10.71.2.1 ---- 10.71.2.2 e2ea2          fd71:3::1            fd71:3::2
 *
 * Each client<->aggregator path is rate-limited (HTB, both directions) so that one path
 * alone cannot carry everything and the kernel scheduler uses both. The client's second
 * address is a kernel MPTCP `subflow` endpoint with policy routing through path 2; MPTCP
 * limits are set on both hosts. The aggregator resolves `web.e2e` (A and AAAA) through
 * /etc/netns/e2eagg/hosts. Long-running programs are spawned inside and killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { sh } from '../../support/netns.js';

export const NS = { client: 'e2ecli', agg: 'e2eagg', web: 'e2eweb' } as const;
export const ADDR = {
  client1: '10.71.1.1',
  client2: '10.71.2.1',
  agg1: '10.71.1.2',
  agg2: '10.71.2.2',
  aggWeb4: '10.71.3.1',
  aggWeb6: 'fd71:3::1',
  web4: '10.71.3.2',
  web6: 'fd71:3::2',
} as const;
export const WEB_NAME = 'web.e2e';
export const PATH_MBIT = 60;

const ip = (...args: string[]) => sh('ip', args);
const inNs = (ns: string, cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

export function destroyTopology(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* not there */
    }
  }
  rmSync(`/etc/netns/${NS.agg}`, { recursive: true, force: true });
}

function rateLimit(ns: string, dev: string, mbit: number): void {
  inNs(ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '100');
  inNs(ns, 'tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${mbit}mbit`);
}

export function createTopology(): void {
  destroyTopology();
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', 'e2ec1', 'netns', NS.client, 'type', 'veth', 'peer', 'name', 'e2ea1', 'netns', NS.agg);
  ip('link', 'add', 'e2ec2', 'netns', NS.client, 'type', 'veth', 'peer', 'name', 'e2ea2', 'netns', NS.agg);
  ip('link', 'add', 'e2ea3', 'netns', NS.agg, 'type', 'veth', 'peer', 'name', 'e2ew3', 'netns', NS.web);
  const addrs: [string, string, string][] = [
    [NS.client, 'e2ec1', `${ADDR.client1}/24`],
    [NS.client, 'e2ec2', `${ADDR.client2}/24`],
    [NS.agg, 'e2ea1', `${ADDR.agg1}/24`],
    [NS.agg, 'e2ea2', `${ADDR.agg2}/24`],
    [NS.agg, 'e2ea3', `${ADDR.aggWeb4}/24`],
    [NS.web, 'e2ew3', `${ADDR.web4}/24`],
  ];
  for (const [ns, dev, a] of addrs) ip('-n', ns, 'addr', 'add', a, 'dev', dev);
  ip('-n', NS.agg, 'addr', 'add', `${ADDR.aggWeb6}/64`, 'dev', 'e2ea3', 'nodad');
  ip('-n', NS.web, 'addr', 'add', `${ADDR.web6}/64`, 'dev', 'e2ew3', 'nodad');
  for (const [ns, dev] of [
    [NS.client, 'e2ec1'],
    [NS.client, 'e2ec2'],
    [NS.agg, 'e2ea1'],
    [NS.agg, 'e2ea2'],
    [NS.agg, 'e2ea3'],
    [NS.web, 'e2ew3'],
  ] as const)
    ip('-n', ns, 'link', 'set', dev, 'up');
  // Path 2: packets from the client's second address leave through e2ec2.
  ip('-n', NS.client, 'rule', 'add', 'from', ADDR.client2, 'table', '102');
  ip('-n', NS.client, 'route', 'add', '10.71.1.0/24', 'via', ADDR.agg2, 'dev', 'e2ec2', 'onlink', 'table', '102');
  // Kernel MPTCP: a subflow from the second address for every connection (RFC 8684 MP_JOIN).
  inNs(NS.client, 'ip', 'mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2');
  inNs(NS.client, 'ip', 'mptcp', 'endpoint', 'add', ADDR.client2, 'dev', 'e2ec2', 'subflow');
  inNs(NS.agg, 'ip', 'mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2');
  for (const [ns, dev] of [
    [NS.client, 'e2ec1'],
    [NS.client, 'e2ec2'],
    [NS.agg, 'e2ea1'],
    [NS.agg, 'e2ea2'],
  ] as const)
    rateLimit(ns, dev, PATH_MBIT);
  mkdirSync(`/etc/netns/${NS.agg}`, { recursive: true });
  writeFileSync(`/etc/netns/${NS.agg}/hosts`, `127.0.0.1 localhost\n::1 localhost\n${ADDR.web4} ${WEB_NAME}\n${ADDR.web6} ${WEB_NAME}\n`);
}

/** Received bytes on a client interface (which path carried the downloads). */
export function rxBytes(ns: string, dev: string): number {
  const j = JSON.parse(sh('ip', ['-j', '-s', '-n', ns, 'link', 'show', 'dev', dev])) as { stats64: { rx: { bytes: number } } }[];
  return j[0].stats64.rx.bytes;
}

export function txBytes(ns: string, dev: string): number {
  const j = JSON.parse(sh('ip', ['-j', '-s', '-n', ns, 'link', 'show', 'dev', dev])) as { stats64: { tx: { bytes: number } } }[];
  return j[0].stats64.tx.bytes;
}

export function nstat(ns: string, names: string[]): Record<string, number> {
  const out = inNs(ns, 'nstat', '-az', ...names);
  const r: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\d+)/.exec(line);
    if (m) r[m[1]] = Number(m[2]);
  }
  return r;
}

export function linkSet(ns: string, dev: string, state: 'up' | 'down'): void {
  ip('-n', ns, 'link', 'set', dev, state);
}

export function nsExec(ns: string, cmd: string, args: string[]): string {
  return inNs(ns, cmd, ...args);
}

export interface Program {
  child: ChildProcess;
  output(): string;
  /** Resolves with the output once `pattern` appears (rejects after timeoutMs or exit). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export function startProgram(ns: string, cmd: string, args: string[], env: Record<string, string> = {}): Program {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = false;
  child.on('exit', () => {
    exited = true;
    for (const w of waiters) w();
  });
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(out);
          } else if (exited) {
            waiters.delete(check);
            clearTimeout(t);
            reject(new Error(`${cmd} ${args.join(' ')} exited before ${String(pattern)}:\n${out}`));
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timeout waiting for ${String(pattern)} from ${cmd} ${args.join(' ')}:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
