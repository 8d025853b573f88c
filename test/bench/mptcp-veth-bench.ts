/**
 * MPTCP over two unshaped veth paths between two network namespaces, ours against the
 * kernel in the same run: (1) the kernel's MPTCP client (a subflow endpoint on the second
 * path) -> a kernel MPTCP server, (2) our userspace MPTCP (mptcp-proxy cat on raw sockets,
 * one --local per path) -> the same kind of kernel server. Reports goodput and the sending
 * side's CPU seconds per GB (user + system of the client pipeline, test data generation
 * included in both). Needs root; skipped with a note otherwise. Figures, not assertions.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMultipathPair } from '../support/mptcp-netns.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PEERS = `${ROOT}test/privileged/peers`;
const CLI = `${ROOT}dist/proxy/cli/main.js`;

export interface MptcpVethRow {
  contender: string;
  gbitPerSec: number;
  cpuSecondsPerGB: number;
}

function timed(ns: string, script: string): { wall: number; cpu: number } {
  const r = execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', `TIMEFORMAT='TIMES %R %U %S'; { time (${script} >/dev/null 2>&1); } 2>&1`], { encoding: 'utf8' });
  const m = /TIMES ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r);
  if (!m) throw new Error(`no timing in: ${r}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

export function runMptcpVethBenchmark(mib = 1024): MptcpVethRow[] | string {
  if (process.getuid?.() !== 0) return 'skipped: needs root (network namespaces, raw sockets)';
  const bytes = mib * 1024 * 1024;
  const pair = createMultipathPair('vb', 94, 2);
  try {
    for (const ns of [pair.ours, pair.kernel]) pair.exec(ns, 'ip', ['mptcp', 'limits', 'set', 'subflows', '8', 'add_addr_accepted', '8']);
    const [p0, p1] = pair.paths;
    const rows: MptcpVethRow[] = [];
    const contenders: [string, (port: number) => string, () => void][] = [
      [
        'kernel MPTCP -> kernel MPTCP (2 paths)',
        (port) => `node ${PEERS}/gen.mjs ${bytes} 1 | python3 ${PEERS}/mptcp-cat.py connect ${p0.kernel4} ${port}`,
        () => pair.exec(pair.ours, 'ip', ['mptcp', 'endpoint', 'add', p1.ours4, 'dev', p1.devOurs, 'subflow']),
      ],
      [
        'mptcp-proxy userspace MPTCP -> kernel MPTCP (2 paths)',
        (port) => `node ${PEERS}/gen.mjs ${bytes} 1 | node ${CLI} cat --local ${p0.ours4} --local ${p1.ours4} ${p0.kernel4} ${port}`,
        () => pair.exec(pair.ours, 'ip', ['mptcp', 'endpoint', 'flush']),
      ],
    ];
    let port = 5400;
    for (const [name, client, prepare] of contenders) {
      port++;
      prepare();
      const server = pair.spawn(pair.kernel, 'sh', ['-c', `python3 ${PEERS}/mptcp-cat.py listen 0.0.0.0 ${port} < /dev/null > /dev/null`]);
      execFileSync('sleep', ['0.4']);
      const t = timed(pair.ours, client(port));
      server.kill();
      rows.push({ contender: name, gbitPerSec: (bytes * 8) / t.wall / 1e9, cpuSecondsPerGB: t.cpu / (bytes / 1e9) });
    }
    return rows;
  } finally {
    pair.destroy();
  }
}

// Run directly: node dist/test/bench/mptcp-veth-bench.js [MiB]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = runMptcpVethBenchmark(Number(process.argv[2] ?? 1024));
  if (typeof rows === 'string') console.log(rows);
  else {
    console.log('| contender | goodput | sender CPU s/GB |');
    console.log('|---|---:|---:|');
    for (const r of rows) console.log(`| ${r.contender} | ${r.gbitPerSec.toFixed(2)} Gbit/s | ${r.cpuSecondsPerGB.toFixed(2)} |`);
  }
}
