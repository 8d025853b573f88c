import { it } from 'vitest';
import { runScenarios } from '../bench/scenarios/runner.js';
it('try', async () => {
  const r = await runScenarios({ outDir: '/tmp/benchtry', quick: true, connections: 100, scenarios: (process.env.SC ?? 'balanced-bw,failover-blackhole').split(','), contenders: [], log: (l) => console.log(l) });
  console.log(JSON.stringify(r.rows.map((x) => [x.scenario, x.contender, x.error, x.metrics])));
}, 300_000);
