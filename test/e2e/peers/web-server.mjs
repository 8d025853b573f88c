// The e2e web host: a plain Node HTTP server on [::]:PORT (dual stack) that serves
//   GET  /bytes/N  N deterministic bytes (xorshift32 from seed 1, the generator of
//                  test/unit/proxy/helpers.ts body()), streamed with backpressure;
//   GET  /paced/N/CHUNK/MS  the same N bytes, CHUNK bytes every MS milliseconds (an
//                  application-limited sender, as interactive or streaming traffic is);
//   POST /upload   the sha256 (hex) of the request body;
//   GET  /whoami   the client address it sees (which family the aggregator used);
//   GET  /page/RUN  an HTML page with PAGE_IMAGES PNG images, PAGE_SCRIPTS scripts and
//                  PAGE_STYLES stylesheets under /r/RUN/ (the browser test); once the load
//                  event fired, a script sets <body data-loaded="IMAGES/SCRIPTS/STYLES"> to
//                  how many of each really loaded (decoded, executed, applied);
//   GET  /r/RUN/*  those resources, each request counted per RUN;
//   GET  /count/RUN  {"requests": N, "peers": [addresses]} for RUN's resource requests.
// With TLSPORT CERT KEY it also serves the same over HTTPS (a test CA's certificate).
// Prints "listening PORT" when ready.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { crc32, deflateSync } from 'node:zlib';

const port = Number(process.argv[2] ?? 8080);
const [tlsPort, certFile, keyFile] = process.argv.slice(3);

function* chunks(size) {
  let x = 1;
  const CH = 65536;
  for (let off = 0; off < size; off += CH) {
    const n = Math.min(CH, size - off);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    yield b;
  }
}

const PAGE_IMAGES = 40;
const PAGE_SCRIPTS = 12;
const PAGE_STYLES = 12;
/** Resource requests per page run: count and the peer addresses they came from. */
const runs = new Map();

/** A 64x64 RGB PNG (a gradient in a colour of its own per index, so the screenshot shows a grid). */
function png(index) {
  const W = 64;
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(W, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(W * (1 + 3 * W));
  const [r, g, b] = [(index * 67) % 256, (index * 131) % 256, (index * 199) % 256];
  for (let y = 0; y < W; y++) {
    const row = y * (1 + 3 * W); // filter byte 0
    for (let x = 0; x < W; x++) {
      raw[row + 1 + 3 * x] = (r + x * 2) & 0xff;
      raw[row + 2 + 3 * x] = (g + y * 2) & 0xff;
      raw[row + 3 + 3 * x] = b;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function page(run) {
  const r = `/r/${run}`;
  const styles = Array.from({ length: PAGE_STYLES }, (_, i) => `<link rel="stylesheet" href="${r}/style-${i}.css">`).join('\n');
  const scripts = Array.from({ length: PAGE_SCRIPTS }, (_, i) => `<script src="${r}/script-${i}.js"></script>`).join('\n');
  const boxes = Array.from({ length: PAGE_STYLES }, (_, i) => `<div class="box s${i}">style ${i}</div>`).join('');
  const images = Array.from({ length: PAGE_IMAGES }, (_, i) => `<img src="${r}/image-${i}.png" width="64" height="64" alt="${i}">`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>mptcp-proxy browser test ${run}</title>
${styles}
</head><body>
<h1>mptcp-proxy: ${PAGE_IMAGES} images, ${PAGE_SCRIPTS} scripts, ${PAGE_STYLES} stylesheets through the proxy</h1>
<div id="boxes">${boxes}</div>
<div id="images">${images}</div>
${scripts}
<script>
window.addEventListener('load', () => {
  const images = [...document.images].filter((i) => i.complete && i.naturalWidth === 64).length;
  const scripts = window.scriptsRun || 0;
  const styles = [...document.querySelectorAll('.box')].filter((b) => getComputedStyle(b).borderTopWidth === '3px').length;
  document.body.dataset.loaded = images + '/' + scripts + '/' + styles;
});
</script>
</body></html>
`;
}

function resource(run, name, req, res) {
  const seen = runs.get(run) ?? { requests: 0, peers: new Set() };
  runs.set(run, seen);
  seen.requests++;
  seen.peers.add(String(req.socket.remoteAddress));
  let m;
  if ((m = /^image-(\d+)\.png$/.exec(name))) return void res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(png(Number(m[1])));
  if ((m = /^script-(\d+)\.js$/.exec(name))) return void res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' }).end(`window.scriptsRun = (window.scriptsRun || 0) + 1; // ${m[1]}\n`);
  if ((m = /^style-(\d+)\.css$/.exec(name))) {
    const i = Number(m[1]);
    const css = `.box.s${i} { border: 3px solid hsl(${i * 30}, 70%, 40%); background: hsl(${i * 30}, 70%, 85%); display: inline-block; padding: 6px; margin: 2px; }\n`;
    return void res.writeHead(200, { 'Content-Type': 'text/css', 'Cache-Control': 'no-store' }).end(css);
  }
  res.writeHead(404).end('not found\n');
}

function handle(req, res) {
  const p = /^\/page\/(\w+)$/.exec(req.url ?? '');
  if (p) return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(page(p[1]));
  const r = /^\/r\/(\w+)\/([\w.-]+)$/.exec(req.url ?? '');
  if (r) return resource(r[1], r[2], req, res);
  const c = /^\/count\/(\w+)$/.exec(req.url ?? '');
  if (c) {
    const seen = runs.get(c[1]);
    return void res.end(JSON.stringify({ requests: seen?.requests ?? 0, peers: [...(seen?.peers ?? [])] }));
  }
  const paced = /^\/paced\/(\d+)\/(\d+)\/(\d+)$/.exec(req.url ?? '');
  if (paced) {
    const [size, chunk, ms] = paced.slice(1).map(Number);
    if (chunk < 1 || ms < 1) return void res.writeHead(400).end('chunk and interval must be positive\n');
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    const all = Buffer.concat([...chunks(size)]);
    let off = 0;
    const t0 = Date.now();
    const tick = () => {
      if (res.destroyed) return;
      res.write(all.subarray(off, Math.min(size, off + chunk)));
      off += chunk;
      if (off >= size) return void res.end();
      // On a fixed timetable (no drift from timer lateness).
      setTimeout(tick, Math.max(0, t0 + (off / chunk) * ms - Date.now()));
    };
    tick();
    return;
  }
  const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
  if (m) {
    const size = Number(m[1]);
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    const it = chunks(size);
    const pump = () => {
      for (;;) {
        const c = it.next();
        if (c.done) return void res.end();
        if (!res.write(c.value)) return void res.once('drain', pump);
      }
    };
    pump();
    return;
  }
  if (req.url === '/upload' && req.method === 'POST') {
    const h = createHash('sha256');
    req.on('data', (d) => h.update(d));
    req.on('end', () => res.end(h.digest('hex')));
    return;
  }
  if (req.url === '/whoami') return void res.end(String(req.socket.remoteAddress));
  res.writeHead(404);
  res.end('not found\n');
}

const listening = [];
listening.push(new Promise((r) => createServer(handle).listen({ port, host: '::', ipv6Only: false }, r)));
if (tlsPort !== undefined) {
  const tls = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle);
  listening.push(new Promise((r) => tls.listen({ port: Number(tlsPort), host: '::', ipv6Only: false }, r)));
}
Promise.all(listening).then(() => console.log(`listening ${port}${tlsPort !== undefined ? ` and ${tlsPort} (https)` : ''}`));
process.on('SIGTERM', () => process.exit(0));
