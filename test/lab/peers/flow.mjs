// flow.mjs: the lab's traffic peer, run inside lab hosts with plain node (or under
// `mptcpize run` to make its sockets kernel MPTCP). Plain JavaScript so it needs no build step.
//
//   node flow.mjs server --port P [--host ADDR]
//     Serves downloads: a request is one line "GET <bytes>\n"; the answer is that many bytes of
//     a fixed pattern (byte at offset o = o % 251), then the server closes its side.
//   node flow.mjs get --connect HOST:PORT --bytes N [--local ADDR] [--socks HOST:PORT]
//                     [--count K] [--parallel C] [--progress MS] [--timeout MS]
//     Downloads N bytes K times (C at a time; default 1 and 1), directly or through a SOCKS5
//     proxy (no authentication; CONNECT to HOST:PORT), verifies every byte against the pattern,
//     and prints one JSON line: per-transfer timings (connect, first byte, done), the longest gap
//     between arriving data, progress samples (wall-clock ms, bytes) and errors.
//     SIGTERM stops it early but cleanly: transfers under way end with the error "stopped" (their
//     bytes so far counted), none start, and the JSON line is printed as usual (background flows).
import { connect, createServer } from 'node:net';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

const args = process.argv.slice(2);
const mode = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

const PERIOD = 251;
const PATTERN = Buffer.alloc(PERIOD * 512);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % PERIOD;

function hostPort(s) {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, ''), Number(s.slice(i + 1))];
}

function serve() {
  const port = Number(opt('port', '5201'));
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    let line = '';
    const onData = (d) => {
      line += d.toString('latin1');
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      sock.off('data', onData);
      const m = /^GET (\d+)/.exec(line.slice(0, nl));
      if (m === null) return sock.destroy();
      let left = Number(m[1]);
      let offset = 0;
      const pump = () => {
        while (left > 0) {
          const start = offset % PERIOD;
          const n = Math.min(left, PATTERN.length - start, 65536);
          const chunk = PATTERN.subarray(start, start + n);
          left -= n;
          offset += n;
          if (!sock.write(chunk)) return sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    };
    sock.on('data', onData);
  });
  server.listen(port, opt('host', '::'), () => console.log(JSON.stringify({ listening: port })));
}

function socksConnect(sock, host, port) {
  const fam = isIP(host);
  let addr;
  if (fam === 4) addr = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (fam === 6) {
    const b = Buffer.alloc(17);
    b[0] = 4;
    const parts = host.split('::');
    const head = parts[0] ? parts[0].split(':') : [];
    const tail = parts.length > 1 && parts[1] ? parts[1].split(':') : [];
    const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 1 + 2 * i));
    addr = b;
  } else addr = Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host)]);
  const portBuf = Buffer.alloc(2);
  portBuf.writeUInt16BE(port);
  return new Promise((resolve, reject) => {
    let stage = 0;
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        if (buf[0] !== 5 || buf[1] !== 0) return reject(new Error(`socks: method refused (${buf[1]})`));
        buf = buf.subarray(2);
        stage = 1;
        sock.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, portBuf]));
      }
      if (stage === 1 && buf.length >= 5) {
        if (buf[1] !== 0) return reject(new Error(`socks: connect failed (reply ${buf[1]})`));
        const need = buf[3] === 1 ? 10 : buf[3] === 4 ? 22 : 7 + buf[4];
        if (buf.length < need) return;
        sock.off('data', onData);
        const rest = buf.subarray(need);
        if (rest.length > 0) sock.unshift(rest);
        resolve();
      }
    };
    sock.on('data', onData);
    sock.write(Buffer.from([5, 1, 0]));
  });
}

/** finish() of every transfer under way, for SIGTERM. */
const active = new Set();
let stopped = false;

function transfer(target, bytes, local, socks, progressMs, timeoutMs) {
  const r = { start: performance.timeOrigin + performance.now(), connectMs: null, ttfbMs: null, doneMs: null, bytes: 0, maxGapMs: 0, progress: [], error: null };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const [host, port] = socks ?? target;
    const sock = connect({ host, port, ...(local ? { localAddress: local } : {}) });
    let last = 0;
    let lastSample = -Infinity;
    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      active.delete(finish);
      clearTimeout(timer);
      if (error) r.error = error;
      r.doneMs = performance.now() - t0;
      r.progress.push([performance.timeOrigin + performance.now(), r.bytes]);
      sock.destroy();
      resolve(r);
    };
    active.add(finish);
    const timer = timeoutMs > 0 ? setTimeout(() => finish(`timeout after ${timeoutMs} ms with ${r.bytes} of ${bytes} bytes`), timeoutMs) : undefined;
    sock.on('error', (e) => finish(`${e.code ?? ''} ${e.message}`.trim()));
    sock.on('connect', async () => {
      sock.setNoDelay(true);
      r.connectMs = performance.now() - t0;
      try {
        if (socks) await socksConnect(sock, target[0], target[1]);
      } catch (e) {
        return finish(e.message);
      }
      sock.on('data', (d) => {
        const now = performance.now();
        if (r.ttfbMs === null) r.ttfbMs = now - t0;
        else if (now - last > r.maxGapMs) r.maxGapMs = now - last;
        last = now;
        const start = r.bytes % PERIOD;
        for (let off = 0; off < d.length; ) {
          const s = (start + off) % PERIOD;
          const n = Math.min(d.length - off, PATTERN.length - s);
          if (d.compare(PATTERN, s, s + n, off, off + n) !== 0) return finish(`corrupt data near byte ${r.bytes + off}`);
          off += n;
        }
        r.bytes += d.length;
        if (progressMs > 0 && now - lastSample >= progressMs) {
          lastSample = now;
          r.progress.push([performance.timeOrigin + now, r.bytes]);
        }
      });
      sock.on('end', () => finish(r.bytes === bytes ? null : `short: ${r.bytes} of ${bytes} bytes`));
      sock.write(`GET ${bytes}\n`);
    });
  });
}

async function get() {
  const target = hostPort(opt('connect'));
  const socksOpt = opt('socks');
  const socks = socksOpt ? hostPort(socksOpt) : null;
  const bytes = Number(opt('bytes', '1048576'));
  const count = Number(opt('count', '1'));
  const parallel = Number(opt('parallel', '1'));
  const progressMs = Number(opt('progress', '0'));
  const timeoutMs = Number(opt('timeout', '0'));
  const local = opt('local');
  const results = [];
  let next = 0;
  const t0 = performance.now();
  process.once('SIGTERM', () => {
    stopped = true;
    for (const finish of [...active]) finish('stopped');
  });
  const worker = async () => {
    while (!stopped && next < count) {
      next++;
      results.push(await transfer(target, bytes, local, socks, progressMs, timeoutMs));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  const totalMs = performance.now() - t0;
  const mem = process.memoryUsage();
  console.log(JSON.stringify({ totalMs, rssBytes: mem.rss, results: count > 20 ? undefined : results, summary: summarize(results) }));
}

function summarize(results) {
  const ok = results.filter((r) => r.error === null);
  const q = (xs, p) => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))];
  };
  const errors = {};
  for (const r of results) if (r.error !== null) errors[r.error] = (errors[r.error] ?? 0) + 1;
  return {
    count: results.length,
    ok: ok.length,
    errors,
    bytes: results.reduce((a, r) => a + r.bytes, 0),
    ttfbMedianMs: q(ok.map((r) => r.ttfbMs), 0.5),
    ttfbP99Ms: q(ok.map((r) => r.ttfbMs), 0.99),
    doneMedianMs: q(ok.map((r) => r.doneMs), 0.5),
  };
}

if (mode === 'server') serve();
else if (mode === 'get') get();
else {
  console.error('usage: flow.mjs server --port P | get --connect HOST:PORT --bytes N [...]');
  process.exit(2);
}
