/**
 * The demo's web host: a small HTTP server with a page explaining the demo at `/`, `GET
 * /bytes/N` (N deterministic bytes, N up to 1 GiB, streamed with backpressure) and `GET
 * /whoami` (the address it sees, i.e. the aggregator's). Bad requests get 404; the server
 * never throws on input. `demoBytes` is the same generator, for checking a download.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BYTES = 1024 * 1024 * 1024;
const CHUNK = 65536;

/** The bytes of /bytes/N in chunks: xorshift32 from seed 1, low byte of each step. */
export function* demoByteChunks(size: number): Generator<Buffer> {
  let x = 1;
  for (let off = 0; off < size; off += CHUNK) {
    const n = Math.min(CHUNK, size - off);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    yield b;
  }
}

function page(req: IncomingMessage): string {
  return `<!doctype html>
<html><head><title>mptcp-proxy demo</title></head>
<body>
<h1>Hello through mptcp-proxy</h1>
<p>This page comes from the demo's web host. The aggregator fetched it for you (it saw it
coming from ${String(req.socket.remoteAddress)}), and the client carried it over Multipath TCP
on two paths.</p>
<p>Try a bigger download: <a href="/bytes/33554432">/bytes/33554432</a> (32 MiB), and watch
both paths with <code>ip -s -n &lt;client namespace&gt; link</code>.</p>
</body></html>
`;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const m = /^\/bytes\/(\d{1,10})$/.exec(url);
  if (req.method === 'GET' && m) {
    const size = Number(m[1]);
    if (size > MAX_BYTES) {
      res.writeHead(413, { 'Content-Type': 'text/plain' });
      res.end(`at most ${MAX_BYTES} bytes\n`);
      return;
    }
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    const it = demoByteChunks(size);
    const pump = () => {
      for (;;) {
        const c = it.next();
        if (c.done === true) return void res.end();
        if (!res.write(c.value)) return void res.once('drain', pump);
      }
    };
    pump();
    return;
  }
  if (req.method === 'GET' && url === '/whoami') return void res.end(`${String(req.socket.remoteAddress)}\n`);
  if (req.method === 'GET' && (url === '/' || url === '/index.html')) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    return void res.end(page(req));
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}

/** Starts the server on host:port (port 0: any); resolves with it and its port. */
export function startDemoWebHost(host: string, port: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(handle);
    server.on('clientError', (_e, socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ host, port, ...(host === '::' ? { ipv6Only: false } : {}) }, () => {
      server.removeListener('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
