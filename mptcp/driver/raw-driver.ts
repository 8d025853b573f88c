/**
 * RawSocketDriver: runs a sans-IO `PacketEndpoint` (mptcp/core/sans-io.ts) on raw sockets.
 *
 * - One raw socket per path (family, local address, optional device): bind() makes it receive
 *   only packets to that address, SO_BINDTODEVICE pins its packets to the interface, and the
 *   BPF filter (bpf.ts) lets through only TCP packets to our ports.
 * - Readable -> recvBatch (one JS call per batch) -> endpoint.handlePacket(now, packet) for each;
 *   then the endpoint's output is drained with pollTransmit into a batch of slots and sent with
 *   sendBatch, each packet through the socket owning its source address.
 * - One timer for the whole stack, re-armed from endpoint.pollTimeout() after every event;
 *   `now` is performance.now() (monotonic milliseconds).
 * - Before any socket opens, our ports are checked against the kernel's ephemeral range (or
 *   reserved, ports.ts) and the nftables guard (nft-guard.ts) stops the kernel from answering
 *   our connections' packets with RSTs; dispose() undoes everything.
 *
 * The binding, clock, timers and nft runner are injectable, so the loop is tested without
 * privileges (test/unit/driver) and for real in network namespaces (test/privileged/driver).
 */
import { bytesEqual } from '../wire/bytes.js';
import { performance } from 'node:perf_hooks';
import { MAX_PACKET, type PacketEndpoint } from '../core/sans-io.js';
import { formatIp, parseIp } from '../wire/ip-address.js';
import { POLL_READABLE, POLL_WRITABLE, errnoName, requireRawSocketBinding, type RawSocketBinding } from './binding.js';
import { encodeBpf, tcpDstPortFilter } from './bpf.js';
import { NftGuard, type NftGuardOptions } from './nft-guard.js';
import {
  normalizeRanges,
  parseReservedPorts,
  portProblems,
  procFiles,
  readEphemeralRange,
  RESERVED_PORTS_FILE,
  reservePorts,
  type PortRange,
  type SysctlFiles,
} from './ports.js';

/** One local address the stack uses, optionally pinned to an interface. */
export interface RawPath {
  address: string;
  device?: string;
}

export interface TimerApi {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** Node timers, unref'd: the sockets' poll handles keep the process alive, not the timer. */
export const nodeTimers: TimerApi = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Default SO_MARK of our packets ("mp" in ASCII), which the nft guard lets through. */
export const DEFAULT_MARK = 0x6d70;
/** Receive slots hold the largest IPv6 packet (65535-byte payload + synthesized header). */
export const RX_SLOT = 65535 + 40;
export const TX_SLOT = MAX_PACKET;

export interface RawSocketDriverOptions {
  endpoint: PacketEndpoint;
  paths: readonly RawPath[];
  /** Our local ports: the BPF filter and the nft guard use exactly these. */
  ports: readonly PortRange[];
  mark?: number;
  /** nft guard options (name, runner...), or false to run without it (tests, or a guard of your own). */
  guard?: false | Omit<NftGuardOptions, 'ports' | 'mark'>;
  binding?: RawSocketBinding;
  now?: () => number;
  timers?: TimerApi;
  /** Packets per recvmmsg/sendmmsg (default 32). */
  batchSize?: number;
  /** Batches read per readable event before yielding to the loop (default 8). */
  maxBatchesPerWake?: number;
  /** SO_RCVBUF/SO_SNDBUF (default 4 MiB). */
  socketBufferBytes?: number;
  /**
   * What to do about our ports and the kernel's ephemeral range: 'check' (default) refuses
   * ports the kernel could hand to its own sockets (inside net.ipv4.ip_local_port_range and
   * not reserved); 'reserve' adds them to net.ipv4.ip_local_reserved_ports until dispose;
   * 'off' does neither.
   */
  ephemeralPorts?: 'check' | 'reserve' | 'off';
  /** /proc/sys access for the above, injectable for tests. */
  sysctl?: SysctlFiles;
}

export interface DriverStats {
  rxPackets: number;
  rxBatches: number;
  /** Packets larger than a receive slot (dropped). */
  rxTruncated: number;
  rxErrors: Record<string, number>;
  txPackets: number;
  txBatches: number;
  /** Packets dropped by the kernel on send, by errno name. */
  txErrors: Record<string, number>;
  /** Packets whose source address has no socket (dropped). */
  txNoRoute: number;
  /** Times sending stopped on a full socket buffer. */
  txBlocked: number;
  timerFires: number;
}

/** A raw socket could not be opened; `code` is the errno name. */
export class RawSocketError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly syscall: string,
  ) {
    super(message);
    this.name = 'RawSocketError';
  }
}

/** Explains an openRaw failure with what to do about it. */
export function describeOpenError(path: RawPath, e: unknown): RawSocketError {
  const err = e as { code?: unknown; syscall?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : 'UNKNOWN';
  const syscall = typeof err.syscall === 'string' ? err.syscall : '';
  const where = `raw socket for ${path.address}${path.device !== undefined ? ` on ${path.device}` : ''}`;
  const perm = code === 'EPERM' || code === 'EACCES';
  let hint: string;
  if (perm && syscall.includes('SO_MARK')) hint = 'needs CAP_NET_ADMIN to mark packets (run as root)';
  else if (perm) hint = 'needs CAP_NET_RAW (run as root)';
  else if (code === 'ENODEV') hint = `no network interface named ${JSON.stringify(path.device ?? '')}`;
  else if (code === 'EADDRNOTAVAIL') hint = `${path.address} is not an address of this host${path.device !== undefined ? ` (on ${path.device})` : ''}`;
  else if (code === 'ENOPROTOOPT' && syscall.includes('IPV6_HDRINCL')) hint = 'the kernel lacks IPV6_HDRINCL (needs Linux >= 4.5)';
  else if (code === 'EAFNOSUPPORT') hint = 'this address family is disabled in the kernel';
  else hint = 'unexpected error';
  const detail = typeof err.message === 'string' ? err.message : String(e);
  return new RawSocketError(`${where}: ${code}: ${hint} [${detail}]`, code, syscall);
}

interface Socket {
  readonly path: RawPath;
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly fd: number;
  events: number;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class RawSocketDriver {
  readonly stats: DriverStats = {
    rxPackets: 0,
    rxBatches: 0,
    rxTruncated: 0,
    rxErrors: {},
    txPackets: 0,
    txBatches: 0,
    txErrors: {},
    txNoRoute: 0,
    txBlocked: 0,
    timerFires: 0,
  };
  readonly mark: number;
  readonly ports: readonly PortRange[];
  private readonly endpoint: PacketEndpoint;
  private readonly binding: RawSocketBinding;
  private readonly now: () => number;
  private readonly timers: TimerApi;
  private readonly batch: number;
  private readonly maxBatchesPerWake: number;
  private readonly sockets: Socket[] = [];
  private guard: NftGuard | undefined;
  private unreserve: (() => void) | undefined;
  private readonly rxBuf: Uint8Array;
  private readonly rxLen: Uint32Array;
  private readonly txBuf: Uint8Array;
  private readonly txLen: Uint32Array;
  private readonly txErr: Int32Array;
  /** Owning socket of each staged packet. */
  private readonly txSock: Socket[] = [];
  /** Staged packets [txHead, txFill) wait to be sent. */
  private txHead = 0;
  private txFill = 0;
  /** Sending waits for this socket to become writable. */
  private blockedOn: Socket | undefined;
  private timer: unknown = undefined;
  private armedFor = Infinity;
  private wakeQueued = false;
  private closed = false;
  private inService = false;
  private serviceAgain = false;

  private constructor(opts: RawSocketDriverOptions, binding: RawSocketBinding) {
    this.endpoint = opts.endpoint;
    this.binding = binding;
    this.now = opts.now ?? (() => performance.now());
    this.timers = opts.timers ?? nodeTimers;
    this.batch = opts.batchSize ?? 32;
    this.maxBatchesPerWake = opts.maxBatchesPerWake ?? 8;
    this.mark = opts.mark ?? DEFAULT_MARK;
    this.ports = normalizeRanges(opts.ports);
    if (!Number.isInteger(this.batch) || this.batch < 1 || this.batch > 1024) throw new RangeError('batchSize must be 1..1024');
    this.rxBuf = new Uint8Array(RX_SLOT * this.batch);
    this.rxLen = new Uint32Array(this.batch);
    this.txBuf = new Uint8Array(TX_SLOT * this.batch);
    this.txLen = new Uint32Array(this.batch);
    this.txErr = new Int32Array(this.batch);
  }

  /**
   * Installs the nft guard, opens and polls one raw socket per path, then sends whatever the
   * endpoint has queued and arms the timer. On failure everything opened so far is undone.
   */
  static open(opts: RawSocketDriverOptions): RawSocketDriver {
    if (opts.paths.length === 0) throw new RangeError('RawSocketDriver: no paths given');
    const binding = opts.binding ?? requireRawSocketBinding();
    const d = new RawSocketDriver(opts, binding);
    const parsed = opts.paths.map((p) => {
      const address = parseIp(p.address);
      if (address === undefined) throw new RangeError(`RawSocketDriver: not an IP address: ${JSON.stringify(p.address)}`);
      return { path: p, address, family: address.length === 4 ? (4 as const) : (6 as const) };
    });
    d.socketBufferBytes = opts.socketBufferBytes ?? 4 << 20;
    try {
      d.checkPorts(opts.ephemeralPorts ?? 'check', opts.sysctl ?? procFiles);
      if (opts.guard !== false) d.guard = NftGuard.install({ ...opts.guard, ports: d.ports, mark: d.mark });
      for (const p of parsed) d.openSocket(p.path, p.address, p.family);
    } catch (e) {
      d.dispose();
      throw e;
    }
    d.service(d.now());
    return d;
  }

  private socketBufferBytes = 4 << 20;

  private openSocket(path: RawPath, address: Uint8Array, family: 4 | 6): void {
    const filter = encodeBpf(tcpDstPortFilter(family, this.ports));
    let fd: number;
    try {
      fd = this.binding.openRaw(family, address, path.device ?? null, this.mark, filter, this.socketBufferBytes);
    } catch (e) {
      throw describeOpenError(path, e);
    }
    const sock: Socket = { path, family, address, fd, events: 0 };
    this.sockets.push(sock);
    this.setEvents(sock, POLL_READABLE);
  }

  /**
   * Opens a raw socket for a local address that appeared at runtime (an interface came up);
   * nothing happens when it already has one. Throws like open() when it cannot.
   */
  addPath(path: RawPath): void {
    const address = parseIp(path.address);
    if (address === undefined) throw new RangeError(`RawSocketDriver: not an IP address: ${JSON.stringify(path.address)}`);
    if (this.closed || this.sockets.some((s) => bytesEqual(s.address, address))) return;
    this.openSocket(path, address, address.length === 4 ? 4 : 6);
  }

  /** Closes the socket of a local address that went away; packets from it are then dropped. */
  removePath(addressText: string): void {
    const address = parseIp(addressText);
    if (address === undefined) return;
    const i = this.sockets.findIndex((s) => bytesEqual(s.address, address));
    if (i < 0) return;
    const [sock] = this.sockets.splice(i, 1);
    if (this.blockedOn === sock) this.blockedOn = undefined;
    this.binding.close(sock.fd);
  }

  /** The open sockets: local address, device and fd (for diagnostics). */
  socketInfo(): { address: string; device?: string; fd: number }[] {
    return this.sockets.map((s) => ({ address: formatIp(s.address), ...(s.path.device !== undefined ? { device: s.path.device } : {}), fd: s.fd }));
  }

  get guardTable(): string | undefined {
    return this.guard?.table;
  }

  /**
   * Sends what the endpoint has to send and re-arms the timer now. Call after feeding the
   * endpoint from outside the driver (application writes, opening a connection).
   */
  flush(): void {
    if (!this.closed) this.service(this.now());
  }

  /** Like flush(), coalesced into one microtask however often it is called. */
  wake(): void {
    if (this.wakeQueued || this.closed) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.flush();
    });
  }

  /** Stops polling, closes the sockets, clears the timer and removes the nft guard. Idempotent. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    for (const s of this.sockets.splice(0)) this.binding.close(s.fd);
    const guard = this.guard;
    this.guard = undefined;
    try {
      guard?.dispose();
    } finally {
      const unreserve = this.unreserve;
      this.unreserve = undefined;
      unreserve?.();
    }
  }

  private checkPorts(mode: 'check' | 'reserve' | 'off', files: SysctlFiles): void {
    if (mode === 'off') return;
    if (mode === 'reserve') {
      this.unreserve = reservePorts(this.ports, files);
      return;
    }
    let reserved: PortRange[] = [];
    try {
      reserved = parseReservedPorts(files.read(RESERVED_PORTS_FILE));
    } catch {
      // not Linux, or /proc not mounted: nothing reserved
    }
    const problems = portProblems(this.ports, readEphemeralRange(files), reserved);
    if (problems.length > 0) {
      throw new RangeError(`${problems.join('; ')}. Choose ports outside that range (see chooseClientPortRange) or open the driver with ephemeralPorts: 'reserve'`);
    }
  }

  get disposed(): boolean {
    return this.closed;
  }

  private setEvents(sock: Socket, events: number): void {
    if (sock.events === events) return;
    sock.events = events;
    this.binding.startPolling(sock.fd, events, (ev) => this.onPoll(sock, ev));
  }

  private onPoll(sock: Socket, events: number): void {
    if (this.closed) return;
    if ((events & POLL_WRITABLE) !== 0 && this.blockedOn === sock) {
      this.blockedOn = undefined;
      this.setEvents(sock, POLL_READABLE);
    }
    if ((events & POLL_READABLE) !== 0) this.receive(sock);
    if (!this.closed) this.service(this.now());
  }

  private receive(sock: Socket): void {
    for (let b = 0; b < this.maxBatchesPerWake && !this.closed; b++) {
      const n = this.binding.recvBatch(sock.fd, this.rxBuf, RX_SLOT, this.batch, this.rxLen);
      if (n < 0) {
        bump(this.stats.rxErrors, errnoName(-n));
        continue;
      }
      if (n === 0) return;
      this.stats.rxBatches++;
      const now = this.now();
      for (let i = 0; i < n && !this.closed; i++) {
        const len = this.rxLen[i] ?? 0;
        if (len === 0) {
          this.stats.rxTruncated++;
          continue;
        }
        this.stats.rxPackets++;
        this.endpoint.handlePacket(now, this.rxBuf.subarray(i * RX_SLOT, i * RX_SLOT + len));
      }
      if (n < this.batch) return;
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.closed) return;
    const now = this.now();
    // Timers may fire a little early by the monotonic clock: never run the endpoint's timers
    // before its deadline, wait for the rest instead.
    if (now >= this.endpoint.pollTimeout()) {
      this.stats.timerFires++;
      this.endpoint.handleTimeout(now);
    }
    this.service(now);
  }

  /**
   * Drains the endpoint's output, then re-arms the one timer from its deadline. Re-entrant
   * calls (flush() from inside an endpoint callback) make the running one go round again.
   */
  private service(now: number): void {
    if (this.inService) {
      this.serviceAgain = true;
      return;
    }
    this.inService = true;
    try {
      do {
        this.serviceAgain = false;
        this.transmit(now);
      } while (this.serviceAgain && !this.closed);
    } finally {
      this.inService = false;
    }
    if (!this.closed) this.rearm(now);
  }

  private rearm(now: number): void {
    const deadline = this.endpoint.pollTimeout();
    if (deadline === this.armedFor) return;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.armedFor = deadline;
    if (!Number.isFinite(deadline)) return;
    // At least 1 ms (as Node does anyway): an endpoint whose deadline does not move past `now`
    // after handleTimeout must not make the driver spin.
    this.timer = this.timers.set(() => this.onTimer(), Math.max(1, Math.ceil(deadline - now)));
  }

  private transmit(now: number): void {
    while (!this.closed) {
      if (!this.sendStaged()) return;
      // Stage up to a batch of packets from the endpoint.
      while (this.txFill < this.batch && !this.closed) {
        const slot = this.txBuf.subarray(this.txFill * TX_SLOT, (this.txFill + 1) * TX_SLOT);
        const len = this.endpoint.pollTransmit(now, slot);
        if (len === 0) break;
        const sock = this.route(slot);
        if (sock === undefined) {
          this.stats.txNoRoute++;
          continue;
        }
        this.txLen[this.txFill] = len;
        this.txSock[this.txFill] = sock;
        this.txFill++;
      }
      if (this.txFill === 0 || this.closed) return;
      const full = this.txFill === this.batch;
      if (!this.sendStaged() || !full) return;
    }
  }

  /** Sends the staged packets, in runs per socket. False when a socket buffer is full. */
  private sendStaged(): boolean {
    if (this.blockedOn !== undefined || this.closed) return false;
    while (this.txHead < this.txFill) {
      const sock = this.txSock[this.txHead];
      let end = this.txHead + 1;
      while (end < this.txFill && this.txSock[end] === sock) end++;
      const count = end - this.txHead;
      const h = this.txHead;
      const done = this.binding.sendBatch(sock.fd, this.txBuf.subarray(h * TX_SLOT), TX_SLOT, count, this.txLen.subarray(h), this.txErr.subarray(h));
      this.stats.txBatches++;
      for (let i = h; i < h + done; i++) {
        const err = this.txErr[i] ?? 0;
        if (err === 0) this.stats.txPackets++;
        else bump(this.stats.txErrors, errnoName(err));
      }
      this.txHead += done;
      if (done < count) {
        this.stats.txBlocked++;
        this.blockedOn = sock;
        this.setEvents(sock, POLL_READABLE | POLL_WRITABLE);
        return false;
      }
    }
    this.txHead = 0;
    this.txFill = 0;
    return true;
  }

  /** The socket owning the packet's source address. */
  private route(packet: Uint8Array): Socket | undefined {
    const version = (packet[0] ?? 0) >> 4;
    const [off, len] = version === 4 ? [12, 4] : version === 6 ? [8, 16] : [0, 0];
    if (len === 0) return undefined;
    for (const s of this.sockets) {
      if (s.address.length !== len) continue;
      let same = true;
      for (let i = 0; i < len && same; i++) same = s.address[i] === packet[off + i];
      if (same) return s;
    }
    return undefined;
  }
}
