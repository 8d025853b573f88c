/**
 * Glue between the sans-IO TCP host and Node streams: a PacketEndpoint wrapper that, after
 * each batch of input or timers, dispatches connection events to the UserspaceSockets bound
 * to them, and the small contract a driver offers back (`wake`: poll me soon, the application
 * queued something). The raw-socket driver and the in-process loopback driver both drive it.
 */
import type { PacketEndpoint } from '../core/sans-io.js';
import type { HostConnection, TcpHost } from '../tcp/host.js';

/** What a driver offers to the runtime. */
export interface DriverHandle {
  /** Poll the endpoint for transmissions and re-arm its timer (soon, not re-entrantly). */
  wake(): void;
  /** The driver's clock, in the endpoint's time base (ms). */
  now(): number;
}

/** Something bound to a connection that wants its events (a UserspaceSocket). */
export interface ConnectionObserver {
  /** Drain the connection's events and data; return false once it can be forgotten. */
  pump(now: number): boolean;
}

export class StackRuntime implements PacketEndpoint {
  private driver: DriverHandle | null = null;
  private readonly observers = new Map<HostConnection, ConnectionObserver>();
  private dirty = false;
  private wakeScheduled = false;

  constructor(readonly host: TcpHost) {}

  attach(driver: DriverHandle): void {
    this.driver = driver;
  }

  now(): number {
    if (!this.driver) throw new Error('stack runtime: no driver attached');
    return this.driver.now();
  }

  observe(c: HostConnection, o: ConnectionObserver): void {
    this.observers.set(c, o);
  }

  /** Called by sockets after the application wrote, read or closed: let the driver poll us. */
  wake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    queueMicrotask(() => {
      this.wakeScheduled = false;
      this.driver?.wake();
    });
  }

  handlePacket(now: number, packet: Uint8Array): void {
    this.host.handlePacket(now, packet);
    this.dirty = true;
  }

  pollTransmit(now: number, out: Uint8Array): number {
    if (this.dirty) this.dispatch(now);
    return this.host.pollTransmit(now, out);
  }

  pollTimeout(): number {
    return this.host.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.host.handleTimeout(now);
    this.dispatch(now);
  }

  /**
   * Delivers events to the observers of the connections that saw input or timers; new
   * connections reach listeners inside host.handlePacket. Application calls pump their own
   * socket directly, so nothing else needs looking at.
   */
  dispatch(now: number): void {
    this.dirty = false;
    for (const c of this.host.takeTouched()) {
      const o = this.observers.get(c);
      if (o && !o.pump(now)) this.observers.delete(c);
    }
  }
}
