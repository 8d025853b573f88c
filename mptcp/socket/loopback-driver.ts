/**
 * An in-process driver on real time: moves packets between StackRuntimes (hosts) with an
 * optional fixed delay, keeps one timer per runtime from pollTimeout(), and offers `wake()`.
 * It lets the socket API, the proxy and the demo run without privileges; the raw-socket
 * driver (mptcp/driver) is the production path with identical runtime semantics.
 */
import { performance } from 'node:perf_hooks';
import { MAX_PACKET } from '../core/sans-io.js';
import type { DriverHandle, StackRuntime, StreamStack } from './runtime.js';

export class LoopbackDriver {
  private readonly runtimes: StackRuntime<StreamStack>[] = [];
  private readonly timers = new Map<StackRuntime<StreamStack>, { at: number; handle: NodeJS.Timeout }>();
  private readonly out = new Uint8Array(MAX_PACKET);
  private closed = false;

  constructor(private readonly delayMs = 0) {}

  now(): number {
    return performance.now();
  }

  add(rt: StackRuntime<StreamStack>): void {
    this.runtimes.push(rt);
    const handle: DriverHandle = { wake: () => this.service(rt), now: () => this.now() };
    rt.attach(handle);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t.handle);
    this.timers.clear();
  }

  private route(packet: Uint8Array): StackRuntime<StreamStack> | undefined {
    const v4 = packet[0] >>> 4 === 4;
    const dst = v4 ? packet.subarray(16, 20) : packet.subarray(24, 40);
    return this.runtimes.find((r) => r.host.addresses.some((a) => a.length === dst.length && a.every((b, i) => b === dst[i])));
  }

  private service(rt: StackRuntime<StreamStack>): void {
    if (this.closed) return;
    const now = this.now();
    if (rt.pollTimeout() <= now) rt.handleTimeout(now);
    for (let n = rt.pollTransmit(now, this.out); n > 0; n = rt.pollTransmit(now, this.out)) {
      const packet = this.out.slice(0, n);
      const to = this.route(packet);
      if (!to) continue;
      const deliver = () => {
        if (this.closed) return;
        to.handlePacket(this.now(), packet);
        this.service(to);
      };
      if (this.delayMs > 0) setTimeout(deliver, this.delayMs).unref();
      else setImmediate(deliver);
    }
    this.arm(rt);
  }

  private arm(rt: StackRuntime<StreamStack>): void {
    const at = rt.pollTimeout();
    const cur = this.timers.get(rt);
    if (cur && cur.at === at) return;
    if (cur) clearTimeout(cur.handle);
    if (at === Infinity) {
      this.timers.delete(rt);
      return;
    }
    const handle = setTimeout(() => {
      this.timers.delete(rt);
      this.service(rt);
    }, Math.max(0, at - this.now()));
    handle.unref();
    this.timers.set(rt, { at, handle });
  }
}
