// The bounded bad-input fuzz run of the proxy e2e (test/e2e/proxy-fuzz.test.ts), run inside
// the client host:
//   node fuzz.mjs SEED COUNT PROXY_HOST:PORT AGGREGATOR_HOST:PORT [CONCURRENCY [CASE]]
// sends COUNT seeded inputs, each on a connection of its own, to a live client (SOCKS5/HTTP
// port) and aggregator: truncated and oversized SOCKS5 and HTTP requests, invalid methods,
// unsupported commands and address types, non-ASCII and overlong host names, random bytes at
// both ports. Each input says what must come back (an exact SOCKS5 reply, an HTTP status, or
// nothing but a close) and which counter of the process must count it; an input whose
// connection is not closed within 5 s, or which gets anything else back, is a violation.
// Prints one JSON line: {inputs, ms, cases: {case: n}, counters: {"client.x"|"aggregator.x": n},
// violations: [...first 20], violationCount}. The client's handshake timeout must be short
// (the test sets 1 s; stalled inputs wait for it).
import { connect } from 'node:net';

const [seedArg, countArg, proxyArg, aggArg, concArg, onlyArg] = process.argv.slice(2);
const seed = Number(seedArg);
const count = Number(countArg);
const concurrency = Number(concArg ?? 32);
const hostPort = (s) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};
const proxy = hostPort(proxyArg);
const aggregator = hostPort(aggArg);

// mulberry32: small, seeded, reproducible.
let state = seed >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (xs) => xs[int(0, xs.length - 1)];
const bytes = (n, lo = 0, hi = 255) => Buffer.from(Array.from({ length: n }, () => int(lo, hi)));
const letters = (n, set = 'abcdefghijklmnopqrstuvwxyz') => Array.from({ length: n }, () => set[int(0, set.length - 1)]).join('');

const TARGET = 'web.fuzz.example';
const GREETING = Buffer.from([5, 1, 0]);
const CHOICE = Buffer.from([5, 0]);
const reply = (code) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
const port2 = (p) => Buffer.from([p >> 8, p & 0xff]);
const socksDomain = (name, cmd = 1) => Buffer.concat([Buffer.from([5, cmd, 0, 3, name.length]), name, port2(8080)]);
const anyAddress = () => {
  const atyp = pick([1, 3, 4]);
  if (atyp === 1) return Buffer.concat([Buffer.from([1]), bytes(4), port2(int(1, 65535))]);
  if (atyp === 4) return Buffer.concat([Buffer.from([4]), bytes(16), port2(int(1, 65535))]);
  const name = Buffer.from(`${letters(int(1, 20))}.example`);
  return Buffer.concat([Buffer.from([3, name.length]), name, port2(int(1, 65535))]);
};
/** A host name that is not valid: a label of 64+ bytes, or more than 253 bytes in all. */
const overlongName = () => {
  if (rand() < 0.5) return `${letters(int(64, 200))}.example`;
  const labels = [];
  while (labels.join('.').length <= 253) labels.push(letters(int(20, 60)));
  return labels.join('.');
};
/** A host name with bytes outside ASCII (UTF-8 letters, or raw high bytes). */
const nonAsciiName = () =>
  rand() < 0.5 ? Buffer.from(`${pick(['bücher', 'пример', '例え', 'café', 'ﬁle'])}.${letters(3)}`, 'utf8') : Buffer.concat([Buffer.from(letters(int(0, 5))), bytes(int(1, 10), 0x80, 0xff), Buffer.from('.example')]);
const VALID_HTTP = [`CONNECT ${TARGET}:8080 HTTP/1.1\r\nHost: ${TARGET}:8080\r\n\r\n`, `GET http://${TARGET}:8080/bytes/10 HTTP/1.1\r\nHost: ${TARGET}:8080\r\nUser-Agent: fuzz\r\n\r\n`];

// Each case builds one input: where it goes, what is sent, whether the sender half-closes
// after it, what may come back (exact byte strings, or a pattern for HTTP), the counter.
const cases = {
  'socks-truncated': () => {
    const whole = Buffer.concat([GREETING, socksDomain(Buffer.from(TARGET))]);
    const cut = int(1, whole.length - 1);
    // Stalled or half-closed, it ends at the handshake deadline; the method choice comes
    // back once the greeting is complete.
    return { to: 'proxy', data: whole.subarray(0, cut), end: rand() < 0.5, replies: [cut >= 3 ? CHOICE : Buffer.alloc(0)], counter: 'client.handshakeTimeout' };
  },
  'socks-oversized': () => {
    // A request that never fits: the buffer limit (1 KiB) closes it silently, or the 255-byte
    // name is parsed first and refused as not a host name (reply 4).
    const data = Buffer.concat([GREETING, Buffer.from([5, 1, 0, 3, 255]), Buffer.from(letters(int(1100, 4000)))]);
    return { to: 'proxy', data, end: false, replies: [Buffer.alloc(0), CHOICE, Buffer.concat([CHOICE, reply(4)])], counter: 'client.socksBadRequest' };
  },
  'socks-methods': () => {
    if (rand() < 0.2) return { to: 'proxy', data: Buffer.from([5, 0]), end: false, replies: [Buffer.alloc(0)], counter: 'client.socksBadGreeting' };
    const n = int(1, 255);
    return { to: 'proxy', data: Buffer.concat([Buffer.from([5, n]), bytes(n, 1, 255)]), end: false, replies: [Buffer.from([5, 0xff])], counter: 'client.socksAuthFailed' };
  },
  'socks-command': () => {
    const cmd = pick([0, 2, 3, int(4, 255)]);
    return { to: 'proxy', data: Buffer.concat([GREETING, Buffer.from([5, cmd, 0]), anyAddress()]), end: false, replies: [Buffer.concat([CHOICE, reply(7)])], counter: 'client.socksUnsupportedCommand' };
  },
  'socks-address': () => {
    if (rand() < 0.3) return { to: 'proxy', data: Buffer.concat([GREETING, Buffer.from([5, 1, int(1, 255)]), anyAddress()]), end: false, replies: [Buffer.concat([CHOICE, reply(1)])], counter: 'client.socksBadRequest' };
    const atyp = pick([0, 2, 5, int(6, 255)]);
    return { to: 'proxy', data: Buffer.concat([GREETING, Buffer.from([5, 1, 0, atyp]), bytes(int(0, 30))]), end: false, replies: [Buffer.concat([CHOICE, reply(8)])], counter: 'client.socksBadRequest' };
  },
  'socks-host': () => {
    const name = rand() < 0.5 ? nonAsciiName() : Buffer.from(overlongName().slice(0, 255));
    return { to: 'proxy', data: Buffer.concat([GREETING, socksDomain(name)]), end: false, replies: [Buffer.concat([CHOICE, reply(4)])], counter: 'client.socksBadRequest' };
  },
  'http-truncated': () => {
    const whole = Buffer.from(pick(VALID_HTTP));
    return { to: 'proxy', data: whole.subarray(0, int(1, whole.length - 3)), end: true, http: /^$|^HTTP\/1\.1 400 /, counter: 'client.httpBadRequest' };
  },
  'http-oversized': () => {
    const big = letters(int(5000, 30000));
    const line = pick([`GET http://${TARGET}:8080/`, `CONNECT ${TARGET}:8080`]);
    const head = rand() < 0.5 ? `GET http://${TARGET}:8080/${big} HTTP/1.1\r\nHost: ${TARGET}\r\n\r\n` : `${line} HTTP/1.1\r\nHost: ${TARGET}\r\nX-Big: ${big}\r\n\r\n`;
    return { to: 'proxy', data: Buffer.from(head), end: true, http: /^HTTP\/1\.1 431 /, counter: 'client.httpBadRequest' };
  },
  'http-method': () => {
    // Letters and a digit, or lower case: never a method the HTTP parser knows.
    const method = rand() < 0.5 ? `${letters(int(1, 8), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}${int(0, 9)}` : letters(int(3, 7));
    return { to: 'proxy', data: Buffer.from(`${method} http://${TARGET}:8080/ HTTP/1.1\r\nHost: ${TARGET}\r\n\r\n`), end: true, http: /^HTTP\/1\.1 400 /, counter: 'client.httpBadRequest' };
  },
  'http-host': () => {
    const r = rand();
    const name = r < 0.5 ? nonAsciiName() : Buffer.from(overlongName());
    // CONNECT authorities are taken as they are; absolute-form URLs go through the WHATWG URL
    // parser, which turns UTF-8 names into punycode (valid): only overlong names there.
    const line = r < 0.75 ? Buffer.concat([Buffer.from('CONNECT '), name, Buffer.from(':443 HTTP/1.1\r\nHost: x\r\n\r\n')]) : Buffer.from(`GET http://${overlongName()}/ HTTP/1.1\r\nHost: x\r\n\r\n`);
    return { to: 'proxy', data: line, end: true, http: /^HTTP\/1\.1 400 /, counter: 'client.httpBadRequest' };
  },
  'proxy-random': () => {
    // Neither SOCKS5 (0x05) nor an HTTP method's first letter.
    let first = int(0, 255);
    while (first === 5 || (first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)) first = int(0, 255);
    return { to: 'proxy', data: Buffer.concat([Buffer.from([first]), bytes(int(0, 2000))]), end: rand() < 0.5, replies: [Buffer.alloc(0)], counter: 'client.unknownProtocol' };
  },
  'aggregator-random': () => {
    // Random bytes, or a TLS record header with garbage: the TLS handshake fails (at most an
    // alert comes back), the stream is closed after the refusal delay.
    const data = rand() < 0.3 ? Buffer.concat([Buffer.from([0x16, 3, int(0, 4), int(0, 255), int(0, 255)]), bytes(int(0, 1500))]) : bytes(int(1, 3000));
    return { to: 'aggregator', data, end: true, tlsAlert: true, counter: 'aggregator.tlsFailed' };
  },
};
const names = onlyArg !== undefined ? [onlyArg] : Object.keys(cases);

/** Sends one input; resolves with what came back and whether the peer closed in time. */
function send(input) {
  const at = input.to === 'proxy' ? proxy : aggregator;
  return new Promise((resolve) => {
    const s = connect(at.port, at.host);
    const got = [];
    // Closed by the peer (FIN or RST) unless the deadline fires first.
    let closed = true;
    const deadline = setTimeout(() => {
      closed = false;
      s.destroy();
    }, 5000);
    s.on('data', (d) => got.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(deadline);
      resolve({ got: Buffer.concat(got), closed });
    });
    s.on('connect', async () => {
      // In one to three pieces, a few milliseconds apart: partial reads are part of it.
      const pieces = int(1, 3);
      const cuts = [0, ...Array.from({ length: pieces - 1 }, () => int(0, input.data.length)).sort((a, b) => a - b), input.data.length];
      for (let i = 0; i < pieces && !s.destroyed; i++) {
        s.write(input.data.subarray(cuts[i], cuts[i + 1]));
        if (i < pieces - 1) await new Promise((r) => setTimeout(r, 2));
      }
      if (input.end && !s.destroyed) s.end();
    });
  });
}

function verdict(input, r) {
  if (!r.closed) return 'not closed within 5 s';
  if (input.replies !== undefined) return input.replies.some((x) => x.equals(r.got)) ? undefined : `got ${r.got.toString('hex').slice(0, 80)}, expected one of ${input.replies.map((x) => x.toString('hex') || '(nothing)').join(', ')}`;
  if (input.http !== undefined) return input.http.test(r.got.toString('latin1')) ? undefined : `got ${JSON.stringify(r.got.toString('latin1').slice(0, 80))}, expected ${input.http}`;
  // TLS: nothing, or alert records only (content type 21).
  for (let off = 0; off < r.got.length; ) {
    if (r.got[off] !== 21 || off + 5 > r.got.length) return `got non-alert bytes ${r.got.toString('hex').slice(0, 80)}`;
    off += 5 + r.got.readUInt16BE(off + 3);
  }
  return undefined;
}

const inputs = Array.from({ length: count }, (_, i) => {
  const name = names[i % names.length];
  return { name, ...cases[name]() };
});
const summary = { inputs: count, ms: 0, cases: {}, counters: {}, violations: [], violationCount: 0 };
const t0 = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < inputs.length) {
      const input = inputs[next++];
      const r = await send(input);
      summary.cases[input.name] = (summary.cases[input.name] ?? 0) + 1;
      summary.counters[input.counter] = (summary.counters[input.counter] ?? 0) + 1;
      const why = verdict(input, r);
      if (why !== undefined) {
        summary.violationCount++;
        if (summary.violations.length < 20) summary.violations.push({ case: input.name, sent: input.data.toString('hex').slice(0, 160), why });
      }
    }
  }),
);
summary.ms = Date.now() - t0;
console.log(JSON.stringify(summary));
