// Topology files: the bundled YAML topologies parse and plan; addresses, interfaces, tables and
// scripts come out as documented; mistakes are reported with the field.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_DIR } from './paths.js';
import { loadTopologyFile, parseTopologyYaml, planTopology } from './topology.js';

describe('topologies', () => {
  it('plans every bundled YAML topology', () => {
    const files = readdirSync(TOPOLOGY_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(planTopology(loadTopologyFile(join(TOPOLOGY_DIR, f))).paths.length, f).toBeGreaterThan(0);
  });

  it('gives each path its subnet, interfaces, routing table and configuration', () => {
    const plan = planTopology(
      parseTopologyYaml(`
name: t
primary: lte
paths:
  - name: wifi
    rate: 50mbit
    delay: 10ms
  - name: lte
    middlebox: strip-mptcp
    downlink: { rate: 20mbit, delay: 60ms }
    script:
      repeat: 4s
      steps:
        - { at: 2s, rate: 5mbit }
        - { at: 0s, state: blackhole }
`),
    );
    expect(plan.primary).toBe(1);
    expect(plan.ipv6).toBe(true);
    const [wifi, lte] = plan.paths;
    expect(wifi).toMatchObject({ hostIf: 'p0', emuClientIf: 'c0', emuAggregatorIf: 'a0', table: 100, client: { v4: '10.100.1.1', v6: 'fd00:100:1::1' }, aggregator: { v4: '10.100.1.2' } });
    expect(wifi.config.uplink.rateBitsPerSec).toBe(50e6);
    expect(lte.config.uplink.rateBitsPerSec).toBe(Infinity);
    expect(lte.config.downlink.delayMs).toBe(60);
    expect(lte.middlebox).toBe('strip-mptcp');
    expect(lte.script?.repeatMs).toBe(4000);
    // Steps in time order, each on top of the one before.
    expect(lte.script?.steps.map((s) => [s.atMs, s.config.state, s.config.uplink.rateBitsPerSec])).toEqual([
      [0, 'blackhole', Infinity],
      [2000, 'blackhole', 5e6],
    ]);
  });

  it('reports mistakes with the field', () => {
    expect(() => planTopology({ paths: [] })).toThrow(/1 to 8 paths/);
    expect(() => planTopology({ paths: [{ name: 'a' }, { name: 'a' }] })).toThrow(/"a" twice/);
    expect(() => planTopology({ paths: [{ name: 'a' }], primary: 'b' })).toThrow(/no path named "b"/);
    expect(() => planTopology({ paths: [{ name: 'a', delay: 'soon' }] })).toThrow(/a.delay/);
    expect(() => planTopology({ paths: [{ name: 'a', emulate: false, rate: 10 }] })).toThrow(/emulate: false/);
    expect(() => planTopology({ paths: [{ name: 'a', script: { repeat: '1s', steps: [{ at: '2s', loss: 1 }] } }] })).toThrow(/repeat/);
    expect(() => parseTopologyYaml('just text')).toThrow(/"paths" list/);
  });
});
