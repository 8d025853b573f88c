/**
 * Two network namespaces joined by N parallel veth links (paths), for MPTCP interop tests:
 * namespace `ours` runs our userspace stack, namespace `kernel` the Linux kernel's MPTCP.
 * Path i uses 10.<subnet>.<i+1>.0/24 and fd00:<subnet>:<i+1>::/64 (ours .1 / ::1, kernel .2 /
 * ::2). Source-based policy routing sends a packet from path i's address (i >= 1) over link i
 * whatever its destination (static neighbours make that work for IPv6 too), so a subflow from
 * a path's address really travels that path, in both directions. Helpers: link down/up, a silent black hole, MPTCP option
 * stripping (iptables TCPOPTSTRIP, the middlebox), kernel MPTCP endpoints, limits, sysctls and
 * MPTcpExt counters. Torn down reliably, also after a crashed earlier run.
 */
import { sh } from './netns.js';
import { spawn, type ChildProcess } from 'node:child_process';

export interface PathAddrs {
  devOurs: string;
  devKernel: string;
  ours4: string;
  kernel4: string;
  ours6: string;
  kernel6: string;
}

export interface MultipathPair {
  ours: string;
  kernel: string;
  paths: PathAddrs[];
  exec(ns: string, cmd: string, args: string[]): string;
  spawn(ns: string, cmd: string, args: string[]): ChildProcess;
  /** `ip link set down/up` on both ends of path i. */
  setLink(i: number, up: boolean): void;
  /** Drop every packet on path i (both directions) while the links stay up. */
  setBlackhole(i: number, on: boolean): void;
  /** HTB rate limit on both ends of path i (null removes it). */
  setRate(i: number, mbit: number | null): void;
  /** Strip MPTCP options (kind 30) from TCP packets the kernel side sends and receives on path i. */
  setOptionStrip(i: number, on: boolean): void;
  /** MPTcpExt counters of a namespace (nstat -az, absolute values). */
  mptcpCounters(ns: string): Record<string, number>;
  destroy(): void;
}

function tryRun(cmd: string, args: string[]): void {
  try {
    sh(cmd, args);
  } catch {
    /* absent: fine */
  }
}

export function createMultipathPair(tag: string, subnet: number, pathCount = 2): MultipathPair {
  const ours = `m${tag}o`;
  const kernel = `m${tag}k`;
  for (const ns of [ours, kernel]) tryRun('ip', ['netns', 'del', ns]);
  sh('ip', ['netns', 'add', ours]);
  sh('ip', ['netns', 'add', kernel]);
  const paths: PathAddrs[] = [];
  const nsx = (ns: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
  for (const ns of [ours, kernel]) {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    nsx(ns, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.mptcp.enabled=1');
  }
  for (let i = 0; i < pathCount; i++) {
    const p: PathAddrs = {
      devOurs: `m${tag}o${i}`,
      devKernel: `m${tag}k${i}`,
      ours4: `10.${subnet}.${i + 1}.1`,
      kernel4: `10.${subnet}.${i + 1}.2`,
      ours6: `fd00:${subnet}:${i + 1}::1`,
      kernel6: `fd00:${subnet}:${i + 1}::2`,
    };
    sh('ip', ['link', 'add', p.devOurs, 'netns', ours, 'type', 'veth', 'peer', 'name', p.devKernel, 'netns', kernel]);
    for (const [ns, dev, a4, a6] of [
      [ours, p.devOurs, p.ours4, p.ours6],
      [kernel, p.devKernel, p.kernel4, p.kernel6],
    ] as const) {
      sh('ip', ['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev]);
      sh('ip', ['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      nsx(ns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.rp_filter=0`);
      // Complete checksums on the wire (raw sockets see what a NIC would), MTU-sized packets.
      nsx(ns, 'ethtool', '-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off');
    }
    paths.push(p);
  }
  // Source routing: from path i's address (i >= 1), everything of the test's subnets goes over
  // link i; path 0's addresses follow the main table (by destination). So traffic between
  // a path's address and the other side's first address (or the same path's) stays on one
  // link both ways, whichever side opened it.
  for (let i = 1; i < pathCount; i++) {
    const p = paths[i];
    const table = String(100 + i);
    for (const [ns, dev, a4, a6] of [
      [ours, p.devOurs, p.ours4, p.ours6],
      [kernel, p.devKernel, p.kernel4, p.kernel6],
    ] as const) {
      sh('ip', ['-n', ns, 'rule', 'add', 'from', a4, 'table', table]);
      sh('ip', ['-n', ns, '-6', 'rule', 'add', 'from', a6, 'table', table]);
      sh('ip', ['-n', ns, 'route', 'add', `10.${subnet}.0.0/16`, 'dev', dev, 'table', table]);
      sh('ip', ['-n', ns, '-6', 'route', 'add', `fd00:${subnet}::/32`, 'dev', dev, 'table', table]);
    }
  }
  // Static neighbours: every address of the other side is reachable on every link.
  const mac = (ns: string, dev: string) => /link\/ether (\S+)/.exec(sh('ip', ['-n', ns, 'link', 'show', dev]))?.[1] ?? '';
  for (let i = 0; i < pathCount; i++) {
    const macOurs = mac(ours, paths[i].devOurs);
    const macKernel = mac(kernel, paths[i].devKernel);
    for (const q of paths) {
      sh('ip', ['-n', kernel, 'neigh', 'replace', q.ours4, 'lladdr', macOurs, 'dev', paths[i].devKernel, 'nud', 'permanent']);
      sh('ip', ['-n', kernel, '-6', 'neigh', 'replace', q.ours6, 'lladdr', macOurs, 'dev', paths[i].devKernel, 'nud', 'permanent']);
      sh('ip', ['-n', ours, 'neigh', 'replace', q.kernel4, 'lladdr', macKernel, 'dev', paths[i].devOurs, 'nud', 'permanent']);
      sh('ip', ['-n', ours, '-6', 'neigh', 'replace', q.kernel6, 'lladdr', macKernel, 'dev', paths[i].devOurs, 'nud', 'permanent']);
    }
  }
  const pair: MultipathPair = {
    ours,
    kernel,
    paths,
    exec: (ns, cmd, args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]),
    spawn: (ns, cmd, args) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    setLink(i, up) {
      sh('ip', ['-n', ours, 'link', 'set', paths[i].devOurs, up ? 'up' : 'down']);
      sh('ip', ['-n', kernel, 'link', 'set', paths[i].devKernel, up ? 'up' : 'down']);
      if (up) {
        // Routes on a downed link are flushed: restore the path's table.
        const table = String(100 + i);
        for (const [ns, dev] of i === 0 ? [] : [
          [ours, paths[i].devOurs],
          [kernel, paths[i].devKernel],
        ] as const) {
          tryRun('ip', ['-n', ns, 'route', 'replace', `10.${subnet}.0.0/16`, 'dev', dev, 'table', table]);
          tryRun('ip', ['-n', ns, '-6', 'route', 'replace', `fd00:${subnet}::/32`, 'dev', dev, 'table', table]);
        }
        const macOurs = mac(ours, paths[i].devOurs);
        const macKernel = mac(kernel, paths[i].devKernel);
        for (const q of paths) {
          tryRun('ip', ['-n', kernel, 'neigh', 'replace', q.ours4, 'lladdr', macOurs, 'dev', paths[i].devKernel, 'nud', 'permanent']);
          tryRun('ip', ['-n', kernel, '-6', 'neigh', 'replace', q.ours6, 'lladdr', macOurs, 'dev', paths[i].devKernel, 'nud', 'permanent']);
          tryRun('ip', ['-n', ours, 'neigh', 'replace', q.kernel4, 'lladdr', macKernel, 'dev', paths[i].devOurs, 'nud', 'permanent']);
          tryRun('ip', ['-n', ours, '-6', 'neigh', 'replace', q.kernel6, 'lladdr', macKernel, 'dev', paths[i].devOurs, 'nud', 'permanent']);
        }
      }
    },
    setBlackhole: () => undefined, // replaced below
    setRate(i, mbit) {
      for (const [ns, dev] of [
        [ours, paths[i].devOurs],
        [kernel, paths[i].devKernel],
      ] as const) {
        tryRun('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
        if (mbit === null) continue;
        sh('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10']);
        sh('ip', ['netns', 'exec', ns, 'tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${mbit}mbit`]);
      }
    },
    setOptionStrip(i, on) {
      const dev = paths[i].devKernel;
      for (const tool of ['iptables', 'ip6tables']) {
        for (const chain of ['PREROUTING', 'POSTROUTING']) {
          const io = chain === 'PREROUTING' ? '-i' : '-o';
          const args = ['-t', 'mangle', on ? '-A' : '-D', chain, io, dev, '-p', 'tcp', '-j', 'TCPOPTSTRIP', '--strip-options', '30'];
          if (on) sh('ip', ['netns', 'exec', kernel, tool, ...args]);
          else tryRun('ip', ['netns', 'exec', kernel, tool, ...args]);
        }
      }
    },
    mptcpCounters(ns) {
      const out = sh('ip', ['netns', 'exec', ns, 'nstat', '-az', 'MPTcp*']);
      const r: Record<string, number> = {};
      for (const line of out.split('\n')) {
        const m = /^MPTcpExt(\S+)\s+(\d+)/.exec(line);
        if (m) r[m[1]] = Number(m[2]);
      }
      return r;
    },
    destroy() {
      for (const ns of [ours, kernel]) tryRun('ip', ['netns', 'del', ns]);
    },
  };
  // nft black hole: a netdev ingress+egress drop on the kernel side's device of the path.
  pair.setBlackhole = (i, on) => {
    const t = `blackhole${i}`;
    tryRun('ip', ['netns', 'exec', kernel, 'nft', 'delete', 'table', 'netdev', t]);
    if (!on) return;
    const dev = paths[i].devKernel;
    sh('ip', ['netns', 'exec', kernel, 'sh', '-c', `nft -f - <<'EOF'
table netdev ${t} {
  chain in { type filter hook ingress device "${dev}" priority -500; drop; }
  chain out { type filter hook egress device "${dev}" priority -500; drop; }
}
EOF`]);
  };
  return pair;
}
