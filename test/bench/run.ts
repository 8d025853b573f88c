/**
 * `npm run bench`: runs the benchmark suites and prints their tables: the wire layer's
 * per-packet micro-benchmarks, the TCP engine without I/O, a single connection over veth, the
 * proxy's time to first byte and connections/s against microsocks (test/bench/proxy-bench.ts), and
 * (as root) the scenario benchmarks in the lab against the anchors (test/bench/scenarios),
 * which also write bench/results/<date>/ (results.json, summary.md, PNG plots).
 *
 * Options (after `npm run bench --`): --micro (only the micro-benchmarks), --scenarios (only
 * the scenarios), --quick (small transfers), --repeat N (runs per cell, median shown; default
 * 1), --scenario NAME|GROUP and --contender NAME (repeatable filters), --out DIR.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../lab/paths.js';
import { proxyBenchTable, runProxyBenchmark } from './proxy-bench.js';
import { runScenarios } from './scenarios/runner.js';
import { summaryMarkdown } from './scenarios/report.js';
import { runTcpEngineBenchmark } from './tcp-engine-bench.js';
import { runMptcpVethBenchmark } from './mptcp-veth-bench.js';
import { runVethBenchmark } from './tcp-veth-bench.js';
import { runWireBenchmarks } from './wire-bench.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const values = (name: string) => argv.flatMap((a, i) => (a === `--${name}` && i + 1 < argv.length ? [argv[i + 1]] : []));

function table(rows: ReturnType<typeof runWireBenchmarks>): string {
  const lines = ['| benchmark | ns/packet | packets/s | Mbit/s |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.mbitPerSec === undefined ? '' : Math.round(r.mbitPerSec).toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}

function micro(): void {
  console.log(`# wire layer micro-benchmarks (node ${process.version}, ${new Date().toISOString()})\n`);
  console.log(table(runWireBenchmarks()));

  const engine = runTcpEngineBenchmark(Number(process.env.BENCH_MIB ?? 256));
  console.log(`\n# TCP engine without I/O\n`);
  console.log('| benchmark | goodput | CPU s/GB | packets |');
  console.log('|---|---:|---:|---:|');
  console.log(`| ${engine.name} | ${engine.gbitPerSec.toFixed(2)} Gbit/s | ${engine.cpuSecondsPerGB.toFixed(2)} | ${engine.packets.toLocaleString('en-US')} |`);

  const veth = runVethBenchmark(Number(process.env.BENCH_VETH_MIB ?? 1024));
  console.log(`\n# Single TCP connection over an unshaped veth pair (same run)\n`);
  if (typeof veth === 'string') console.log(veth);
  else {
    console.log('| contender | goodput | sender CPU s/GB |');
    console.log('|---|---:|---:|');
    for (const r of veth) console.log(`| ${r.contender} | ${r.gbitPerSec.toFixed(2)} Gbit/s | ${r.cpuSecondsPerGB.toFixed(2)} |`);
  }

  const mptcp = runMptcpVethBenchmark(Number(process.env.BENCH_VETH_MIB ?? 1024));
  console.log(`\n# MPTCP over two unshaped veth paths (same run)\n`);
  if (typeof mptcp === 'string') console.log(mptcp);
  else {
    console.log('| contender | goodput | sender CPU s/GB |');
    console.log('|---|---:|---:|');
    for (const r of mptcp) console.log(`| ${r.contender} | ${r.gbitPerSec.toFixed(2)} Gbit/s | ${r.cpuSecondsPerGB.toFixed(2)} |`);
  }
}

async function scenarios(): Promise<void> {
  console.log('\n# Scenario benchmarks in the lab (side by side, same session)\n');
  if (process.getuid?.() !== 0) {
    console.log('skipped: needs root (network namespaces, AF_PACKET); run: sudo npm run bench');
    return;
  }
  const outDir = values('out')[0] ?? join(REPO_ROOT, 'bench', 'results', new Date().toISOString().slice(0, 10));
  // Ctrl-C or a kill: exit normally so the lab's exit hook tears the namespaces down.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const results = await runScenarios({
    outDir,
    quick: flag('quick'),
    repeat: Number(values('repeat')[0] ?? 1),
    scenarios: values('scenario'),
    contenders: values('contender'),
    log: (l) => console.error(l),
  });
  console.log(summaryMarkdown(results));
  console.log(`written to ${outDir}`);
}

if (!flag('scenarios')) micro();
if (!flag('scenarios')) {
  // The proxy (kernel MPTCP transport) against microsocks on the best path, in namespaces.
  console.log('\n# Proxy: time to first byte and connections/s (same run)\n');
  const proxy = await runProxyBenchmark();
  console.log(typeof proxy === 'string' ? proxy : proxyBenchTable(proxy));
}
if (!flag('micro')) await scenarios();
