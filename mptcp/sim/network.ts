/**
 * The deterministic network simulator: a virtual clock, hosts (each a real PacketEndpoint, the
 * engine under test), one-directional links between them, routing of every packet by its
 * (source, destination) addresses, scripted callbacks, and the run loop. One seed drives the
 * whole run; each link draws from its own stream derived from the seed and the link's name, so
 * adding a link does not perturb the others. No real timers, clocks or Math.random.
 *
 * Order of events: the earliest first; at equal times packet deliveries and callbacks (in the
 * order they were scheduled) run before host timers (in the order hosts were added). Timers an
 * endpoint reports in the past run at `now`. After a delivery or timer the host concerned is
 * drained (pollTransmit until 0); after a callback, and when a run starts, every host is.
 * Code that changes an endpoint from outside (a test script, another host's handler) between
 * those points should call `sim.poll(host)` so its packets leave at the right time.
 */
import { MAX_PACKET, SeededRandom } from '../core/sans-io.js';
import { formatIp } from '../wire/ip-address.js';
import { EventQueue } from './event-queue.js';
import { Link, type LinkConfig } from './link.js';
import { Host, type HostSpec, type SimHost } from './host.js';
import { checkAddress, sameBytes } from './routing.js';
import { deriveSeed } from './seed.js';
import type { Tracer } from './trace.js';

export interface RouteSpec {
  /** Source address to match; omit for a destination-only (fallback) route. */
  readonly src?: Uint8Array;
  readonly dst: Uint8Array;
  readonly link: Link;
}

export interface PathSpec {
  readonly from: SimHost;
  readonly fromAddress: Uint8Array;
  readonly to: SimHost;
  readonly toAddress: Uint8Array;
  /** Configuration from -> to. */
  readonly config?: Partial<LinkConfig>;
  /** Configuration to -> from; defaults to `config`. */
  readonly reverseConfig?: Partial<LinkConfig>;
  /** Link names become `<name>/fwd` and `<name>/rev` (default: hosts and addresses). */
  readonly name?: string;
}

export interface LinkPair {
  readonly forward: Link;
  readonly reverse: Link;
}

export interface SimulatorOptions {
  readonly seed: number;
  /** Steps (events and transmitted packets) allowed without time advancing (default 1e6). */
  readonly maxStepsPerInstant?: number;
}

type Callback = (now: number) => void;

const NO_PACKET = new Uint8Array(0);

export class Simulator {
  readonly seed: number;
  readonly counters = { unroutable: 0, deliveries: 0, timeouts: 0, callbacks: 0 };
  private nowMs = 0;
  private stepsAtNow = 0;
  private readonly maxStepsPerInstant: number;
  private readonly hostList: Host[] = [];
  private readonly linkList: Link[] = [];
  private readonly queue = new EventQueue<Link | Callback, Uint8Array>();
  private readonly scratch = new Uint8Array(MAX_PACKET);
  private readonly scheduleDelivery = (time: number, link: Link, packet: Uint8Array) => this.queue.push(time, link, packet);
  private tracer: Tracer | undefined;

  constructor(options: SimulatorOptions | number) {
    const o = typeof options === 'number' ? { seed: options } : options;
    this.seed = o.seed >>> 0;
    this.maxStepsPerInstant = o.maxStepsPerInstant ?? 1e6;
  }

  /** Virtual time in milliseconds. */
  get now(): number {
    return this.nowMs;
  }

  get hosts(): readonly SimHost[] {
    return this.hostList;
  }

  get links(): readonly Link[] {
    return this.linkList;
  }

  /** A random stream for a host or test script, derived from the seed and `label`. */
  random(label: string): SeededRandom {
    return new SeededRandom(deriveSeed(this.seed, `random:${label}`));
  }

  addHost(spec: HostSpec): SimHost {
    if (this.hostList.some((h) => h.name === spec.name)) throw new Error(`host ${spec.name} already exists`);
    for (const a of spec.addresses) checkAddress(a, `host ${spec.name}`);
    const host = new Host(spec.name, spec.addresses.map((a) => a.slice()), spec.endpoint);
    this.hostList.push(host);
    return host;
  }

  host(name: string): SimHost {
    const h = this.hostList.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  link(name: string): Link {
    const l = this.linkList.find((x) => x.name === name);
    if (l === undefined) throw new Error(`no link ${name}`);
    return l;
  }

  /** A one-directional link without routes (add them with addRoute). */
  addLink(from: SimHost, to: SimHost, config: Partial<LinkConfig> = {}, name = `${from.name}->${to.name}`): Link {
    this.own(from);
    this.own(to);
    if (this.linkList.some((l) => l.name === name)) throw new Error(`link ${name} already exists`);
    const rng = new SeededRandom(deriveSeed(this.seed, `link:${name}`));
    const link = new Link(name, from, to, config, rng, this.scheduleDelivery);
    link.tracer = this.tracer;
    this.linkList.push(link);
    return link;
  }

  /** Packets `host` sends from `src` (or from any address) to `dst` take `route.link`. */
  addRoute(host: SimHost, route: RouteSpec): void {
    const h = this.own(host);
    if (route.link.from !== host) throw new Error(`link ${route.link.name} does not start at ${host.name}`);
    h.routes.add(route.src, route.dst, route.link);
  }

  /** Links both ways between two hosts, routed by destination address (any source address). */
  connect(a: SimHost, b: SimHost, configAB: Partial<LinkConfig> = {}, configBA: Partial<LinkConfig> = configAB): LinkPair {
    const forward = this.addLink(a, b, configAB);
    const reverse = this.addLink(b, a, configBA);
    for (const dst of b.addresses) this.addRoute(a, { dst, link: forward });
    for (const dst of a.addresses) this.addRoute(b, { dst, link: reverse });
    return { forward, reverse };
  }

  /** One path (a pair of links) between two addresses, routed by (source, destination). */
  addPath(p: PathSpec): LinkPair {
    const has = (h: SimHost, a: Uint8Array) => h.addresses.some((x) => sameBytes(x, a));
    if (!has(p.from, p.fromAddress)) throw new Error(`host ${p.from.name} has no address ${formatIp(p.fromAddress)}`);
    if (!has(p.to, p.toAddress)) throw new Error(`host ${p.to.name} has no address ${formatIp(p.toAddress)}`);
    const fa = formatIp(p.fromAddress);
    const ta = formatIp(p.toAddress);
    const fwdName = p.name === undefined ? `${p.from.name}[${fa}]->${p.to.name}[${ta}]` : `${p.name}/fwd`;
    const revName = p.name === undefined ? `${p.to.name}[${ta}]->${p.from.name}[${fa}]` : `${p.name}/rev`;
    const forward = this.addLink(p.from, p.to, p.config ?? {}, fwdName);
    const reverse = this.addLink(p.to, p.from, p.reverseConfig ?? p.config ?? {}, revName);
    this.addRoute(p.from, { src: p.fromAddress, dst: p.toAddress, link: forward });
    this.addRoute(p.to, { src: p.toAddress, dst: p.fromAddress, link: reverse });
    return { forward, reverse };
  }

  /** Installs `tracer` on every link, present and future, and for unroutable packets. */
  setTracer(tracer: Tracer | undefined): void {
    this.tracer = tracer;
    for (const l of this.linkList) l.tracer = tracer;
  }

  /** Runs `fn` at virtual time `timeMs` (at `now` if that is past), then polls every host. */
  at(timeMs: number, fn: (now: number) => void): void {
    if (Number.isNaN(timeMs) || timeMs === Infinity) throw new RangeError(`sim.at(${timeMs})`);
    this.queue.push(Math.max(timeMs, this.nowMs), fn, NO_PACKET);
  }

  /** Runs `fn` `ms` milliseconds from now. */
  after(ms: number, fn: (now: number) => void): void {
    this.at(this.nowMs + ms, fn);
  }

  /** Sends what `host` (or every host) has to send now and refreshes its timer. */
  poll(host?: SimHost): void {
    if (host === undefined) for (const h of this.hostList) this.drain(h);
    else this.drain(this.own(host));
  }

  /** True when nothing is scheduled: no packet in flight, no callback, no host timer. */
  isIdle(): boolean {
    return this.queue.size === 0 && this.hostList.every((h) => h.deadline === Infinity);
  }

  /** Runs every event up to and including `timeMs`, then sets the clock to `timeMs`. */
  runUntil(timeMs: number): void {
    if (!Number.isFinite(timeMs) || timeMs < this.nowMs) throw new RangeError(`runUntil(${timeMs}) at now = ${this.nowMs}`);
    this.poll();
    while (this.step(timeMs)) {
      // one event per step
    }
    this.advance(timeMs);
  }

  /** runUntil(now + ms). */
  runFor(ms: number): void {
    this.runUntil(this.nowMs + ms);
  }

  /**
   * Runs until idle (see isIdle) or until the clock would pass `maxTimeMs`, an absolute time.
   * Returns true when idle (the clock stays at the last event), false at the limit (the clock
   * is then `maxTimeMs`, if finite).
   */
  runUntilIdle(maxTimeMs: number): boolean {
    this.poll();
    for (;;) {
      if (this.isIdle()) return true;
      if (!this.step(maxTimeMs)) return this.stopAt(maxTimeMs, false);
    }
  }

  /**
   * Runs while `predicate()` holds (checked before the first event and after each one), until
   * the absolute time `maxTimeMs`. Returns true when the predicate became false; false when the
   * limit was reached or nothing was left to run (the clock is then `maxTimeMs`, if finite).
   */
  runWhile(predicate: () => boolean, maxTimeMs: number): boolean {
    this.poll();
    while (predicate()) {
      if (!this.step(maxTimeMs)) return this.stopAt(maxTimeMs, !predicate());
    }
    return true;
  }

  private stopAt(timeMs: number, result: boolean): boolean {
    if (Number.isFinite(timeMs) && timeMs > this.nowMs) this.advance(timeMs);
    return result;
  }

  /** Processes the earliest event if it is due by `limit`; false when there is none. */
  private step(limit: number): boolean {
    const heapTime = this.queue.peekTime();
    let host: Host | undefined;
    let hostTime = Infinity;
    for (const h of this.hostList) {
      if (h.deadline < hostTime) {
        hostTime = h.deadline;
        host = h;
      }
    }
    if (hostTime < this.nowMs) hostTime = this.nowMs;
    const t = heapTime <= hostTime ? heapTime : hostTime;
    if (t > limit || t === Infinity) return false;
    this.advance(t);
    if (heapTime <= hostTime) {
      const target = this.queue.peekTarget();
      const packet = this.queue.peekArg();
      this.queue.pop();
      if (typeof target === 'function') {
        this.counters.callbacks++;
        target(t);
        this.poll();
      } else {
        this.counters.deliveries++;
        target.delivered(t, packet);
        const to = target.to as Host;
        to.counters.received++;
        to.endpoint.handlePacket(t, packet);
        this.drain(to);
      }
    } else if (host !== undefined) {
      this.counters.timeouts++;
      host.counters.timeouts++;
      host.endpoint.handleTimeout(t);
      this.drain(host);
    }
    return true;
  }

  private advance(t: number): void {
    if (t > this.nowMs) {
      this.nowMs = t;
      this.stepsAtNow = 0;
    }
    this.tick();
  }

  private tick(): void {
    if (++this.stepsAtNow > this.maxStepsPerInstant) {
      const due = this.hostList.filter((h) => h.deadline <= this.nowMs).map((h) => `${h.name} (timer ${h.deadline})`);
      throw new Error(
        `simulator livelock at t=${this.nowMs} ms (seed ${this.seed}): ${this.stepsAtNow} steps without time advancing; ` +
          `hosts with due timers: ${due.join(', ') || 'none'}; events queued: ${this.queue.size}, next at ${this.queue.peekTime()}`,
      );
    }
  }

  /** pollTransmit until 0, routing every packet, then refresh the host's timer. */
  private drain(h: Host): void {
    const scratch = this.scratch;
    const now = this.nowMs;
    for (;;) {
      const len = h.endpoint.pollTransmit(now, scratch);
      if (len === 0) break;
      if (!(Number.isInteger(len) && len > 0 && len <= MAX_PACKET)) throw new RangeError(`host ${h.name}: pollTransmit returned ${len}`);
      this.tick();
      h.counters.sent++;
      const link = h.routes.lookup(scratch, len);
      if (link === undefined) {
        h.counters.unroutable++;
        this.counters.unroutable++;
        this.tracer?.(now, `unroutable:${h.name}`, 'drop', scratch.subarray(0, len), 'unroutable');
        continue;
      }
      link.offer(now, scratch.slice(0, len));
    }
    const deadline = h.endpoint.pollTimeout();
    if (Number.isNaN(deadline)) throw new RangeError(`host ${h.name}: pollTimeout returned NaN`);
    h.deadline = deadline;
  }

  private own(host: SimHost): Host {
    if (!(host instanceof Host) || !this.hostList.includes(host)) throw new Error(`host ${host.name} is not in this simulator`);
    return host;
  }
}
