/**
 * Test harness for the userspace MPTCP stack in the simulator: a client host with N paths
 * (one address each) and a server host, applications that write, half-close and read on
 * MptcpConnections, and helpers to check byte-exact delivery. Used by the MPTCP simulator
 * tests (scenario grids and focused cases).
 */
import { createHash } from 'node:crypto';
import type { PacketEndpoint } from '../../mptcp/core/sans-io.js';
import { seededBytes } from '../support/seeded-data.js';
import type { MptcpConnection } from '../../mptcp/connection/connection.js';
import type { MptcpConfig, MptcpEvent } from '../../mptcp/connection/mptcp-types.js';
import { Simulator, type LinkConfig, type LinkPair } from '../../mptcp/sim/index.js';
import { MptcpStack } from '../../mptcp/stack/mptcp-stack.js';
import type { TcpConfig } from '../../mptcp/tcp/tcp-types.js';

/** Seeded test bytes (test/support/seeded-data.ts). */
export const pattern = seededBytes;

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An application on one MPTCP connection: writes its data, shuts down, reads everything. */
export class MptcpApp {
  private offset = 0;
  private shut = false;
  readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  connected = false;
  ended = false;
  closed = false;
  error: string | null = null;
  readonly log: MptcpEvent[] = [];
  constructor(
    readonly conn: MptcpConnection,
    private readonly send: Uint8Array,
    private readonly shutdownWhenDone = true,
    /** Write only after the peer's first bytes arrived (a server-speaks-first protocol). */
    private readonly waitForPeer = false,
  ) {}
  step(now: number): void {
    const c = this.conn;
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      this.log.push(e);
      if (e.type === 'connected') this.connected = true;
      if (e.type === 'end') this.ended = true;
      if (e.type === 'closed') this.closed = true;
      if (e.type === 'reset') this.error = e.reason;
    }
    if (!this.shut && c.state === 'established' && (!this.waitForPeer || this.receivedBytes > 0 || this.ended)) {
      this.offset += c.write(this.send.subarray(this.offset));
      if (this.offset === this.send.length && this.shutdownWhenDone) {
        c.shutdown();
        this.shut = true;
      }
    }
    for (let d = c.read(now); d; d = c.read(now)) {
      this.received.push(d);
      this.receivedBytes += d.length;
    }
  }
  data(): Uint8Array {
    return Buffer.concat(this.received);
  }
}

/** Runs the applications of a host after every input, as a socket layer would. */
export class MptcpAppHost implements PacketEndpoint {
  apps: MptcpApp[] = [];
  constructor(readonly stack: MptcpStack) {}
  handlePacket(now: number, p: Uint8Array): void {
    this.stack.handlePacket(now, p);
    this.step(now);
  }
  pollTransmit(now: number, out: Uint8Array): number {
    return this.stack.pollTransmit(now, out);
  }
  pollTimeout(): number {
    return this.stack.pollTimeout();
  }
  handleTimeout(now: number): void {
    this.stack.handleTimeout(now);
    this.step(now);
  }
  step(now: number): void {
    this.stack.takeTouched();
    for (const a of this.apps) a.step(now);
  }
}

export interface PairOptions {
  seed: number;
  paths: Partial<LinkConfig>[];
  /** Reverse-direction configs (default: the same as forward). */
  reverse?: Partial<LinkConfig>[];
  tcp?: Partial<TcpConfig>;
  clientMptcp?: Partial<MptcpConfig>;
  serverMptcp?: Partial<MptcpConfig>;
  /** Server addresses (default one). */
  serverAddresses?: number;
}

export interface Pair {
  sim: Simulator;
  client: MptcpAppHost;
  server: MptcpAppHost;
  clientAddresses: Uint8Array[];
  serverAddresses: Uint8Array[];
  links: LinkPair[];
}

/** Client with one address per path (10.0.i.1), server 10.99.0.1 (+ more): path i is link i. */
export function makePair(o: PairOptions): Pair {
  const sim = new Simulator(o.seed);
  const clientAddresses = o.paths.map((_, i) => new Uint8Array([10, 0, i + 1, 1]));
  const serverAddresses = Array.from({ length: o.serverAddresses ?? 1 }, (_, i) => new Uint8Array([10, 99, i, 1]));
  const cs = new MptcpStack({ addresses: clientAddresses, random: sim.random('client'), tcp: o.tcp, mptcp: o.clientMptcp });
  const ss = new MptcpStack({ addresses: serverAddresses, random: sim.random('server'), tcp: o.tcp, mptcp: o.serverMptcp });
  const client = new MptcpAppHost(cs);
  const server = new MptcpAppHost(ss);
  const ch = sim.addHost({ name: 'client', addresses: clientAddresses, endpoint: client });
  const sh = sim.addHost({ name: 'server', addresses: serverAddresses, endpoint: server });
  const links: LinkPair[] = [];
  o.paths.forEach((cfg, i) => {
    for (const sa of serverAddresses) {
      links.push(sim.addPath({ from: ch, fromAddress: clientAddresses[i], to: sh, toAddress: sa, config: cfg, reverseConfig: o.reverse?.[i] ?? cfg, name: `path${i}${serverAddresses.length > 1 ? `-${sa[2]}` : ''}` }));
    }
  });
  return { sim, client, server, clientAddresses, serverAddresses, links };
}

export interface Download {
  /** The client's application (it uploads nothing and reads everything). */
  app: MptcpApp;
  /** The server's connection once it accepted (null before). */
  server: () => MptcpConnection | null;
}

/**
 * A bulk download on `p`: the server sends `bytes` of seeded data on port 80, the client
 * connects over every path and reads. Run `p.sim` to move it.
 */
export function startDownload(p: Pair, bytes: number, seed: number): Download {
  let server: MptcpConnection | null = null;
  const data = pattern(bytes, seed);
  p.server.stack.listen(80, (c) => {
    server = c;
    p.server.apps.push(new MptcpApp(c, data));
  });
  const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address) => ({ address })), remotes: p.serverAddresses, port: 80 });
  const app = new MptcpApp(conn, new Uint8Array(0));
  p.client.apps.push(app);
  return { app, server: () => server };
}

/** Changes both directions of a path's links (an outage, a black hole, a new rate). */
export function setPathConfig(path: LinkPair, cfg: Partial<LinkConfig>): void {
  path.forward.setConfig(cfg);
  path.reverse.setConfig(cfg);
}

/**
 * Samples `bytes()` every 5 ms of `sim` time from `fromMs` to `untilMs` and keeps the longest
 * time between two increases that ends after `countAfterMs`; read the result after the run.
 */
export function longestGap(sim: Simulator, bytes: () => number, fromMs: number, untilMs: number, countAfterMs = fromMs): () => number {
  let last = 0;
  let lastAt = fromMs;
  let longest = 0;
  for (let t = fromMs; t < untilMs; t += 5) {
    sim.at(t, (now) => {
      if (bytes() === last) return;
      if (now > countAfterMs) longest = Math.max(longest, now - lastAt);
      last = bytes();
      lastAt = now;
    });
  }
  return () => longest;
}
