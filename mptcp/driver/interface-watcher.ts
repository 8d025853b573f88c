/**
 * Notices local addresses appearing and disappearing at runtime (an interface coming up, a
 * DHCP lease, Wi-Fi roaming), in the spirit of the MIF API draft's events: "address added",
 * "address removed", each with its interface. It polls the interface list (os.networkInterfaces,
 * injectable) every `intervalMs`: no netlink socket, so it works unprivileged and portably, at
 * the cost of up to one interval of delay. Only global unicast addresses count (no loopback,
 * no link-local). A driver-layer tool: the clock and the interface list are its I/O.
 */
import { EventEmitter } from 'node:events';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface InterfaceAddress {
  address: string;
  family: 4 | 6;
  interface: string;
}

export type InterfaceLister = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/** The global unicast addresses in an interface list, by address. */
export function globalAddresses(list: NodeJS.Dict<NetworkInterfaceInfo[]>): Map<string, InterfaceAddress> {
  const out = new Map<string, InterfaceAddress>();
  for (const [name, infos] of Object.entries(list)) {
    for (const a of infos ?? []) {
      if (a.internal) continue;
      const v6 = a.family === 'IPv6';
      if (v6 && (a.address.toLowerCase().startsWith('fe80') || (a.scopeid ?? 0) !== 0)) continue;
      out.set(a.address, { address: a.address, family: v6 ? 6 : 4, interface: name });
    }
  }
  return out;
}

export interface InterfaceWatcherEvents {
  'address-added': [InterfaceAddress];
  'address-removed': [InterfaceAddress];
}

export class InterfaceWatcher extends EventEmitter<InterfaceWatcherEvents> {
  private known: Map<string, InterfaceAddress>;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly list: InterfaceLister = networkInterfaces,
    private readonly intervalMs = 1000,
  ) {
    super();
    this.known = globalAddresses(this.list());
  }

  /** The addresses present now. */
  current(): InterfaceAddress[] {
    return [...this.known.values()];
  }

  start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Compares the interface list with the last one and emits the differences. */
  poll(): void {
    const now = globalAddresses(this.list());
    const before = this.known;
    this.known = now;
    for (const [addr, info] of before) if (!now.has(addr)) this.emit('address-removed', info);
    for (const [addr, info] of now) if (!before.has(addr)) this.emit('address-added', info);
  }
}
