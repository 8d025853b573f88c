/**
 * The kernel's per-interface counters (`ip -s link`) as evidence of which link carried a
 * transfer, independent of anything the proxy reports about itself: bytes and packets both
 * ways, read for several interfaces of a namespace at once, and a sampler that reads them
 * during a transfer so rates can be taken over a window.
 *
 * On a veth the byte counters count whole Ethernet frames: the 14-byte Ethernet header, the IP
 * and TCP headers (with options) and the payload. No frame carrying TCP has less than 54
 * bytes of headers (Ethernet 14 + IPv4 20 + TCP 20), so `bytes - 54 x packets` is an upper
 * bound on the TCP payload a link carried (pure ACKs, ARP and the like only lower it further).
 */
import { execFileSync } from 'node:child_process';

export interface LinkCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/** Ethernet + IPv4 + TCP headers without options: the least any TCP frame has. */
export const MIN_TCP_FRAME_HEADERS = 54;

interface IpLinkStats {
  ifname: string;
  stats64: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } };
}

/** The counters of `devs` in namespace `ns`, in that order (one `ip` call). */
export function readLinkCounters(ns: string, devs: readonly string[]): LinkCounters[] {
  const all = JSON.parse(execFileSync('ip', ['-j', '-s', '-n', ns, 'link', 'show'], { encoding: 'utf8' })) as IpLinkStats[];
  return devs.map((d) => {
    const s = all.find((l) => l.ifname === d);
    if (s === undefined) throw new Error(`no interface ${d} in namespace ${ns}`);
    return { rxBytes: s.stats64.rx.bytes, rxPackets: s.stats64.rx.packets, txBytes: s.stats64.tx.bytes, txPackets: s.stats64.tx.packets };
  });
}

/** b - a, field by field. */
export function countersDelta(a: LinkCounters, b: LinkCounters): LinkCounters {
  return { rxBytes: b.rxBytes - a.rxBytes, rxPackets: b.rxPackets - a.rxPackets, txBytes: b.txBytes - a.txBytes, txPackets: b.txPackets - a.txPackets };
}

/** At most this much TCP payload was received (`rx`), sent (`tx`) or both over the link. */
export function payloadAtMost(c: LinkCounters, way: 'rx' | 'tx' | 'both'): number {
  const rx = Math.max(0, c.rxBytes - MIN_TCP_FRAME_HEADERS * c.rxPackets);
  const tx = Math.max(0, c.txBytes - MIN_TCP_FRAME_HEADERS * c.txPackets);
  return way === 'rx' ? rx : way === 'tx' ? tx : rx + tx;
}

export interface LinkSample {
  /** Milliseconds since the sampler started. */
  t: number;
  /** Counters since the sampler started, one per device. */
  links: LinkCounters[];
}

/**
 * Reads the counters of `devs` every `intervalMs` from start() until stop(); every sample is
 * relative to the counters at start(). between() gives the counters over a time window.
 */
export class LinkSampler {
  readonly samples: LinkSample[] = [];
  private base: LinkCounters[] = [];
  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly ns: string,
    private readonly devs: readonly string[],
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.base = readLinkCounters(this.ns, this.devs);
    this.t0 = Date.now();
    this.samples.length = 0;
    this.samples.push({ t: 0, links: this.base.map((b) => countersDelta(b, b)) });
    this.timer = setInterval(() => {
      try {
        this.sample();
      } catch (e) {
        // Not thrown from a timer (an uncaught exception): stop() reports it.
        this.failure ??= e instanceof Error ? e : new Error(String(e));
        clearInterval(this.timer);
      }
    }, this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Takes one more sample now and returns it. */
  sample(): LinkSample {
    const now = readLinkCounters(this.ns, this.devs);
    const s = { t: Date.now() - this.t0, links: now.map((c, i) => countersDelta(this.base[i], c)) };
    this.samples.push(s);
    return s;
  }

  /**
   * Stops sampling after a last sample; returns it (the totals since start()). Throws when a
   * sample failed (the namespace went away).
   */
  stop(): LinkSample {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.failure !== undefined) throw this.failure;
    return this.sample();
  }

  /** The sample nearest to `t` ms after start. */
  at(t: number): LinkSample {
    let best = this.samples[0];
    for (const s of this.samples) if (Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
    return best;
  }

  /** Counters between the samples nearest to `fromMs` and `toMs`, and the real span (ms). */
  between(fromMs: number, toMs: number): { ms: number; links: LinkCounters[] } {
    const a = this.at(fromMs);
    const b = this.at(toMs);
    return { ms: b.t - a.t, links: b.links.map((c, i) => countersDelta(a.links[i], c)) };
  }
}
