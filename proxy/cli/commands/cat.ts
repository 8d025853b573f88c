/**
 * `mptcp-proxy cat`: netcat on our userspace stack over raw sockets, modeled on the kernel
 * selftests' mptcp_connect. Connects (or listens and accepts one connection), copies stdin to
 * the connection and the connection to stdout, half-closes cleanly (stdin EOF -> DATA_FIN /
 * FIN; the peer's -> stdout ends), and exits non-zero on failure. MPTCP by default, over every
 * --local address (one path each) to every remote address; --tcp for plain TCP. Needs root
 * (raw sockets, nftables).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CryptoRandom } from '../../../mptcp/driver/crypto-random.js';
import { RawSocketDriver } from '../../../mptcp/driver/raw-driver.js';
import { chooseClientPortRange, readEphemeralRange, type PortRange } from '../../../mptcp/driver/ports.js';
import { MptcpStack } from '../../../mptcp/stack/mptcp-stack.js';
import { connectMptcp, MptcpServer, type MptcpSocket } from '../../../mptcp/socket/mptcp-socket.js';
import { StackRuntime, type StreamStack } from '../../../mptcp/socket/runtime.js';
import type { StreamSocket } from '../../../mptcp/socket/stream-socket.js';
import { connectUserspace, UserspaceServer, type UserspaceSocket } from '../../../mptcp/socket/userspace-socket.js';
import { TcpHost } from '../../../mptcp/tcp/host.js';
import { parseIp } from '../../../mptcp/wire/ip-address.js';

const HELP = `Usage:
  mptcp-proxy cat [options] --local ADDR [--local ADDR...] HOST [HOST...] PORT
  mptcp-proxy cat [options] --listen --local ADDR [--local ADDR...] --port PORT

Copies stdin to the connection and the connection to stdout over our userspace MPTCP (or
TCP) on raw sockets. stdin EOF sends DATA_FIN (FIN); the peer's ends stdout; exit 0 when
both directions are done, 1 on a connection error, 2 on usage or set-up errors (not root).

  --tcp              plain TCP instead of MPTCP (one --local, one HOST)
  -l, --listen       listen on --port and accept one connection
  -s, --local ADDR   local IP address (repeat: one path per address; the first is tried first)
  --backup ADDR      a local address used only as a backup path (MP_JOIN B flag)
  -p, --port PORT    port to listen on (with --listen)
  -d, --device DEV   bind the first --local to this interface (SO_BINDTODEVICE)
  --announce         (listener) announce the other --local addresses with ADD_ADDR
  --checksum         ask for DSS checksums
  -v, --verbose      print a per-subflow summary (or TCP statistics) to stderr at the end
  -h, --help         this text`;

interface CatOptions {
  tcp: boolean;
  listen: boolean;
  locals: string[];
  backups: string[];
  port: number;
  remotes: string[];
  remotePort: number;
  device?: string;
  announce: boolean;
  checksum: boolean;
  verbose: boolean;
}

export async function runCat(args: string[]): Promise<number> {
  const o = parseCatArgs(args);
  if (typeof o === 'number') return o;
  const clientPorts = chooseClientPortRange(readEphemeralRange());
  const ports: PortRange[] = o.listen ? [{ lo: o.port, hi: o.port }] : [clientPorts];
  const random = new CryptoRandom(); // keys, nonces and ISN secrets from the OS CSPRNG
  const addresses = [...o.locals, ...o.backups].map((a) => parseIp(a) as Uint8Array);
  const stack: StreamStack = o.tcp
    ? new TcpHost(addresses, random, {}, [clientPorts.lo, clientPorts.hi])
    : new MptcpStack({ addresses, random, portRange: [clientPorts.lo, clientPorts.hi], mptcp: { checksums: o.checksum } });
  const runtime = new StackRuntime<StreamStack>(stack);
  let driver: RawSocketDriver | null = null;
  runtime.attach({ wake: () => driver?.wake(), now: () => performance.now() });
  const paths = [...o.locals, ...o.backups].map((address, i) => ({ address, ...(i === 0 && o.device ? { device: o.device } : {}) }));
  try {
    driver = RawSocketDriver.open({ endpoint: runtime, paths, ports });
  } catch (e) {
    process.stderr.write(`cat: ${(e as Error).message}\n`);
    return 2;
  }
  // The driver's socket poll keeps the event loop alive while the connection runs.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const debug = process.env.MPTCP_CAT_DEBUG && stack instanceof TcpHost ? setInterval(() => process.stderr.write(`cat debug: ${JSON.stringify(stack.debugState())}\n`), 1000) : null;
  try {
    const sock = await open(runtime, stack, o);
    const code = await relay(sock);
    // No kernel finishes our sends after we exit: stay until the peer has acknowledged
    // everything, our FIN / DATA_FIN included, or the connection failed.
    if (code === 0) await untilDelivered(sock);
    if (o.verbose) report(sock);
    return code;
  } finally {
    clearInterval(keepAlive);
    if (debug) clearInterval(debug);
    // Let the final ACKs/FIN leave before the guard and sockets go away.
    await new Promise((r) => setTimeout(r, 200));
    driver.dispose();
  }
}

function parseCatArgs(args: string[]): CatOptions | number {
  let opts;
  try {
    opts = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tcp: { type: 'boolean' },
        listen: { type: 'boolean', short: 'l' },
        local: { type: 'string', short: 's', multiple: true },
        backup: { type: 'string', multiple: true },
        port: { type: 'string', short: 'p' },
        device: { type: 'string', short: 'd' },
        announce: { type: 'boolean' },
        checksum: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`cat: ${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const v = opts.values;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const locals = v.local ?? [];
  const backups = v.backup ?? [];
  if (locals.length === 0) return usage('--local ADDR (an IP address) is required');
  for (const a of [...locals, ...backups]) if (!parseIp(a)) return usage(`--local/--backup must be IP addresses, got ${a}`);
  const o: CatOptions = { tcp: v.tcp ?? false, listen: v.listen ?? false, locals, backups, port: 0, remotes: [], remotePort: 0, device: v.device, announce: v.announce ?? false, checksum: v.checksum ?? false, verbose: v.verbose ?? false };
  if (o.tcp && (locals.length > 1 || backups.length > 0)) return usage('--tcp takes exactly one --local');
  if (o.listen) {
    o.port = Number(v.port);
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) return usage('--listen needs --port 1-65535');
  } else {
    if (opts.positionals.length < 2) return usage('expected HOST [HOST...] PORT');
    o.remotes = opts.positionals.slice(0, -1);
    o.remotePort = Number(opts.positionals.at(-1));
    for (const h of o.remotes) if (!parseIp(h)) return usage(`HOST must be an IP address, got ${h}`);
    if (o.tcp && o.remotes.length > 1) return usage('--tcp takes one HOST');
    if (!Number.isInteger(o.remotePort) || o.remotePort < 1 || o.remotePort > 65535) return usage('PORT must be 1-65535');
  }
  return o;
}

function open(runtime: StackRuntime<StreamStack>, stack: StreamStack, o: CatOptions): Promise<StreamSocket> {
  if (stack instanceof TcpHost) {
    const rt = runtime as StackRuntime<TcpHost>;
    if (o.listen) {
      return new Promise((resolve) => {
        new UserspaceServer(rt).listen(o.port).once('connection', (s: UserspaceSocket) => resolve(s));
      });
    }
    return Promise.resolve(connectUserspace(rt, { host: o.remotes[0], port: o.remotePort, localAddress: o.locals[0] }));
  }
  const rt = runtime as StackRuntime<MptcpStack>;
  if (o.listen) {
    return new Promise((resolve) => {
      new MptcpServer(rt).listen(o.port).once('connection', (s: MptcpSocket) => {
        if (o.announce) {
          const used = s.connection.subflows[0]?.local;
          let id = 1;
          for (const a of [...o.locals, ...o.backups]) {
            const addr = parseIp(a) as Uint8Array;
            if (used && addr.length === used.length && addr.every((b, i) => b === used[i])) continue;
            s.connection.announceAddress(id++, addr);
          }
          rt.wake();
        }
        resolve(s);
      });
    });
  }
  const locals = [...o.locals.map((address) => ({ address })), ...o.backups.map((address) => ({ address, backup: true }))];
  return Promise.resolve(connectMptcp(rt, { hosts: o.remotes, port: o.remotePort, localAddresses: locals }));
}

function report(sock: StreamSocket): void {
  if ('subflows' in sock) {
    const m = sock as MptcpSocket;
    process.stderr.write(`cat: mptcp ${m.fallback ? 'fell back to TCP' : 'connection'}; subflows:\n`);
    for (const s of m.subflows(true)) {
      process.stderr.write(`cat:   #${s.id} ${s.local} -> ${s.remote} ids ${s.localAddressId}/${s.remoteAddressId} ${s.phase}${s.backup ? ' backup' : ''} sent ${s.dataBytesSent} B recv ${s.dataBytesReceived} B srtt ${s.tcp.srttMs.toFixed(1)} ms cwnd ${Math.round(s.tcp.cwnd)} retrans ${s.tcp.retransmittedSegments} state ${s.tcp.state}\n`);
    }
    const counters = Object.fromEntries(Object.entries(m.counters).filter(([, v]) => v !== 0));
    process.stderr.write(`cat: ${JSON.stringify({ fallback: m.fallback, counters, subflows: m.subflows(true).map((s) => ({ id: s.id, local: s.local, remote: s.remote, backup: s.backup, dataBytesSent: s.dataBytesSent, dataBytesReceived: s.dataBytesReceived, closeReason: s.closeReason })) })}\n`);
    return;
  }
  process.stderr.write(`cat: ${JSON.stringify((sock as UserspaceSocket).stats())}\n`);
}

function untilDelivered(sock: StreamSocket): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (delivered(sock)) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

function delivered(sock: StreamSocket): boolean {
  if ('subflows' in sock) {
    const c = (sock as MptcpSocket).connection;
    // Both DATA_FINs done, or (fallback) the subflow's own close; and no subflow still sending.
    return c.isClosed && c.subflows.every((s) => s.tcp.state === 'TIME_WAIT' || s.tcp.state === 'CLOSED' || s.tcp.state === 'FIN_WAIT_2');
  }
  const st = (sock as UserspaceSocket).connection.tcp.state;
  return st === 'TIME_WAIT' || st === 'CLOSED';
}

function usage(msg: string): number {
  process.stderr.write(`cat: ${msg}\n\n${HELP}\n`);
  return 2;
}

/** stdin -> socket, socket -> stdout; resolves with the exit code when both are done. */
function relay(sock: StreamSocket): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    let inputDone = false;
    let outputDone = false;
    const check = () => {
      if (failed) return;
      if (!inputDone || !outputDone) return;
      if (sock.writableFinished) resolve(0);
      else sock.once('finish', () => resolve(0)).end();
    };
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      process.stderr.write(`cat: ${e.code ?? ''} ${e.message}\n`);
      resolve(1);
    });
    process.stdin.pipe(sock, { end: true });
    process.stdin.once('end', () => {
      inputDone = true;
      check();
    });
    sock.pipe(process.stdout, { end: false });
    sock.once('end', () => {
      outputDone = true;
      check();
    });
  });
}
