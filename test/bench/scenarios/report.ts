/**
 * The scenario benchmarks' outputs: results.json (every row with its metrics, the machine and
 * the contenders that could not run), summary.md (one markdown table per scenario group), and
 * per-path throughput plots built from the emulators' samples.
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import type { Sample } from '../../lab/emulator-process.js';
import type { Group, Metrics } from './catalog.js';
import { linePlotPng, type Series } from './plot/line-plot.js';

export interface ResultRow {
  scenario: string;
  group: Group;
  description: string;
  contender: string;
  /** The metrics (with repetitions: each one's median, see runs). */
  metrics: Metrics;
  runs?: Metrics[];
  /** A failure of the harness or the contender (not a slow result). */
  error?: string;
  plot?: string;
}

export interface BenchResults {
  date: string;
  machine: { cpus: number; model: string; kernel: string; node: string };
  quick: boolean;
  repeat: number;
  contenders: { name: string; description: string }[];
  unavailable: { name: string; reason: string }[];
  rows: ResultRow[];
}

export function machine(): BenchResults['machine'] {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model ?? 'unknown', kernel: release(), node: process.version };
}

function cell(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v.replace(/\|/g, '/');
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Markdown: a table per group, rows scenario x contender, columns the group's metrics. */
export function summaryMarkdown(r: BenchResults): string {
  const out = [
    `# Scenario benchmarks, ${r.date}`,
    '',
    `${r.machine.cpus} x ${r.machine.model}, Linux ${r.machine.kernel}, Node ${r.machine.node}${r.quick ? ', quick mode' : ''}; ${r.repeat > 1 ? `median of ${r.repeat} runs per cell` : 'one run per cell'}. Figures, not assertions.`,
    'Path rates are link rates of whole Ethernet frames: TCP payload is at most 1448/1514 = 95.6% of them, so "of sum" and "of best" top out near 96%.',
    '',
  ];
  out.push('Contenders:', '');
  for (const c of r.contenders) out.push(`- **${c.name}**: ${c.description}`);
  for (const u of r.unavailable) out.push(`- ${u.name}: not run (${u.reason})`);
  const groups: Group[] = ['aggregation', 'failover', 'latency', 'capacity', 'fairness'];
  for (const g of groups) {
    const rows = r.rows.filter((x) => x.group === g);
    if (rows.length === 0) continue;
    const keys = [...new Set(rows.flatMap((x) => Object.keys(x.metrics)))].filter((k) => k !== 'error');
    out.push('', `## ${g}`, '', `| scenario | contender | ${keys.join(' | ')} | note |`, `|---|---|${keys.map(() => '---:').join('|')}|---|`);
    for (const x of rows) {
      const note = x.error ?? (typeof x.metrics.error === 'string' ? x.metrics.error : '');
      out.push(`| ${x.scenario} | ${x.contender} | ${keys.map((k) => cell(x.metrics[k])).join(' | ')} | ${cell(note)} |`);
    }
    const described = [...new Map(rows.map((x) => [x.scenario, x.description])).entries()];
    out.push('', ...described.map(([s, d]) => `- ${s}: ${d}`));
  }
  const plots = r.rows.filter((x) => x.plot !== undefined);
  if (plots.length > 0) out.push('', '## plots', '', ...plots.map((x) => `- ${x.scenario}, ${x.contender}: [${x.plot}](${x.plot})`));
  return out.join('\n') + '\n';
}

export function writeResults(dir: string, r: BenchResults): void {
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), summaryMarkdown(r));
}

/** Downlink Mbit/s per path between consecutive samples, x in seconds from `origin`. */
export function throughputSeries(name: string, samples: readonly Sample[], origin: number, from: number, to: number): Series {
  const points: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (b.t < from || a.t > to || b.t <= a.t) continue;
    points.push([(b.t - origin) / 1000, ((b.downlinkBytes - a.downlinkBytes) * 8) / ((b.t - a.t) * 1000)]);
  }
  return { name, points };
}

export function writePlot(file: string, title: string, series: Series[]): void {
  writeFileSync(file, linePlotPng({ title, xLabel: 'time (s)', yLabel: 'Mbit/s (downlink, per path)', series }));
}
