/**
 * Shared helpers for the proxy tests: a client and aggregator pair in this process on
 * loopback (any transport), a small web server with deterministic bodies, and curl runs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aggregator, type AggregatorDeps } from '../../../proxy/aggregator/aggregator.js';
import { Client } from '../../../proxy/client/client.js';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { loadOrCreateIdentity } from '../../../proxy/tls/certificate.js';
import { createKernelMptcpTransport } from '../../../proxy/transport/kernel.js';
import { createTcpTransport } from '../../../proxy/transport/tcp.js';
import type { LatencySink } from '../../../proxy/util/latency.js';

export const SECRET = 'correct horse battery staple';

/** Deterministic body of `size` bytes for a seed. */
export function body(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** GET /bytes/N -> N bytes; POST /upload -> sha256 of the body; GET /echo-headers -> JSON. */
export async function startWeb(host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (m) {
      const b = body(Number(m[1]));
      res.writeHead(200, { 'Content-Length': b.length, 'X-Sha256': sha256(b) });
      return void res.end(b);
    }
    if (req.url === '/upload') {
      const h = createHash('sha256');
      req.on('data', (d: Buffer) => h.update(d));
      req.on('end', () => res.end(h.digest('hex')));
      return;
    }
    if (req.url === '/echo-headers') return void res.end(JSON.stringify(req.headers));
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as { port: number }).port };
}

export interface Pair {
  client: Client;
  aggregator: Aggregator;
  proxyPort: number;
  /** Every listener's mode and port (mixed first, then socks-only, then http-only). */
  listeners: { mode: string; port: number }[];
  fingerprint: string;
  close(): Promise<void>;
}

export async function startPair(opts: { transport: 'tcp' | 'kernel'; clientYaml?: string; aggYaml?: string; aggLimits?: string; connectTimeoutSeconds?: number; aggDeps?: AggregatorDeps; clientLatency?: LatencySink; secret?: string; fingerprint?: string; plaintext?: boolean }): Promise<Pair> {
  const stateDir = mkdtempSync(join(tmpdir(), 'agg-state-'));
  const mk = () => (opts.transport === 'tcp' ? createTcpTransport() : createKernelMptcpTransport());
  const aggCfg = parseAggregatorConfig(
    `transport: ${opts.transport}
listen: 127.0.0.1:0
stateDir: ${stateDir}
plaintext: ${opts.plaintext === true}
clients:
  - id: laptop
    secret: ${JSON.stringify(SECRET)}
limits:
  refusalDelayMs: 200
  connectTimeoutSeconds: ${opts.connectTimeoutSeconds ?? 3}
${opts.aggLimits ?? ''}
destinations:
  allow: [127.0.0.0/8, "::1"]
${opts.aggYaml ?? ''}`,
  );
  const identity = opts.plaintext === true ? undefined : loadOrCreateIdentity(stateDir);
  const aggregator = new Aggregator(aggCfg, mk(), identity, { log: () => undefined, ...opts.aggDeps });
  const at = await aggregator.start();
  const fp = opts.fingerprint ?? identity?.fingerprint;
  const clientCfg = parseClientConfig(
    `transport: ${opts.transport}
plaintext: ${opts.plaintext === true}
aggregator:
  host: 127.0.0.1
  port: ${at.port}
${fp !== undefined ? `  fingerprint: ${fp}` : ''}
  clientId: laptop
  secret: ${JSON.stringify(opts.secret ?? SECRET)}
listen: [127.0.0.1:0]
connectTimeoutSeconds: 3
requestTimeoutSeconds: 5
${opts.clientYaml ?? ''}`,
  );
  const client = new Client(clientCfg, mk(), () => undefined, opts.clientLatency);
  const all = await client.start();
  const l = all[0];
  return {
    client,
    aggregator,
    proxyPort: l.address.port,
    listeners: all.map((x) => ({ mode: x.mode, port: x.address.port })),
    fingerprint: fp ?? '',
    close: async () => {
      await client.close();
      await aggregator.close();
    },
  };
}

export interface CurlResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function curl(args: string[], timeoutMs = 30_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', String(timeoutMs / 1000), ...args], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}
