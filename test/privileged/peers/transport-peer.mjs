// transport-peer.mjs JSON: the proxy's userspace transport (dist/proxy/transport/userspace.js)
// as a test peer. {mode: "listen"|"connect", host, port, locals?: [..], send, seed}: sends `send`
// bytes of the seed's stream over one stream, half-closes, hashes what it receives, prints
// {"bytes","sha256","error","subflows"} and exits.
import { exchange } from './stream.mjs';

const dist = new URL('../../../dist/', import.meta.url);
const { createUserspaceTransport } = await import(new URL('proxy/transport/userspace.js', dist));
const o = JSON.parse(process.argv[2]);
const t = createUserspaceTransport({ localAddresses: o.locals, interfacePollMs: o.pollMs });

let stream;
let listener;
if (o.mode === 'listen') {
  stream = await new Promise((resolve) => {
    t.listen({ host: o.host, port: o.port }, (s) => resolve(s)).then((l) => {
      listener = l;
      process.stderr.write('listening\n');
    });
  });
} else stream = await t.connect({ host: o.host, port: o.port }, 10_000);
const closed = new Promise((res) => stream.once('close', res));
const r = await exchange(stream, o.send, o.seed);
// 'close' comes once the application is done both ways (it read the peer's end and handed
// all its data to the stack), possibly before the peer acknowledged that data; `settled`
// says both DATA_FINs are acknowledged (or the connection was reset): then nothing is in
// flight, and closing the transport cannot cut the peer's download short.
const settled = async () => {
  await closed;
  while (stream.settled === false) await new Promise((res) => setTimeout(res, 20));
  return true;
};
const inTime = await Promise.race([settled(), new Promise((res) => setTimeout(() => res(false), 10_000))]);
// Leaving now resets the peer: say where the connection stood.
if (!inTime && typeof stream.subflows === 'function') {
  const state = stream.subflows(true).map((s) => ({ id: s.id, local: s.local, remote: s.remote, phase: s.phase, tcp: s.tcp.state, sent: s.dataBytesSent, received: s.dataBytesReceived, retrans: s.tcp.retransmittedSegments, srtt: s.tcp.srttMs, cwnd: s.tcp.cwnd, stale: s.stale, closeReason: s.closeReason }));
  process.stderr.write(`the peer did not take everything within 10 s (received ${r.bytes}): ${JSON.stringify(state)}\n`);
}
const subflows = typeof stream.subflows === 'function' ? stream.subflows(true).map((s) => ({ local: s.local, remote: s.remote, sent: s.dataBytesSent, received: s.dataBytesReceived })) : [];
process.stdout.write(JSON.stringify({ ...r, subflows }) + '\n');
// 'close' means both DATA_FINs are acknowledged here; the peer may still wait for our last
// ACKs and subflow FINs. Closing the transport at once would reset those subflows (as a
// crash would), so give them a moment, as our-mptcp-peer.mjs does.
await new Promise((res) => setTimeout(res, 300));
await listener?.close();
await t.close();
process.exit(0);
