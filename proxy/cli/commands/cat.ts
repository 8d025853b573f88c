/**
 * `mptcp-proxy cat`: netcat on our userspace stack over raw sockets, modeled on the kernel
 * selftests' mptcp_connect. Connects (or listens and accepts one connection), copies stdin to
 * the connection and the connection to stdout, half-closes cleanly (stdin EOF -> FIN; the
 * peer's FIN -> stdout ends), and exits non-zero on failure. Plain TCP today; the MPTCP issue
 * makes MPTCP the default and keeps --tcp for plain TCP. Needs root (raw sockets, nftables).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { RawSocketDriver } from '../../../mptcp/driver/raw-driver.js';
import { chooseClientPortRange, readEphemeralRange, type PortRange } from '../../../mptcp/driver/ports.js';
import { StackRuntime } from '../../../mptcp/socket/runtime.js';
import { connectUserspace, UserspaceServer, type UserspaceSocket } from '../../../mptcp/socket/userspace-socket.js';
import { TcpHost } from '../../../mptcp/tcp/host.js';
import { parseIp } from '../../../mptcp/wire/ip-address.js';
import { randomBytes } from 'node:crypto';

const HELP = `Usage:
  mptcp-proxy cat [options] --local ADDR HOST PORT        connect to HOST:PORT from ADDR
  mptcp-proxy cat [options] --listen --local ADDR --port PORT   accept one connection

Copies stdin to the connection and the connection to stdout over our userspace TCP on raw
sockets. stdin EOF sends FIN; the peer's FIN ends stdout; exit 0 when both directions are
done, 1 on a connection error, 2 on usage or set-up errors (e.g. not root).

  --tcp              plain TCP (today's only mode; MPTCP becomes the default with issue 4)
  -l, --listen       listen on --port and accept one connection
  -s, --local ADDR   local IP address to bind (required: raw sockets bind to an address)
  -p, --port PORT    port to listen on (with --listen)
  -d, --device DEV   bind to this interface (SO_BINDTODEVICE)
  -v, --verbose      print connection statistics to stderr at the end
  -h, --help         this text`;

export async function runCat(args: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tcp: { type: 'boolean' },
        listen: { type: 'boolean', short: 'l' },
        local: { type: 'string', short: 's' },
        port: { type: 'string', short: 'p' },
        device: { type: 'string', short: 'd' },
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
  const local = v.local;
  if (!local || !parseIp(local)) return usage('--local ADDR (an IP address) is required');
  let listenPort = 0;
  let remoteHost = '';
  let remotePort = 0;
  if (v.listen) {
    listenPort = Number(v.port);
    if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535) return usage('--listen needs --port 1-65535');
  } else {
    if (opts.positionals.length !== 2) return usage('expected HOST PORT');
    remoteHost = opts.positionals[0];
    remotePort = Number(opts.positionals[1]);
    if (!parseIp(remoteHost)) return usage(`HOST must be an IP address, got ${remoteHost}`);
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) return usage('PORT must be 1-65535');
  }

  const clientPorts = chooseClientPortRange(readEphemeralRange());
  const ports: PortRange[] = v.listen ? [{ lo: listenPort, hi: listenPort }] : [clientPorts];
  const seed = randomBytes(4).readUInt32BE(0); // production randomness comes from the CSPRNG
  const host = new TcpHost([parseIp(local) as Uint8Array], new SeededRandom(seed), {}, [clientPorts.lo, clientPorts.hi]);
  const runtime = new StackRuntime(host);
  let driver: RawSocketDriver | null = null;
  runtime.attach({ wake: () => driver?.wake(), now: () => performance.now() });
  try {
    driver = RawSocketDriver.open({ endpoint: runtime, paths: [{ address: local, ...(v.device ? { device: v.device } : {}) }], ports });
  } catch (e) {
    process.stderr.write(`cat: ${(e as Error).message}\n`);
    return 2;
  }
  // The driver's socket poll keeps the event loop alive while the connection runs.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const debug = process.env.MPTCP_CAT_DEBUG ? setInterval(() => process.stderr.write(`cat debug: ${JSON.stringify(runtime.host.debugState())}\n`), 1000) : null;
  try {
    const sock = await (v.listen ? acceptOne(runtime, listenPort) : Promise.resolve(connectUserspace(runtime, { host: remoteHost, port: remotePort, localAddress: local })));
    const code = await relay(sock);
    // No kernel finishes our sends after we exit: stay until the peer has acknowledged
    // everything, our FIN included (TIME_WAIT or CLOSED), or the connection failed.
    if (code === 0) await untilDelivered(sock);
    if (v.verbose) process.stderr.write(`cat: ${JSON.stringify(sock.stats())}\n`);
    return code;
  } finally {
    clearInterval(keepAlive);
    if (debug) clearInterval(debug);
    // Let the final ACKs/FIN leave before the guard and sockets go away.
    await new Promise((r) => setTimeout(r, 200));
    driver.dispose();
  }
}

function untilDelivered(sock: UserspaceSocket): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const st = sock.connection.tcp.state;
      if (st === 'TIME_WAIT' || st === 'CLOSED') resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

function usage(msg: string): number {
  process.stderr.write(`cat: ${msg}\n\n${HELP}\n`);
  return 2;
}

function acceptOne(runtime: StackRuntime, port: number): Promise<UserspaceSocket> {
  return new Promise((resolve) => {
    const server = new UserspaceServer(runtime).listen(port);
    server.once('connection', (s: UserspaceSocket) => resolve(s));
  });
}

/** stdin -> socket, socket -> stdout; resolves with the exit code when both are done. */
function relay(sock: UserspaceSocket): Promise<number> {
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
