/**
 * Runs the scenario benchmarks: for every scenario, one lab (test/lab) with a download server on
 * its web host, then every available contender in turn, all in the same session so the figures
 * are side by side. Each repetition (--repeat) sets the contender up afresh, measures, tears it
 * down and resets the paths, so no run inherits a warm proxy (its memory, its connections). Per-path
 * throughput comes from the emulators' own counters, sampled every 100 ms. Writes results.json,
 * summary.md and the plots into the output folder. A contender that fails a scenario gets a row
 * with the error; the run goes on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../lab/lab.js';
import { FLOW_PEER } from '../../lab/paths.js';
import { SCENARIOS, type Measurement, type Metrics, type RunOptions, type Scenario } from './catalog.js';
import { MANY_FILES, WEB_PORT, startServer, type Contender } from './contender.js';
import { loadContenders } from './contenders/index.js';
import { machine, throughputSeries, writePlot, writeResults, type BenchResults, type ResultRow } from './report.js';

export interface RunnerOptions extends RunOptions {
  outDir: string;
  /** Runs of each scenario per contender; the row shows each metric's median. */
  repeat: number;
  /** Only these scenarios (by name or group) and contenders (by name); all when empty. */
  scenarios: string[];
  contenders: string[];
  log: (line: string) => void;
}

const SAMPLE_MS = 100;

function pick<T extends { name: string; group?: string }>(all: readonly T[], filters: string[]): T[] {
  return filters.length === 0 ? [...all] : all.filter((x) => filters.some((f) => x.name === f || x.group === f));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Per metric: the median of the numbers, else the distinct strings joined (the first and a count
 * when there are more than two, e.g. errors naming byte counts), else null.
 */
export function combineRuns(runs: readonly Metrics[]): Metrics {
  const out: Metrics = {};
  for (const key of [...new Set(runs.flatMap((m) => Object.keys(m)))]) {
    const values = runs.map((m) => m[key]);
    const nums = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    const strs = [...new Set(values.filter((v): v is string => typeof v === 'string'))];
    out[key] = nums.length > 0 ? (nums.length % 2 === 1 ? nums[(nums.length - 1) / 2] : (nums[nums.length / 2 - 1] + nums[nums.length / 2]) / 2) : strs.length > 2 ? `${strs[0]} (+${strs.length - 1} more)` : strs.length > 0 ? strs.join(' / ') : null;
  }
  return out;
}

/** One repetition: a fresh setup of the contender, the measurement, teardown, paths reset. */
async function measureOnce(lab: Lab, scenario: Scenario, contender: Contender, opts: RunnerOptions): Promise<Measurement> {
  try {
    await contender.setup(lab);
    return await scenario.run(lab, contender, opts);
  } finally {
    await contender.teardown(lab);
    for (const p of lab.paths) await p.reset();
    await sleep(500);
  }
}

async function runOne(lab: Lab, scenario: Scenario, contender: Contender, opts: RunnerOptions): Promise<ResultRow> {
  const row: ResultRow = { scenario: scenario.name, group: scenario.group, description: scenario.description, contender: contender.name, metrics: {} };
  const from = lab.paths.map((p) => p.samples.length);
  try {
    if (scenario.plot) for (const p of lab.paths) await p.sample(SAMPLE_MS);
    const runs: Metrics[] = [];
    let last: Measurement | undefined;
    for (let i = 0; i < Math.max(1, opts.repeat); i++) {
      if (i > 0) from.splice(0, from.length, ...lab.paths.map((p) => p.samples.length));
      last = await measureOnce(lab, scenario, contender, opts);
      runs.push(last.metrics);
    }
    row.metrics = combineRuns(runs);
    if (runs.length > 1) row.runs = runs;
    if (scenario.plot && last?.window !== undefined) {
      const w = last.window;
      const series = lab.paths.map((p, i) => throughputSeries(p.name, p.samples.slice(from[i]), w.start, w.start - 500, w.end + 500));
      const file = `${scenario.name}-${contender.name}.png`;
      writePlot(join(opts.outDir, file), `${scenario.name}: ${contender.name}${runs.length > 1 ? ` (run ${runs.length})` : ''}`, series);
      row.plot = file;
    }
  } catch (e) {
    row.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
  } finally {
    if (scenario.plot) for (const p of lab.paths) await p.sample(0).catch(() => undefined);
  }
  return row;
}

export async function runScenarios(opts: RunnerOptions): Promise<BenchResults> {
  mkdirSync(opts.outDir, { recursive: true });
  const all = pick(await loadContenders(), opts.contenders);
  const contenders = all.filter((c) => c.unavailable() === undefined);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    quick: opts.quick,
    repeat: Math.max(1, opts.repeat),
    contenders: contenders.map((c) => ({ name: c.name, description: c.description })),
    unavailable: all.filter((c) => c.unavailable() !== undefined).map((c) => ({ name: c.name, reason: c.unavailable() ?? '' })),
    rows: [],
  };
  for (const u of results.unavailable) opts.log(`contender ${u.name} not run: ${u.reason}`);
  for (const scenario of pick(SCENARIOS, opts.scenarios)) {
    opts.log(`scenario ${scenario.name}: ${scenario.description}`);
    const lab = await Lab.up(scenario.topology);
    try {
      await startServer(lab, 'web', [...MANY_FILES, process.execPath, FLOW_PEER, 'server', '--port', String(WEB_PORT)], /listening/);
      for (const c of contenders) {
        const row = await runOne(lab, scenario, c, opts);
        results.rows.push(row);
        opts.log(`  ${c.name}: ${row.error ?? JSON.stringify(row.metrics)}`);
        writeResults(opts.outDir, results);
      }
    } finally {
      await lab.down();
    }
  }
  writeResults(opts.outDir, results);
  return results;
}
