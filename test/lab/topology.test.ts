// Topology files: the bundled YAML topologies parse and plan; addresses, interfaces, tables and
// scripts come out as documented; mistakes are reported with the field. The shared bottleneck's
// commands come out as documented.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_DIR } from './paths.js';
import { parseBottleneckStats, sharedBottleneckCommands } from './shared-bottleneck.js';
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

  it('plans a shared bottleneck and a congestion control, and checks them', () => {
    const plan = planTopology({ sharedBottleneck: { rate: '20mbit' }, tcpCongestion: 'cubic', paths: [{ name: 'a' }, { name: 'b' }] });
    expect(plan.sharedBottleneck).toEqual({ rateBitsPerSec: 20e6, queuePackets: 100 });
    expect(plan.tcpCongestion).toBe('cubic');
    expect(planTopology({ paths: [{ name: 'a' }] })).toMatchObject({ sharedBottleneck: undefined, tcpCongestion: undefined });
    expect(planTopology({ sharedBottleneck: { rate: 5, queue: '30' }, paths: [{ name: 'a' }] }).sharedBottleneck).toEqual({ rateBitsPerSec: 5e6, queuePackets: 30 });
    expect(() => planTopology({ sharedBottleneck: { rate: 'unlimited' }, paths: [{ name: 'a' }] })).toThrow(/sharedBottleneck.rate: .*finite/);
    expect(() => planTopology({ sharedBottleneck: { rate: '10mbit', queue: 0 }, paths: [{ name: 'a' }] })).toThrow(/sharedBottleneck.queue/);
    expect(() => planTopology({ sharedBottleneck: { rate: '10mbit', delay: '5ms' } as never, paths: [{ name: 'a' }] })).toThrow(/unknown setting "delay"/);
    expect(() => planTopology({ sharedBottleneck: {} as never, paths: [{ name: 'a' }] })).toThrow(/sharedBottleneck.rate: a rate is needed/);
    expect(() => planTopology({ tcpCongestion: 'cubic; reboot', paths: [{ name: 'a' }] })).toThrow(/tcpCongestion/);
  });

  it('builds the bottleneck: an ifb with HTB and a FIFO, every path interface redirected to it', () => {
    const c = sharedBottleneckCommands({ rateBitsPerSec: 20e6, queuePackets: 100 }, ['p0', 'p1']);
    expect(c.ip).toEqual(['link add ifb0 type ifb', 'link set ifb0 up']);
    expect(c.tc).toEqual([
      'qdisc add dev ifb0 root handle 1: htb default 1',
      'class add dev ifb0 parent 1: classid 1:1 htb rate 20000000bit ceil 20000000bit quantum 1514',
      'qdisc add dev ifb0 parent 1:1 handle 10: pfifo limit 100',
      'qdisc add dev p0 clsact',
      'filter add dev p0 egress protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0',
      'qdisc add dev p1 clsact',
      'filter add dev p1 egress protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0',
    ]);
    const json = '[{"kind":"htb","handle":"1:","bytes":9,"packets":1,"drops":0,"qlen":0},{"kind":"pfifo","handle":"10:","parent":"1:1","bytes":3028,"packets":2,"drops":5,"qlen":1}]';
    expect(parseBottleneckStats(json)).toEqual({ sentBytes: 3028, sentPackets: 2, drops: 5, backlogPackets: 1 });
  });
});
