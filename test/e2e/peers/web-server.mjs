// The e2e web host: a plain Node HTTP server on [::]:PORT (dual stack) that serves
//   GET  /bytes/N  N deterministic bytes (xorshift32 from seed 1, the generator of
//                  test/unit/proxy/helpers.ts body()), streamed with backpressure;
//   POST /upload   the sha256 (hex) of the request body;
//   GET  /whoami   the client address it sees (which family the aggregator used).
// With TLSPORT CERT KEY it also serves the same over HTTPS (a test CA's certificate).
// Prints "listening PORT" when ready.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

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

function handle(req, res) {
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
