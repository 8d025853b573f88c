/**
 * Glue between a sans-IO stack (the TCP host or the MPTCP stack) and Node streams: a
 * PacketEndpoint wrapper that, after each batch of input or timers, dispatches connection
 * events to the sockets bound to them, and the small contract a driver offers back (`wake`:
 * poll me soon, the application queued something). The raw-socket driver and the in-process
 * loopback driver both drive it.
 */
import type { PacketEndpoint } from '../core/sans-io.js';
import type { TcpHost } from '../tcp/host.js';

/** A stack the runtime can drive: packets in and out, and which connections changed. */
export interface StreamStack extends PacketEndpoint {
  /** The connections that saw input or timers since the last call (each once). */
  takeTouched(): readonly object[];
  /** Local addresses (the loopback driver routes by them). */
  readonly addresses: readonly Uint8Array[];
}

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

export class StackRuntime<S extends StreamStack = TcpHost> implements PacketEndpoint {
  private driver: DriverHandle | null = null;
  private readonly observers = new Map<object, ConnectionObserver>();
  private dirty = false;
  private wakeScheduled = false;

  constructor(readonly stack: S) {}

  /** The stack (named for the TCP host it wrapped first). */
  get host(): S {
    return this.stack;
  }

  attach(driver: DriverHandle): void {
    this.driver = driver;
  }

  now(): number {
    if (!this.driver) throw new Error('stack runtime: no driver attached');
    return this.driver.now();
  }

  observe(c: object, o: ConnectionObserver): void {
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
    this.stack.handlePacket(now, packet);
    this.dirty = true;
  }

  pollTransmit(now: number, out: Uint8Array): number {
    if (this.dirty) this.dispatch(now);
    return this.stack.pollTransmit(now, out);
  }

  pollTimeout(): number {
    return this.stack.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.stack.handleTimeout(now);
    this.dispatch(now);
  }

  /**
   * Delivers events to the observers of the connections that saw input or timers; new
   * connections reach listeners inside host.handlePacket. Application calls pump their own
   * socket directly, so nothing else needs looking at.
   */
  dispatch(now: number): void {
    this.dirty = false;
    for (const c of this.stack.takeTouched()) {
      const o = this.observers.get(c);
      if (o && !o.pump(now)) this.observers.delete(c);
    }
  }
}
