/**
 * The network lab: turns a topology (topology.ts) into network namespaces, veth pairs,
 * addresses and policy routes, starts a link emulator process on every path, and gives tests
 * and benchmarks one handle to run things on its hosts and change its paths:
 *
 *   const lab = await Lab.up(loadTopologyFile('test/lab/topologies/wifi-lte.yaml'));
 *   const server = lab.spawn('aggregator', ['node', 'server.js']);
 *   await lab.exec('client', ['ping', '-c', '3', lab.plan.aggregator.v4]);
 *   await lab.path('wifi').set({ state: 'blackhole' });
 *   await lab.down();
 *
 * Hosts: client, aggregator, web, and emulator (the namespace holding the emulators' bridges).
 * Teardown kills everything started in the lab's namespaces and deletes them; it also runs at
 * process exit, and Lab.up removes labs whose owning process died (namespaces.ts).
 * Kernel MPTCP is configured on the client (a `subflow` endpoint per non-primary path address)
 * and the aggregator (limits), so any kernel MPTCP socket uses every path. A topology's shared
 * bottleneck is built on the aggregator (shared-bottleneck.ts).
 */
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { applyPathSpec, type PathConfig, type PathSpec } from './link-config.js';
import { EmulatorProcess, type Sample } from './emulator-process.js';
import { emulatorEntry } from './emulator-entry.js';
import type { EmulatorStats } from './emulator/protocol.js';
import { BOTTLENECK_IF, parseBottleneckStats, sharedBottleneckCommands, type SharedBottleneckStats } from './shared-bottleneck.js';
import { claimPrefix, cleanupStaleLabs, destroyNamespace, releasePrefix, run, runAsync, type ExecResult } from './namespaces.js';
import { planScript, planTopology, type Middlebox, type PathPlan, type ScriptSpec, type TopologyPlan, type TopologySpec } from './topology.js';

export type LabHost = 'client' | 'aggregator' | 'web' | 'emulator';
const HOSTS: readonly LabHost[] = ['client', 'aggregator', 'web', 'emulator'];

/** Frames per emulator pool (2 KiB each): queues plus what is in flight on one path. */
const POOL_SLOTS = 16384;

const live = new Set<Lab>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const lab of live) lab.downSync();
  });
}

/** One path of a running lab: its plan, its emulator, and changes to it. */
export class LabPath {
  private current: PathConfig;

  constructor(
    private readonly lab: Lab,
    readonly plan: PathPlan,
    private readonly emu: EmulatorProcess | undefined,
  ) {
    this.current = plan.config;
  }

  /** The path's emulator process; throws for a path built with `emulate: false`. */
  get emulator(): EmulatorProcess {
    if (this.emu === undefined) throw new Error(`lab: path "${this.name}" is a plain bridge (emulate: false): it has no emulator`);
    return this.emu;
  }

  get name(): string {
    return this.plan.name;
  }

  /** The configuration last set through set() (a running script may have changed it since). */
  get config(): PathConfig {
    return this.current;
  }

  /** Changes the path now: spec fields apply on top of the configuration last set. */
  async set(spec: PathSpec): Promise<void> {
    const next = applyPathSpec(this.name, this.current, spec);
    await this.emulator.request({ cmd: 'set', config: next });
    this.current = next;
  }

  /** Runs a script of timed changes from now (on top of the configuration last set). */
  async script(spec: ScriptSpec): Promise<void> {
    const s = planScript(this.name, this.current, spec);
    await this.emulator.request({ cmd: 'script', steps: s.steps, repeatMs: s.repeatMs });
  }

  /** Back to the topology's configuration for this path, with any running script stopped. */
  async reset(): Promise<void> {
    if (this.emu === undefined) return;
    await this.emulator.request({ cmd: 'script', steps: [], repeatMs: 0 });
    await this.emulator.request({ cmd: 'set', config: this.plan.config });
    this.current = this.plan.config;
  }

  stats(): Promise<EmulatorStats> {
    return this.emulator.stats();
  }

  /** Starts (or with 0 stops) throughput samples every intervalMs; they collect in `samples`. */
  async sample(intervalMs: number): Promise<void> {
    if (this.emu !== undefined) await this.emu.request({ cmd: 'sample', intervalMs });
  }

  /** Throughput samples so far ([] for a plain bridge). */
  get samples(): Sample[] {
    return this.emu?.samples ?? [];
  }

  /** For Lab.down. */
  stopEmulator(): Promise<void> {
    return this.emu?.stop() ?? Promise.resolve();
  }

  killEmulator(): void {
    this.emu?.kill();
  }

  /** Installs or removes the MPTCP-stripping middlebox on this path. */
  setMiddlebox(m: Middlebox): void {
    this.lab.applyMiddlebox(this.plan, m);
  }
}

export class Lab {
  readonly namespaces: Record<LabHost, string>;
  private readonly children = new Set<ChildProcess>();
  private readonly pathList: LabPath[] = [];
  private closed = false;

  private constructor(
    readonly prefix: string,
    readonly plan: TopologyPlan,
  ) {
    this.namespaces = { client: `${prefix}-client`, aggregator: `${prefix}-agg`, web: `${prefix}-web`, emulator: `${prefix}-emu` };
  }

  /** Builds the lab (root needed). On failure everything built so far is removed. */
  static async up(topology: TopologySpec): Promise<Lab> {
    const plan = planTopology(topology);
    cleanupStaleLabs();
    const lab = new Lab(claimPrefix(), plan);
    live.add(lab);
    installExitHook();
    try {
      lab.build();
      const entry = await emulatorEntry();
      const emulators = await Promise.all(
        plan.paths.map((p) =>
          !p.emulate
            ? Promise.resolve(undefined)
            : EmulatorProcess.start(lab.namespaces.emulator, entry, { name: p.name, clientIf: p.emuClientIf, aggregatorIf: p.emuAggregatorIf, config: p.config, seed: plan.seed + p.index, poolSlots: POOL_SLOTS }),
        ),
      );
      plan.paths.forEach((p, i) => lab.pathList.push(new LabPath(lab, p, emulators[i])));
      for (const p of lab.pathList) if (p.plan.script !== undefined) await p.emulator.request({ cmd: 'script', steps: p.plan.script.steps, repeatMs: p.plan.script.repeatMs });
      return lab;
    } catch (e) {
      await lab.down();
      throw e;
    }
  }

  get paths(): readonly LabPath[] {
    return this.pathList;
  }

  path(name: string): LabPath {
    const p = this.pathList.find((x) => x.name === name);
    if (p === undefined) throw new Error(`lab: no path named "${name}" (paths: ${this.pathList.map((x) => x.name).join(', ')})`);
    return p;
  }

  /** The shared bottleneck's counters; throws when the topology has none. */
  bottleneckStats(): SharedBottleneckStats {
    if (this.plan.sharedBottleneck === undefined) throw new Error('lab: this topology has no shared bottleneck');
    return parseBottleneckStats(this.execSync('aggregator', ['tc', '-s', '-j', 'qdisc', 'show', 'dev', BOTTLENECK_IF]));
  }

  /** Runs a command on a host and waits; never rejects for a non-zero exit (see `code`). */
  exec(host: LabHost, argv: readonly string[], timeoutMs = 0): Promise<ExecResult> {
    return runAsync('ip', ['netns', 'exec', this.namespaces[host], ...argv], timeoutMs);
  }

  /** Runs a command on a host synchronously; throws with its stderr when it fails. */
  execSync(host: LabHost, argv: readonly string[], input?: string): string {
    return run('ip', ['netns', 'exec', this.namespaces[host], ...argv], input);
  }

  /** Starts a long-running command on a host; it is killed when the lab goes down. */
  spawn(host: LabHost, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const c = spawnChild('ip', ['netns', 'exec', this.namespaces[host], ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
    return c;
  }

  /** Stops the emulators and everything started in the lab, and deletes its namespaces. */
  async down(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.pathList.map((p) => p.stopEmulator()));
    this.downSync();
  }

  /** The synchronous part of down(), also run at process exit. */
  downSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pathList) p.killEmulator();
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const h of HOSTS) destroyNamespace(this.namespaces[h]);
    releasePrefix(this.prefix);
    live.delete(this);
  }

  /** iptables TCPOPTSTRIP of option 30 on the egress of both hosts' interfaces of one path. */
  applyMiddlebox(p: PathPlan, m: Middlebox): void {
    for (const host of ['client', 'aggregator'] as const) {
      for (const tool of this.plan.ipv6 ? ['iptables', 'ip6tables'] : ['iptables']) {
        const rule = ['POSTROUTING', '-o', p.hostIf, '-p', 'tcp', '-j', 'TCPOPTSTRIP', '--strip-options', '30'];
        const has = (() => {
          try {
            this.execSync(host, [tool, '-t', 'mangle', '-C', ...rule]);
            return true;
          } catch {
            return false;
          }
        })();
        if (m === 'strip-mptcp' && !has) this.execSync(host, [tool, '-t', 'mangle', '-A', ...rule]);
        if (m === 'none' && has) this.execSync(host, [tool, '-t', 'mangle', '-D', ...rule]);
      }
    }
  }

  private build(): void {
    const ns = this.namespaces;
    const plan = this.plan;
    for (const h of HOSTS) run('ip', ['netns', 'add', ns[h]]);
    // The emulator namespace is a wire: no addresses, no IPv6 chatter of its own.
    this.sysctl('emulator', ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    for (const h of ['client', 'aggregator', 'web'] as const) {
      // No cached TCP metrics: every benchmark run starts from the same state.
      this.sysctl(h, ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.tcp_no_metrics_save=1', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      if (plan.tcpCongestion !== undefined) this.setCongestion(h, plan.tcpCongestion);
    }
    const root: string[] = [];
    for (const p of plan.paths) {
      root.push(`link add ${p.hostIf} netns ${ns.client} type veth peer name ${p.emuClientIf} netns ${ns.emulator}`);
      root.push(`link add ${p.hostIf} netns ${ns.aggregator} type veth peer name ${p.emuAggregatorIf} netns ${ns.emulator}`);
    }
    root.push(`link add web netns ${ns.aggregator} type veth peer name agg netns ${ns.web}`);
    run('ip', ['-batch', '-'], root.join('\n') + '\n');

    const v6 = plan.ipv6;
    const client = ['link set lo up'];
    const client6: string[] = []; // ip rule needs the family given (ip -6)
    const agg = ['link set lo up', `addr add ${plan.aggregator.v4}/32 dev lo`];
    const emu = ['link set lo up'];
    if (v6) agg.push(`addr add ${plan.aggregator.v6}/128 dev lo`);
    const primary = plan.paths[plan.primary];
    for (const p of plan.paths) {
      client.push(`addr add ${p.client.v4}/24 dev ${p.hostIf}`, `link set ${p.hostIf} up`);
      client.push(`route add default via ${p.aggregator.v4} dev ${p.hostIf} table ${p.table}`, `rule add from ${p.client.v4} table ${p.table}`);
      agg.push(`addr add ${p.aggregator.v4}/24 dev ${p.hostIf}`, `link set ${p.hostIf} up`);
      if (!p.emulate) {
        const br = `br${p.index}`;
        emu.push(`link add ${br} type bridge`, `link set ${p.emuClientIf} master ${br}`, `link set ${p.emuAggregatorIf} master ${br}`, `link set ${br} up`);
      }
      emu.push(`link set ${p.emuClientIf} up`, `link set ${p.emuAggregatorIf} up`);
      if (v6) {
        client.push(`addr add ${p.client.v6}/64 dev ${p.hostIf} nodad`);
        client6.push(`route add default via ${p.aggregator.v6} dev ${p.hostIf} table ${p.table}`, `rule add from ${p.client.v6} table ${p.table}`);
        agg.push(`addr add ${p.aggregator.v6}/64 dev ${p.hostIf} nodad`);
      }
    }
    client.push(`route add default via ${primary.aggregator.v4} dev ${primary.hostIf}`);
    if (v6) client6.push(`route add default via ${primary.aggregator.v6} dev ${primary.hostIf}`);
    // Kernel MPTCP: every other path's address opens a subflow; room for all of them.
    client.push('mptcp limits set subflows 8 add_addr_accepted 8');
    for (const p of plan.paths) {
      if (p.index === plan.primary) continue;
      client.push(`mptcp endpoint add ${p.client.v4} dev ${p.hostIf} subflow`);
      if (v6) client.push(`mptcp endpoint add ${p.client.v6} dev ${p.hostIf} subflow`);
    }
    agg.push('mptcp limits set subflows 8 add_addr_accepted 8');
    agg.push(`addr add ${plan.aggregatorWebSide.v4}/24 dev web`, 'link set web up');
    const web = ['link set lo up', `addr add ${plan.web.v4}/24 dev agg`, 'link set agg up', `route add default via ${plan.aggregatorWebSide.v4}`];
    if (v6) {
      agg.push(`addr add ${plan.aggregatorWebSide.v6}/64 dev web nodad`);
      web.push(`addr add ${plan.web.v6}/64 dev agg nodad`, `route add default via ${plan.aggregatorWebSide.v6}`);
    }
    this.ipBatch('emulator', emu);
    this.ipBatch('client', client);
    if (client6.length > 0) run('ip', ['-6', '-n', ns.client, '-batch', '-'], client6.join('\n') + '\n');
    this.ipBatch('aggregator', agg);
    this.ipBatch('web', web);
    // Whole frames with finished checksums cross the emulator: no TSO/GSO super-frames, no
    // partial checksums (an AF_PACKET bridge forwards bytes, not the kernel's offload state).
    for (const h of ['client', 'aggregator'] as const) {
      for (const p of plan.paths) this.execSync(h, ['ethtool', '-K', p.hostIf, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    }
    for (const p of plan.paths) if (p.middlebox !== 'none') this.applyMiddlebox(p, p.middlebox);
    if (plan.sharedBottleneck !== undefined) {
      const cmds = sharedBottleneckCommands(plan.sharedBottleneck, plan.paths.map((p) => p.hostIf));
      this.ipBatch('aggregator', cmds.ip);
      run('tc', ['-n', ns.aggregator, '-batch', '-'], cmds.tc.join('\n') + '\n');
    }
  }

  /**
   * The namespace's default TCP congestion control: plain TCP, and every kernel MPTCP subflow
   * (the kernel gives joined subflows the MPTCP socket's, i.e. this default, not a route's).
   */
  private setCongestion(host: LabHost, name: string): void {
    try {
      this.sysctl(host, [`net.ipv4.tcp_congestion_control=${name}`]);
    } catch (e) {
      // Outside the initial namespace only names in the global allowed list may be the default.
      const allowed = run('sysctl', ['-n', 'net.ipv4.tcp_allowed_congestion_control']).trim();
      throw new Error(`lab: tcpCongestion ${name} refused (a namespace's default must be in net.ipv4.tcp_allowed_congestion_control: ${allowed}; reno always is)`, { cause: e });
    }
  }

  private sysctl(host: LabHost, settings: string[]): void {
    this.execSync(host, ['sysctl', '-q', '-w', ...settings]);
  }

  private ipBatch(host: LabHost, lines: string[]): void {
    run('ip', ['-n', this.namespaces[host], '-batch', '-'], lines.join('\n') + '\n');
  }
}
