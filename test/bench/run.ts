/**
 * `npm run bench`: runs the benchmark suites and prints their tables. Today: the wire layer's
 * per-packet micro-benchmarks. The lab issue adds scenario benchmarks against the anchors.
 */
import { runTcpEngineBenchmark } from './tcp-engine-bench.js';
import { runVethBenchmark } from './tcp-veth-bench.js';
import { runWireBenchmarks } from './wire-bench.js';

function table(rows: ReturnType<typeof runWireBenchmarks>): string {
  const lines = ['| benchmark | ns/packet | packets/s | Mbit/s |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.mbitPerSec === undefined ? '' : Math.round(r.mbitPerSec).toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}

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
