/**
 * A simulated router: a host whose endpoint forwards every packet it receives, unchanged, the
 * instant it arrives; the simulator routes it on by its addresses (Simulator.addRoute). Links
 * into and out of the router are ordinary links, so several flows from different hosts can
 * share one bottleneck link (router -> server) with its rate and drop-tail queue: the topology
 * of a shared bottleneck (RFC 6356 §2) that host-to-host paths cannot express. No TTL, no
 * checksum change: the packet is the one that came in.
 */
import type { PacketEndpoint } from '../core/sans-io.js';

export class Router implements PacketEndpoint {
  /** Packets received and not yet handed on (the simulator drains the router at once). */
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  forwarded = 0;

  handlePacket(_now: number, packet: Uint8Array): void {
    this.queue.push(packet.slice()); // the caller may reuse `packet` (PacketEndpoint)
  }

  pollTransmit(_now: number, out: Uint8Array): number {
    if (this.head === this.queue.length) return 0;
    const p = this.queue[this.head++];
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    out.set(p);
    this.forwarded++;
    return p.length;
  }

  pollTimeout(): number {
    return Infinity;
  }

  handleTimeout(_now: number): void {}
}
