// The scenario benchmark harness works end to end: one tiny scenario (simult_flows' balanced
// bandwidth, quick size) with one contender (kernel MPTCP) writes results.json and summary.md
// with a complete transfer; the failover scenario with the same contender writes a PNG plot.
// Checks the harness only: no figure is asserted beyond "the transfer completed".
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/scenarios/report.js';
import { runScenarios } from '../../bench/scenarios/runner.js';
import { labSkipReason } from './skip.js';

const skip = labSkipReason('scenario benchmark smoke run', ['ip', 'ethtool', 'iptables', 'mptcpize']);

describe.skipIf(skip !== undefined)('scenario benchmark smoke run', () => {
  const out = mkdtempSync(join(tmpdir(), 'mptcp-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs a scenario with a contender and writes the table, the JSON and a plot', async () => {
    const log: string[] = [];
    await runScenarios({ outDir: out, quick: true, repeat: 1, scenarios: ['balanced-bw', 'failover-blackhole'], contenders: ['kernel-mptcp'], log: (l) => log.push(l) });
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
    expect(r.rows.map((x) => [x.scenario, x.contender, x.error])).toEqual([
      ['balanced-bw', 'kernel-mptcp', undefined],
      ['failover-blackhole', 'kernel-mptcp', undefined],
    ]);
    expect(r.rows[0].metrics.error, log.join('\n')).toBeNull();
    expect(r.rows[0].metrics['goodput Mbit/s']).toBeGreaterThan(0);
    expect(r.rows[1].metrics.completed).toBe('yes');
    expect(r.rows[1].metrics['bytes lost']).toBe(0);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toMatch(/## aggregation/);
    expect(md).toMatch(/\| balanced-bw \| kernel-mptcp \| \d/);
    const plot = r.rows[1].plot;
    expect(plot).toBe('failover-blackhole-kernel-mptcp.png');
    expect(existsSync(join(out, plot ?? ''))).toBe(true);
  }, 90_000);
});
