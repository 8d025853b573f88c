/**
 * In-memory stand-ins for what the raw-socket driver touches: the native binding (queues of
 * packets per fd, recorded send batches, poll callbacks fired by hand), a scripted
 * PacketEndpoint, a manual clock with timers, an nft command runner and a process object.
 * They let test/unit/driver run the driver loop without privileges.
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { PacketEndpoint } from '../../../mptcp/core/sans-io.js';
import type { RawSocketBinding } from '../../../mptcp/driver/binding.js';
import type { CommandResult, CommandRunner } from '../../../mptcp/driver/nft-guard.js';
import { EPHEMERAL_RANGE_FILE, RESERVED_PORTS_FILE, type SysctlFiles } from '../../../mptcp/driver/ports.js';
import type { TimerApi } from '../../../mptcp/driver/raw-driver.js';

export interface FakeSocket {
  fd: number;
  family: 4 | 6;
  address: Uint8Array;
  device: string | null;
  mark: number;
  filter: Uint8Array;
  bufferBytes: number;
  /** Packets waiting to be received; a number is an errno reported by recvBatch. */
  rx: (Uint8Array | number)[];
  /** Every packet sent, in order. */
  sent: Uint8Array[];
  /** The count of every sendBatch call. */
  sendBatches: number[];
  recvCalls: number;
  /** Packets the socket buffer still accepts before EAGAIN. */
  sendCapacity: number;
  /** Errnos for the next packets sent (0 = goes out). */
  sendFailures: number[];
  events: number;
  onEvent: ((events: number) => void) | undefined;
  closed: boolean;
}

export class FakeRawBinding implements RawSocketBinding {
  readonly sockets: FakeSocket[] = [];
  private nextFd = 100;
  /** Makes openRaw throw for a path, like the addon does. */
  failOpen: ((family: 4 | 6, address: Uint8Array, device: string | null) => Error | undefined) | undefined;

  openRaw(family: 4 | 6, bindAddress: Uint8Array, device: string | null, mark: number, bpfProgram: Uint8Array, bufferBytes: number): number {
    const err = this.failOpen?.(family, bindAddress, device);
    if (err !== undefined) throw err;
    const fd = this.nextFd++;
    this.sockets.push({
      fd,
      family,
      address: bindAddress.slice(),
      device,
      mark,
      filter: bpfProgram.slice(),
      bufferBytes,
      rx: [],
      sent: [],
      sendBatches: [],
      recvCalls: 0,
      sendCapacity: Infinity,
      sendFailures: [],
      events: 0,
      onEvent: undefined,
      closed: false,
    });
    return fd;
  }

  socket(fd: number): FakeSocket {
    const s = this.sockets.find((x) => x.fd === fd && !x.closed);
    if (s === undefined) throw new Error(`fake binding: unknown or closed fd ${fd}`);
    return s;
  }

  recvBatch(fd: number, buf: Uint8Array, slotSize: number, maxCount: number, lengths: Uint32Array): number {
    const s = this.socket(fd);
    s.recvCalls++;
    const head = s.rx[0];
    if (typeof head === 'number') {
      s.rx.shift();
      return -head;
    }
    let n = 0;
    while (n < maxCount && s.rx.length > 0 && typeof s.rx[0] !== 'number') {
      const p = s.rx.shift() as Uint8Array;
      if (p.length > slotSize) {
        lengths[n] = 0;
      } else {
        buf.set(p, n * slotSize);
        lengths[n] = p.length;
      }
      n++;
    }
    return n;
  }

  sendBatch(fd: number, buf: Uint8Array, slotSize: number, count: number, lengths: Uint32Array, errors: Int32Array): number {
    const s = this.socket(fd);
    s.sendBatches.push(count);
    let done = 0;
    for (; done < count; done++) {
      const failure = s.sendFailures.shift() ?? 0;
      if (failure === constants.errno.EAGAIN) break;
      if (failure !== 0) {
        errors[done] = failure;
        continue;
      }
      if (s.sendCapacity <= 0) break;
      s.sendCapacity--;
      errors[done] = 0;
      s.sent.push(buf.slice(done * slotSize, done * slotSize + (lengths[done] ?? 0)));
    }
    return done;
  }

  startPolling(fd: number, events: number, onEvent: (events: number) => void): void {
    const s = this.socket(fd);
    s.events = events;
    s.onEvent = onEvent;
  }

  stopPolling(fd: number): void {
    const s = this.socket(fd);
    s.events = 0;
    s.onEvent = undefined;
  }

  close(fd: number): void {
    const s = this.sockets.find((x) => x.fd === fd && !x.closed);
    if (s === undefined) return;
    s.closed = true;
    s.events = 0;
    s.onEvent = undefined;
  }

  /** Queues packets (or errnos) on a socket and fires its readable event. */
  deliver(fd: number, ...items: (Uint8Array | number)[]): void {
    const s = this.socket(fd);
    s.rx.push(...items);
    this.fire(fd, 1);
  }

  /** Fires a poll event, as uv_poll would, if the fd is polled for it. */
  fire(fd: number, events: number): void {
    const s = this.socket(fd);
    if (s.onEvent !== undefined && (s.events & events) !== 0) s.onEvent(s.events & events);
  }

  get open(): FakeSocket[] {
    return this.sockets.filter((s) => !s.closed);
  }
}

/** A PacketEndpoint whose output and deadline the test sets. */
export class FakeEndpoint implements PacketEndpoint {
  readonly received: { now: number; bytes: Uint8Array }[] = [];
  readonly outbox: Uint8Array[] = [];
  readonly timeouts: number[] = [];
  deadline = Infinity;
  pollTimeoutCalls = 0;
  onPacket: ((now: number, packet: Uint8Array) => void) | undefined;
  onTimeout: ((now: number) => void) | undefined;

  handlePacket(now: number, packet: Uint8Array): void {
    this.received.push({ now, bytes: packet.slice() });
    this.onPacket?.(now, packet);
  }

  pollTransmit(_now: number, out: Uint8Array): number {
    const p = this.outbox.shift();
    if (p === undefined) return 0;
    out.set(p);
    return p.length;
  }

  pollTimeout(): number {
    this.pollTimeoutCalls++;
    return this.deadline;
  }

  handleTimeout(now: number): void {
    this.timeouts.push(now);
    this.onTimeout?.(now);
  }
}

/** A manual clock with timers in the same time base. */
export class FakeClock implements TimerApi {
  time = 1000;
  private nextId = 1;
  readonly pending = new Map<number, { at: number; fn: () => void; delay: number }>();
  /** Every delay ever armed. */
  readonly armed: number[] = [];

  readonly now = (): number => this.time;

  set(fn: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.armed.push(delayMs);
    this.pending.set(id, { at: this.time + delayMs, fn, delay: delayMs });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward, running timers that come due in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
  }

  /** Runs one pending timer without moving time (a timer firing early). */
  fireEarly(): void {
    const first = [...this.pending][0];
    if (first === undefined) throw new Error('no timer pending');
    this.pending.delete(first[0]);
    first[1].fn();
  }
}

/** An nft runner recording its calls, answering from a script. */
export class FakeRunner {
  readonly calls: { file: string; args: readonly string[]; input: string | undefined }[] = [];
  /** Answer to `nft list tables inet`. */
  tables = '';
  /** Makes `nft list tables inet` fail with this. */
  listFailure: Partial<CommandResult> | undefined;
  /** Answers for `nft -f -`, consumed in order; default success. */
  results: Partial<CommandResult>[] = [];

  readonly run: CommandRunner = (file, args, input) => {
    this.calls.push({ file, args, input });
    const r = (args[0] === 'list' ? (this.listFailure ?? { stdout: this.tables }) : this.results.shift()) ?? {};
    return { status: r.status ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error !== undefined ? { error: r.error } : {}) };
  };

  get scripts(): string[] {
    return this.calls.filter((c) => c.args[0] === '-f').map((c) => c.input ?? '');
  }
}

/** A process object for the guard's exit and signal handling. */
export class FakeProcess extends EventEmitter {
  readonly pid = 4242;
  readonly kills: { pid: number; signal: string }[] = [];

  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.kills.push({ pid, signal });
    return true;
  }
}

/** /proc/sys in memory: Linux's default ephemeral range, nothing reserved. */
export class FakeSysctl implements SysctlFiles {
  readonly files: Record<string, string> = { [EPHEMERAL_RANGE_FILE]: '32768\t60999\n', [RESERVED_PORTS_FILE]: '\n' };
  readonly reads: string[] = [];

  read(path: string): string {
    this.reads.push(path);
    const v = this.files[path];
    if (v === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return v;
  }

  write(path: string, text: string): void {
    this.files[path] = text;
  }
}
