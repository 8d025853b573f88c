// our-mptcp-peer.mjs JSON: our userspace MPTCP (from dist/) on raw sockets as a test peer.
// JSON: {mode: "connect"|"listen", locals: [{address, backup?}], remotes?: [..], port,
//        send: bytes, seed, checksums?, announce?: true, abortAfterBytes?, actions?: [...]}
// Sends `send` bytes of the seed's stream (stream.mjs), half-closes, hashes what it receives,
// and prints {"bytes","sha256","error","fallback","counters","subflows"} when done. Actions
// run at a time after the connection is up: {afterMs, type: "removeLocal"|"setBackup", address,
// backup?}. abortAfterBytes aborts (MP_FASTCLOSE) once that many bytes were received.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { produce } from './stream.mjs';

const dist = new URL('../../../dist/', import.meta.url);
const { CryptoRandom } = await import(new URL('mptcp/driver/crypto-random.js', dist));
const { RawSocketDriver } = await import(new URL('mptcp/driver/raw-driver.js', dist));
const { chooseClientPortRange, readEphemeralRange } = await import(new URL('mptcp/driver/ports.js', dist));
const { MptcpStack } = await import(new URL('mptcp/stack/mptcp-stack.js', dist));
const { connectMptcp, MptcpServer } = await import(new URL('mptcp/socket/mptcp-socket.js', dist));
const { StackRuntime } = await import(new URL('mptcp/socket/runtime.js', dist));
const { parseIp } = await import(new URL('mptcp/wire/ip-address.js', dist));

const o = JSON.parse(process.argv[2]);
const clientPorts = chooseClientPortRange(readEphemeralRange());
const ports = o.mode === 'listen' ? [{ lo: o.port, hi: o.port }] : [clientPorts];
const addresses = o.locals.map((l) => parseIp(l.address));
const stack = new MptcpStack({ addresses, random: new CryptoRandom(), portRange: [clientPorts.lo, clientPorts.hi], mptcp: { checksums: !!o.checksums } });
const runtime = new StackRuntime(stack);
let driver = null;
runtime.attach({ wake: () => driver?.wake(), now: () => performance.now() });
driver = RawSocketDriver.open({ endpoint: runtime, paths: o.locals.map((l) => ({ address: l.address })), ports });
const keepAlive = setInterval(() => undefined, 1 << 30);

const sock = await new Promise((resolve) => {
  if (o.mode === 'listen') {
    new MptcpServer(runtime).listen(o.port).once('connection', (s) => {
      if (o.announce) {
        let id = 1;
        const first = s.connection.subflows[0]?.local;
        for (const l of o.locals) {
          const a = parseIp(l.address);
          if (first && a.length === first.length && a.every((b, i) => b === first[i])) continue;
          s.connection.announceAddress(id++, a);
        }
        runtime.wake();
      }
      resolve(s);
    });
  } else resolve(connectMptcp(runtime, { hosts: o.remotes, port: o.port, localAddresses: o.locals }));
});

// Samples: wall-clock time and bytes per local address, for tests that look at a timeline.
const samples = [];
const sampler = setInterval(() => {
  const perLocal = {};
  for (const s of sock.subflows(true)) perLocal[s.local] = (perLocal[s.local] ?? 0) + s.dataBytesSent + s.dataBytesReceived;
  samples.push({ t: Date.now(), perLocal });
}, 100);
const nonZeroCounters = () => Object.fromEntries(Object.entries(stack.counters).filter(([, v]) => v !== 0));
/** One subflow as the reports show it (the result line, stall reports, MPTCP_DEBUG). */
const subflowReport = (s) => ({ id: s.id, local: s.local, remote: s.remote, phase: s.phase, tcp: s.tcp.state, backup: s.backup, localBackup: s.localBackup, sent: s.dataBytesSent, received: s.dataBytesReceived, closeReason: s.closeReason, retrans: s.tcp.retransmittedSegments, srtt: s.tcp.srttMs });
/** What the connection looks like now, for a report when it stops making progress. */
const describeState = () =>
  JSON.stringify({
    pm: stack.pathManager(sock.connection)?.describe(),
    timeoutMs: Math.round(stack.pollTimeout() - performance.now()),
    closed: sock.connection.isClosed,
    fallback: sock.fallback,
    counters: nonZeroCounters(),
    subflows: sock.subflows(true).map(subflowReport),
  });
const debug = process.env.MPTCP_DEBUG ? setInterval(() => process.stderr.write(`debug ${Math.round(performance.now())} ${describeState()}\n`), 250) : null;
const STALL_MS = 30_000;
const result = await new Promise((resolve) => {
  const h = createHash('sha256');
  let n = 0;
  // A transfer that stops moving for STALL_MS ends with a report of where it stood, instead
  // of waiting for the test's timeout with nothing to show.
  let lastProgress = -1;
  let lastProgressAt = Date.now();
  const watchdog = setInterval(() => {
    const progress = n + sock.subflows(true).reduce((t, s) => t + s.dataBytesSent + s.dataBytesReceived, 0);
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastProgressAt = Date.now();
    } else if (Date.now() - lastProgressAt > STALL_MS) {
      clearInterval(watchdog);
      process.stderr.write(`stalled for ${STALL_MS} ms after ${n} bytes received: ${describeState()}\n`);
      finish(`stalled after ${n} bytes received`);
    }
  }, 1000);
  let sent = false;
  let received = false;
  let aborted = false;
  const finish = (error) => {
    clearInterval(watchdog);
    resolve({ bytes: n, sha256: error ? null : h.digest('hex'), error });
  };
  const done = () => sent && received && finish(null);
  sock.on('data', (d) => {
    h.update(d);
    n += d.length;
    if (o.abortAfterBytes && n >= o.abortAfterBytes && !aborted) {
      aborted = true;
      sock.resetAndDestroy();
      setTimeout(() => finish('aborted by us'), 300);
    }
  });
  sock.on('end', () => {
    received = true;
    done();
  });
  sock.on('error', (e) => {
    if (!aborted) finish(`${e.code} ${e.message}`);
  });
  const start = () => {
    for (const a of o.actions ?? []) {
      setTimeout(() => {
        if (a.type === 'removeLocal') sock.removeLocalAddress(a.address);
        if (a.type === 'setBackup') sock.setBackup(a.address, a.backup);
      }, a.afterMs);
    }
    produce(o.send, o.seed, (chunk) => sock.write(chunk)).then(() => {
      sock.end();
      sock.once('finish', () => {
        sent = true;
        done();
      });
    });
  };
  if (sock.connecting) sock.once('connect', start);
  else start();
});

// Stay until the peer has everything (both DATA_FINs, subflow FINs), at most 5 s.
const until = Date.now() + 5000;
const peerHasAll = () => sock.connection.isClosed && sock.connection.subflows.every((s) => ['TIME_WAIT', 'CLOSED', 'FIN_WAIT_2'].includes(s.tcp.state));
while (Date.now() < until && !peerHasAll()) await new Promise((r) => setTimeout(r, 5));
// Leaving now resets the peer: say where the connection stood.
if (!peerHasAll()) process.stderr.write(`the peer did not take everything within 5 s: ${describeState()}\n`);
await new Promise((r) => setTimeout(r, 200));
const counters = nonZeroCounters();
const subflows = sock.subflows(true).map(subflowReport);
process.stdout.write(JSON.stringify({ ...result, fallback: sock.fallback, counters, subflows, samples }) + '\n');
clearInterval(keepAlive);
clearInterval(sampler);
if (debug) clearInterval(debug);
driver.dispose();
process.exit(0);
