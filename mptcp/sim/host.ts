/**
 * A simulated host: its name, addresses and endpoint (the real engine under test), its counters,
 * its route table, and the simulator's cached copy of its next timer deadline.
 */
import type { PacketEndpoint } from '../core/sans-io.js';
import { RouteTable } from './routing.js';

export interface HostSpec {
  readonly name: string;
  /** IPv4 (4 bytes) and/or IPv6 (16 bytes) addresses, network order. */
  readonly addresses: readonly Uint8Array[];
  readonly endpoint: PacketEndpoint;
}

export interface SimHost extends HostSpec {
  readonly counters: { sent: number; received: number; timeouts: number; unroutable: number };
}

/** The simulator's own record of a host (SimHost is its public face). */
export class Host implements SimHost {
  readonly counters = { sent: 0, received: 0, timeouts: 0, unroutable: 0 };
  /** endpoint.pollTimeout() as of the last time the simulator touched the endpoint. */
  deadline = Infinity;
  readonly routes = new RouteTable();
  constructor(
    readonly name: string,
    readonly addresses: readonly Uint8Array[],
    readonly endpoint: PacketEndpoint,
  ) {}
}
