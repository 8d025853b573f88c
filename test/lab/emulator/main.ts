/**
 * The link emulator process: one per lab path, run by the lab inside its emulator namespace
 * (`ip netns exec NS node main.js --client c0 --aggregator a0 ...`). It is a userspace L2
 * bridge between the path's two interfaces: every Ethernet frame read on the client side goes
 * through the uplink shaper and out on the aggregator side, and the other way through the
 * downlink shaper. Frames wait in place in one pool of fixed slots; I/O is batched
 * (recvmmsg/sendmmsg through the mptcp_packet addon) and deadlines use a timerfd, so delays are
 * kept to tens of microseconds rather than Node's 1 ms timers. Control: JSON lines on stdin
 * (protocol.ts); it exits when stdin closes. All shaping decisions are PathEmulator's.
 */
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { decodeJson, encodeJson, type PathConfig, type PathState } from '../link-config.js';
import { POLL_READABLE, requirePacketBinding, type PacketBinding } from '../packet-binding.js';
import { PathEmulator } from './path-emulator.js';
import { parseCommand, wallClock, type EmulatorCommand, type EmulatorEvent, type EmulatorStats } from './protocol.js';
import type { DirectionShaper } from './shaper.js';

const SLOT = 2048;
const BATCH = 64;
/** Frames due within this many ms are sent with the current batch (saves a wakeup). */
const SLACK_MS = 0.02;
/** Bound of the timer's early firing that compensates the measured wakeup latency. */
const MAX_EARLY_MS = 0.3;

export interface EmulatorOptions {
  name: string;
  clientIf: string;
  aggregatorIf: string;
  config: PathConfig;
  seed: number;
  poolSlots: number;
}

/** The command line for an emulator process (the lab uses this to start one). */
export function emulatorArgs(o: EmulatorOptions): string[] {
  return ['--name', o.name, '--client', o.clientIf, '--aggregator', o.aggregatorIf, '--seed', String(o.seed), '--slots', String(o.poolSlots), '--config', encodeJson(o.config)];
}

function parseArgs(argv: readonly string[]): EmulatorOptions {
  const get = (flag: string): string => {
    const i = argv.indexOf(flag);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`emulator: missing ${flag}`);
    return argv[i + 1];
  };
  return { name: get('--name'), clientIf: get('--client'), aggregatorIf: get('--aggregator'), seed: Number(get('--seed')), poolSlots: Number(get('--slots')), config: decodeJson(get('--config')) as PathConfig };
}

/** One side of the bridge: frames read here go through `shaper` and out of `peer`. */
interface Side {
  ifname: string;
  fd: number;
  shaper: DirectionShaper;
  peer: Side | undefined;
}

export class Bridge {
  readonly emu: PathEmulator;
  private readonly pool: Uint8Array;
  private readonly free: Int32Array;
  private nFree: number;
  private readonly frameLen: Uint32Array;
  private readonly rxSlots = new Uint32Array(BATCH);
  private readonly rxLens = new Uint32Array(BATCH);
  private readonly rxAges = new Float64Array(BATCH);
  private readonly txSlots = new Uint32Array(BATCH);
  private readonly txLens = new Uint32Array(BATCH);
  private readonly txErrors = new Int32Array(BATCH);
  private readonly scratch = new Uint32Array(BATCH);
  private readonly client: Side;
  private readonly aggregator: Side;
  private readonly timer: number;
  private droppedPool = 0;
  private droppedOversize = 0;
  private sendErrors = 0;
  /** When the armed timer should fire, and the running estimate of how late timers fire. */
  private armedFor = Infinity;
  private earlyMs = 0;
  private readonly release = (id: number): void => {
    this.free[this.nFree++] = id;
  };

  constructor(
    private readonly io: PacketBinding,
    private readonly opts: EmulatorOptions,
    private readonly onState: (state: PathState) => void,
  ) {
    this.emu = new PathEmulator(opts.config, new SeededRandom(opts.seed));
    this.pool = new Uint8Array(opts.poolSlots * SLOT);
    this.free = new Int32Array(opts.poolSlots);
    for (let i = 0; i < opts.poolSlots; i++) this.free[i] = opts.poolSlots - 1 - i;
    this.nFree = opts.poolSlots;
    this.frameLen = new Uint32Array(opts.poolSlots);
    const buf = 8 * 1024 * 1024;
    this.client = { ifname: opts.clientIf, fd: io.openPacket(opts.clientIf, buf), shaper: this.emu.uplink, peer: undefined };
    this.aggregator = { ifname: opts.aggregatorIf, fd: io.openPacket(opts.aggregatorIf, buf), shaper: this.emu.downlink, peer: this.client };
    this.client.peer = this.aggregator;
    this.timer = io.timerCreate();
    io.startPolling(this.client.fd, POLL_READABLE, () => this.receive(this.client));
    io.startPolling(this.aggregator.fd, POLL_READABLE, () => this.receive(this.aggregator));
    io.startPolling(this.timer, POLL_READABLE, () => this.onTimer());
  }

  /** Applies a configuration now (state changes included). */
  apply(config: PathConfig): void {
    const changed = this.emu.apply(config, this.release);
    if (changed !== null) this.onState(changed);
    this.service();
  }

  startScript(steps: Parameters<PathEmulator['startScript']>[1], repeatMs: number): void {
    this.emu.startScript(performance.now(), steps, repeatMs);
    this.service();
  }

  stats(): EmulatorStats {
    return {
      uplink: { ...this.emu.uplink.counters },
      downlink: { ...this.emu.downlink.counters },
      holding: this.opts.poolSlots - this.nFree,
      poolSlots: this.opts.poolSlots,
      droppedPool: this.droppedPool,
      droppedOversize: this.droppedOversize,
      sendErrors: this.sendErrors,
      state: this.emu.config.state,
    };
  }

  close(): void {
    for (const fd of [this.client.fd, this.aggregator.fd, this.timer]) this.io.close(fd);
  }

  /** Reads what is waiting on one side (bounded, so the other side gets its turn). */
  private receive(side: Side): void {
    for (let round = 0; round < 16; round++) {
      const want = Math.min(BATCH, this.nFree);
      let n: number;
      if (want === 0) {
        // Pool exhausted: drain into a scratch slot and count the drops.
        this.scratch[0] = 0;
        n = this.io.recvInto(side.fd, this.pool, SLOT, this.scratch, 1, this.rxLens, this.rxAges);
        if (n > 0) this.droppedPool += n;
        if (n <= 0) break;
        continue;
      }
      for (let i = 0; i < want; i++) this.rxSlots[i] = this.free[--this.nFree];
      n = this.io.recvInto(side.fd, this.pool, SLOT, this.rxSlots, want, this.rxLens, this.rxAges);
      const now = performance.now();
      const got = n > 0 ? n : 0;
      for (let i = 0; i < got; i++) {
        const slot = this.rxSlots[i];
        const len = this.rxLens[i];
        if (len === 0) {
          this.droppedOversize++;
          this.free[this.nFree++] = slot;
          continue;
        }
        this.frameLen[slot] = len;
        // The frame arrived when the kernel stamped it, not when we woke up to read it.
        if (!side.shaper.offer(now - this.rxAges[i], slot, len)) this.free[this.nFree++] = slot;
      }
      for (let i = got; i < want; i++) this.free[this.nFree++] = this.rxSlots[i];
      if (n < want) break;
    }
    this.service();
  }

  /** The timer fired: learn how late (an EWMA), then do the work due. */
  private onTimer(): void {
    if (this.armedFor !== Infinity) {
      const late = performance.now() - this.armedFor;
      this.earlyMs = Math.min(MAX_EARLY_MS, Math.max(0, this.earlyMs + 0.1 * (late - this.earlyMs)));
    }
    this.service();
  }

  /**
   * Sends every frame due, runs due script steps, and arms the timer for the next deadline,
   * earlier by the timer's usual lateness so frames leave on time on average.
   */
  private service(): void {
    let now = performance.now();
    const changed = this.emu.advance(now, this.release);
    if (changed !== null) this.onState(changed);
    const until = now + Math.max(SLACK_MS, this.earlyMs);
    this.flush(this.client, until);
    this.flush(this.aggregator, until);
    now = performance.now();
    const next = this.emu.nextDeadline();
    if (next === Infinity) {
      this.armedFor = Infinity;
      this.io.timerArm(this.timer, Infinity);
    } else {
      const delay = Math.max(0, next - this.earlyMs - now);
      this.armedFor = now + delay;
      this.io.timerArm(this.timer, delay);
    }
  }

  /** Sends the frames of `side`'s shaper that are due by `until` out of the peer side. */
  private flush(side: Side, until: number): void {
    const out = side.peer;
    if (out === undefined) return;
    for (;;) {
      let count = 0;
      while (count < BATCH) {
        const slot = side.shaper.take(until);
        if (slot < 0) break;
        this.txSlots[count] = slot;
        this.txLens[count] = this.frameLen[slot];
        count++;
      }
      if (count === 0) return;
      const sent = this.io.sendFrom(out.fd, this.pool, SLOT, this.txSlots, count, this.txLens, this.txErrors);
      for (let i = 0; i < count; i++) {
        if (i >= sent || this.txErrors[i] !== 0) this.sendErrors++; // buffer full or refused: dropped
        this.free[this.nFree++] = this.txSlots[i];
      }
      if (count < BATCH) return;
    }
  }
}

function emit(e: EmulatorEvent): void {
  process.stdout.write(`${encodeJson(e)}\n`);
}

/** Turns both interfaces off (state down) or on (leaving down), so the hosts see carrier loss. */
function setCarrier(opts: EmulatorOptions, up: boolean): void {
  for (const dev of [opts.clientIf, opts.aggregatorIf]) {
    execFile('ip', ['link', 'set', 'dev', dev, up ? 'up' : 'down'], (err) => {
      if (err !== null) emit({ ev: 'error', id: null, message: `ip link set ${dev}: ${err.message}` });
    });
  }
}

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const opts = parseArgs(argv);
  let state = opts.config.state;
  const bridge = new Bridge(requirePacketBinding(), opts, (s) => {
    if ((s === 'down') !== (state === 'down')) setCarrier(opts, s !== 'down');
    state = s;
    emit({ ev: 'state', t: wallClock(), state: s });
  });
  if (state === 'down') setCarrier(opts, false);
  let sampler: NodeJS.Timeout | undefined;
  const handle = (c: EmulatorCommand): void => {
    switch (c.cmd) {
      case 'set':
        bridge.apply(c.config);
        break;
      case 'script':
        bridge.startScript(c.steps, c.repeatMs);
        break;
      case 'stats':
        emit({ ev: 'stats', id: c.id, stats: bridge.stats() });
        return;
      case 'sample':
        clearInterval(sampler);
        sampler = undefined;
        if (c.intervalMs > 0) {
          const up = bridge.emu.uplink;
          const down = bridge.emu.downlink;
          const sample = () => {
            const now = performance.now();
            emit({ ev: 'sample', t: wallClock(), uplinkBytes: up.counters.deliveredBytes, downlinkBytes: down.counters.deliveredBytes, uplinkQueue: up.queued(now), downlinkQueue: down.queued(now) });
          };
          sample();
          sampler = setInterval(sample, c.intervalMs);
        }
        break;
    }
    emit({ ev: 'ok', id: c.id });
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    const c = parseCommand(line);
    if (typeof c === 'string') {
      emit({ ev: 'error', id: null, message: c });
      return;
    }
    try {
      handle(c);
    } catch (e) {
      emit({ ev: 'error', id: c.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
  rl.on('close', () => {
    clearInterval(sampler);
    bridge.close();
    process.exit(0);
  });
  emit({ ev: 'ready', pid: process.pid });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
