/**
 * Single-connection goodput on an unshaped veth pair between two network namespaces, ours
 * against the kernel in the same run: (1) kernel TCP client -> kernel TCP server, (2) our
 * userspace TCP (mptcp-proxy cat on raw sockets) -> the same kernel server. Reports Gbit/s
 * and the sending side's CPU seconds per GB (user + system of the client pipeline, which
 * includes generating the test data in both cases). Needs root; skipped with a note
 * otherwise. Figures, not assertions.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNsPair } from '../support/netns.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PEERS = `${ROOT}test/privileged/peers`;
const CLI = `${ROOT}dist/proxy/cli/main.js`;

export interface VethBenchRow {
  contender: string;
  gbitPerSec: number;
  cpuSecondsPerGB: number;
}

function run(ns: string, script: string): { wall: number; cpu: number } {
  const r = execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', `TIMEFORMAT='TIMES %R %U %S'; { time (${script} >/dev/null 2>&1); } 2>&1`], { encoding: 'utf8' });
  const m = /TIMES ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r);
  if (!m) throw new Error(`no timing in: ${r}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

export function runVethBenchmark(mib = 1024): VethBenchRow[] | string {
  if (process.getuid?.() !== 0) return 'skipped: needs root (network namespaces, raw sockets)';
  const bytes = mib * 1024 * 1024;
  const pair = createNsPair('vb', 93);
  try {
    const rows: VethBenchRow[] = [];
    const contenders: [string, (port: number) => string][] = [
      ['kernel TCP -> kernel TCP', (port) => `node ${PEERS}/kernel-peer.mjs client ${pair.v4.b} ${port} ${bytes} 1`],
      ['mptcp-proxy userspace TCP -> kernel TCP', (port) => `node ${PEERS}/gen.mjs ${bytes} 1 | node ${CLI} cat --tcp --local ${pair.v4.a} ${pair.v4.b} ${port}`],
    ];
    let port = 5300;
    for (const [name, client] of contenders) {
      port++;
      const server = pair.spawn(pair.b, 'node', [`${PEERS}/kernel-peer.mjs`, 'server', pair.v4.b, String(port), '0', '2']);
      execFileSync('sleep', ['0.4']);
      const t = run(pair.a, client(port));
      server.kill();
      rows.push({ contender: name, gbitPerSec: (bytes * 8) / t.wall / 1e9, cpuSecondsPerGB: t.cpu / (bytes / 1e9) });
    }
    return rows;
  } finally {
    pair.destroy();
  }
}
