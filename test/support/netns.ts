/**
 * Network namespaces for privileged tests: two hosts joined by a veth pair with IPv4 and
 * IPv6 addresses, checksum offload off (so raw sockets see complete checksums, as on a real
 * link), optional loss (nftables numgen) and rate limit (HTB); commands run inside with
 * `ip netns exec`; torn down reliably, also after a crashed earlier run.
 * Whether such tests may run is decided by test/support/privileges.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

export interface NsPair {
  a: string;
  b: string;
  devA: string;
  devB: string;
  v4: { a: string; b: string };
  v6: { a: string; b: string };
  exec(ns: string, cmd: string, args: string[], input?: string): string;
  spawn(ns: string, cmd: string, args: string[]): ChildProcess;
  /** Random loss on both directions at B's interface, in percent (0 removes it). */
  setLoss(percent: number): void;
  /** HTB rate limit on both egresses (null removes it). */
  setRate(mbit: number | null): void;
  nstat(ns: string, counters: string[]): Record<string, number>;
  destroy(): void;
}

export function createNsPair(tag: string, subnet: number): NsPair {
  const a = `t${tag}a`;
  const b = `t${tag}b`;
  const devA = `v${tag}a`;
  const devB = `v${tag}b`;
  for (const ns of [a, b]) {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      /* not there: fine */
    }
  }
  sh('ip', ['netns', 'add', a]);
  sh('ip', ['netns', 'add', b]);
  sh('ip', ['link', 'add', devA, 'netns', a, 'type', 'veth', 'peer', 'name', devB, 'netns', b]);
  const v4 = { a: `10.${subnet}.0.1`, b: `10.${subnet}.0.2` };
  const v6 = { a: `fd00:${subnet}::1`, b: `fd00:${subnet}::2` };
  for (const [ns, dev, ip4, ip6] of [
    [a, devA, v4.a, v6.a],
    [b, devB, v4.b, v6.b],
  ] as const) {
    sh('ip', ['-n', ns, 'addr', 'add', `${ip4}/24`, 'dev', dev]);
    sh('ip', ['-n', ns, 'addr', 'add', `${ip6}/64`, 'dev', dev, 'nodad']);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Complete checksums on the wire (a real NIC's view), MTU-sized packets.
    sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off']);
  }
  const pair: NsPair = {
    a,
    b,
    devA,
    devB,
    v4,
    v6,
    exec: (ns, cmd, args, input) => sh('ip', ['netns', 'exec', ns, cmd, ...args], input),
    spawn: (ns, cmd, args) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    setLoss(percent) {
      try {
        sh('ip', ['netns', 'exec', b, 'nft', 'delete', 'table', 'inet', 'testloss']);
      } catch {
        /* none */
      }
      if (percent <= 0) return;
      sh(
        'ip',
        ['netns', 'exec', b, 'nft', '-f', '-'],
        `table inet testloss {
  chain in { type filter hook input priority -300; meta l4proto tcp numgen random mod 1000 < ${Math.round(percent * 10)} counter drop; }
  chain out { type filter hook output priority -300; meta l4proto tcp numgen random mod 1000 < ${Math.round(percent * 10)} counter drop; }
}`,
      );
    },
    setRate(mbit) {
      for (const [ns, dev] of [
        [a, devA],
        [b, devB],
      ] as const) {
        try {
          sh('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
        } catch {
          /* none */
        }
        if (mbit === null) continue;
        sh('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10']);
        sh('ip', ['netns', 'exec', ns, 'tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${mbit}mbit`]);
      }
    },
    nstat(ns, counters) {
      const out = sh('ip', ['netns', 'exec', ns, 'nstat', '-az', ...counters]);
      const r: Record<string, number> = {};
      for (const line of out.split('\n')) {
        const m = /^(\S+)\s+(\d+)/.exec(line);
        if (m) r[m[1]] = Number(m[2]);
      }
      return r;
    },
    destroy() {
      for (const ns of [a, b]) {
        try {
          sh('ip', ['netns', 'del', ns]);
        } catch {
          /* already gone */
        }
      }
    },
  };
  return pair;
}
