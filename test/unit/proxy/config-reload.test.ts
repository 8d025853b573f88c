/**
 * Reloading a running client and aggregator (in this process, over the tcp transport on
 * loopback, with TLS): the aggregator forgets a removed client (its new streams and requests
 * are refused) while that client's established relay keeps flowing and other clients carry
 * on; the client's new local credentials apply to new connections while an open one
 * continues; settings that need a restart are reported and kept; and 200 requests succeed
 * while the client's file is rewritten 10 times (8 valid, 2 invalid), counted by
 * mptcp_proxy_config_reloads_total.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aggregator } from '../../../proxy/aggregator/aggregator.js';
import { Client } from '../../../proxy/client/client.js';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { ConfigWatcher } from '../../../proxy/config/config-watcher.js';
import { CLIENT_COUNTER_MAP, ProxyMetrics } from '../../../proxy/metrics/proxy-metrics.js';
import { loadOrCreateIdentity } from '../../../proxy/tls/certificate.js';
import { createTcpTransport } from '../../../proxy/transport/tcp.js';
import { SECRET, sha256, startWeb } from './helpers.js';

const PHONE_SECRET = 'the phone secret, long enough';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** Everything a socket receives, and a way to wait for more. */
function collect(s: Socket): { text: () => string; bytes: () => Buffer; waitFor: (pred: (b: Buffer) => boolean) => Promise<void> } {
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  s.on('error', () => undefined);
  return { text: () => buf.toString('latin1'), bytes: () => buf, waitFor: (pred) => until(() => pred(buf)) };
}

/** HTTP CONNECT through the client; the status and the socket (a tunnel when 200). */
async function tunnel(proxyPort: number, to: number, credentials?: string): Promise<{ status: number; socket: Socket; received: () => string }> {
  const socket = connect(proxyPort, '127.0.0.1');
  const c = collect(socket);
  await once(socket, 'connect');
  const auth = credentials !== undefined ? `Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n` : '';
  socket.write(`CONNECT 127.0.0.1:${to} HTTP/1.1\r\nHost: 127.0.0.1:${to}\r\n${auth}\r\n`);
  await c.waitFor((b) => b.includes('\r\n\r\n'));
  const head = c.text();
  const skip = head.indexOf('\r\n\r\n') + 4;
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), socket, received: () => c.text().slice(skip) };
}

/** Sends `text` on an established tunnel to the echo server and waits for it to come back. */
async function echo(t: { socket: Socket; received: () => string }, text: string): Promise<void> {
  const before = t.received().length;
  t.socket.write(text);
  await until(() => t.received().slice(before) === text);
}

/** SOCKS5 username/password (RFC 1929): the server's status byte (0 = accepted). */
async function socksLogin(proxyPort: number, user: string, pass: string): Promise<number> {
  const s = connect(proxyPort, '127.0.0.1');
  const c = collect(s);
  await once(s, 'connect');
  s.write(Buffer.from([5, 1, 2]));
  await c.waitFor((b) => b.length >= 2);
  s.write(Buffer.concat([Buffer.from([1, user.length]), Buffer.from(user), Buffer.from([pass.length]), Buffer.from(pass)]));
  await c.waitFor((b) => b.length >= 4);
  s.destroy();
  return c.bytes()[3];
}

let echoServer: Server;
let echoPort = 0;
let web: Awaited<ReturnType<typeof startWeb>>;
const stateDir = mkdtempSync(join(tmpdir(), 'reload-state-'));
const identity = loadOrCreateIdentity(stateDir);
beforeAll(async () => {
  echoServer = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echoServer.listen(0, '127.0.0.1', r));
  echoPort = (echoServer.address() as { port: number }).port;
  web = await startWeb();
});
afterAll(() => {
  echoServer.close();
  web.server.close();
});

const aggregatorText = (clients: string, extra = '') => `transport: tcp
listen: 127.0.0.1:0
stateDir: ${stateDir}
clients:
${clients}
limits:
  refusalDelayMs: 50
destinations:
  allow: [127.0.0.0/8]
${extra}`;
const LAPTOP = `  - { id: laptop, secret: ${JSON.stringify(SECRET)} }`;
const PHONE = `  - { id: phone, secret: ${JSON.stringify(PHONE_SECRET)} }`;

const clientText = (aggPort: number, id: string, secret: string, extra = '') => `transport: tcp
aggregator:
  host: 127.0.0.1
  port: ${aggPort}
  fingerprint: ${identity.fingerprint}
  clientId: ${id}
  secret: ${JSON.stringify(secret)}
listen: [127.0.0.1:0]
connectTimeoutSeconds: 3
requestTimeoutSeconds: 5
${extra}`;

async function startAggregator(text: string): Promise<{ agg: Aggregator; port: number; logs: string[] }> {
  const logs: string[] = [];
  const agg = new Aggregator(parseAggregatorConfig(text), createTcpTransport(), identity, { log: (l) => logs.push(l) });
  const at = await agg.start();
  return { agg, port: at.port, logs };
}

async function startClient(text: string): Promise<{ client: Client; port: number; logs: string[] }> {
  const logs: string[] = [];
  const client = new Client(parseClientConfig(text), createTcpTransport(), (l) => logs.push(l));
  const [l] = await client.start();
  return { client, port: l.address.port, logs };
}

describe('aggregator applyConfig', () => {
  it("removing a client: its new streams are refused, its established relay keeps flowing, others carry on", async () => {
    const { agg, port: aggPort, logs } = await startAggregator(aggregatorText(`${LAPTOP}\n${PHONE}`));
    const laptop = await startClient(clientText(aggPort, 'laptop', SECRET));
    const phone = await startClient(clientText(aggPort, 'phone', PHONE_SECRET));
    try {
      const established = await tunnel(laptop.port, echoPort);
      expect(established.status).toBe(200);
      await echo(established, 'before the reload');

      const plan = agg.applyConfig(parseAggregatorConfig(aggregatorText(PHONE, 'publicHost: 198.51.100.7\n')));
      expect(plan.applied).toEqual(['clients']);
      expect(plan.needsRestart).toEqual(['publicHost']);
      expect(logs).toContain('configuration: needs a restart: publicHost (kept as they were until then)');
      expect(agg.currentConfig.publicHost).toBeUndefined();

      await echo(established, 'after the reload, same relay');
      const refused = await tunnel(laptop.port, echoPort);
      expect(refused.status).toBe(502);
      refused.socket.destroy();
      expect(agg.counters.get('authUnknownClient')).toBeGreaterThanOrEqual(1);
      const other = await tunnel(phone.port, echoPort);
      expect(other.status).toBe(200);
      await echo(other, 'the phone still works');
      await echo(established, 'and the laptop relay still flows');
      other.socket.destroy();
      established.socket.destroy();
      expect(agg.counters.get('configReloadsOk')).toBe(1);
    } finally {
      await laptop.client.close();
      await phone.client.close();
      await agg.close();
    }
  });

  it('limits and destinations apply to new requests', async () => {
    const { agg, port: aggPort } = await startAggregator(aggregatorText(LAPTOP));
    const laptop = await startClient(clientText(aggPort, 'laptop', SECRET));
    try {
      const open = await tunnel(laptop.port, echoPort);
      expect(open.status).toBe(200);
      agg.applyConfig(parseAggregatorConfig(aggregatorText(LAPTOP).replace('allow: [127.0.0.0/8]', 'allow: []')));
      const denied = await tunnel(laptop.port, echoPort);
      expect(denied.status).toBe(403);
      await echo(open, 'still open');
      open.socket.destroy();
    } finally {
      await laptop.client.close();
      await agg.close();
    }
  });
});

describe('client applyConfig', () => {
  it('new credentials: an open connection continues, new ones need the new credentials', async () => {
    const { agg, port: aggPort } = await startAggregator(aggregatorText(LAPTOP));
    const auth = (password: string) => `auth:\n  username: me\n  password: ${password}\n`;
    const { client, port, logs } = await startClient(clientText(aggPort, 'laptop', SECRET, auth('old password')));
    try {
      const open = await tunnel(port, echoPort, 'me:old password');
      expect(open.status).toBe(200);
      const plan = client.applyConfig(parseClientConfig(clientText(aggPort, 'laptop', SECRET, `${auth('new password')}listen: [127.0.0.1:0, 127.0.0.1:0]\n`).replace('listen: [127.0.0.1:0]\n', '')));
      expect(plan.applied).toEqual(['auth']);
      expect(plan.needsRestart).toEqual(['listen']);
      expect(logs).toContain('configuration reloaded; applied: auth');
      expect(client.currentConfig.listen).toHaveLength(1);

      await echo(open, 'the open tunnel continues');
      const old = await tunnel(port, echoPort, 'me:old password');
      expect(old.status).toBe(407);
      old.socket.destroy();
      const fresh = await tunnel(port, echoPort, 'me:new password');
      expect(fresh.status).toBe(200);
      await echo(fresh, 'new credentials');
      expect(await socksLogin(port, 'me', 'old password')).not.toBe(0);
      expect(await socksLogin(port, 'me', 'new password')).toBe(0);
      await echo(open, 'and still');
      fresh.socket.destroy();
      open.socket.destroy();
    } finally {
      await client.close();
      await agg.close();
    }
  });
});

describe('hot reload under traffic', () => {
  it('200 requests (8 at a time) while client.yaml is rewritten 10 times, 2 of them invalid: no request fails', async () => {
    const { agg, port: aggPort } = await startAggregator(aggregatorText(LAPTOP));
    const dir = mkdtempSync(join(tmpdir(), 'hot-reload-'));
    const file = join(dir, 'client.yaml');
    const version = (i: number) =>
      clientText(
        aggPort,
        'laptop',
        SECRET,
        `requestTimeoutSeconds: ${5 + (i % 2)}\nidleTimeoutSeconds: ${300 + i}\nmaxHeaderBytes: ${i % 2 === 0 ? 16384 : 32768}\npool: { min: ${1 + (i % 3)}, max: ${8 + i} }\nscheduler: ${i % 2 === 0 ? 'lowest-rtt' : 'ecf'}\n`,
      ).replace('requestTimeoutSeconds: 5\n', '');
    const invalid = new Map([
      [4, `${version(4)}pool: { min: 1 }\n`], // YAML: duplicate key
      [8, `${version(8)}idleTimeoutSeconds2: 5\nconnectTimeoutSeconds: 0\n`.replace('connectTimeoutSeconds: 3\n', '')], // schema: unknown key, out of range
    ]);
    writeFileSync(file, version(0));
    const { client, port } = await startClient(version(0));
    const rejected: string[] = [];
    const watcher = new ConfigWatcher({
      file,
      initial: client.currentConfig,
      parse: (text, f) => parseClientConfig(text, f),
      apply: (next) => void client.applyConfig(next),
      reject: (e) => {
        rejected.push(e instanceof Error ? e.message : String(e));
        client.configRejected(e);
      },
    });
    watcher.start();
    const metrics = new ProxyMetrics({ role: 'client', counters: () => client.counters.snapshot(), map: CLIENT_COUNTER_MAP, activeConnections: () => client.activeConnections(), transport: client.transportInUse });
    const reloads = () => client.counters.get('configReloadsOk') + client.counters.get('configReloadsInvalid');

    const results: { ok: boolean; at: number; why?: string }[] = [];
    let next = 0;
    const fetchOne = (size: number) =>
      new Promise<{ ok: boolean; why?: string }>((resolve) => {
        const req = get({ host: '127.0.0.1', port, path: `http://127.0.0.1:${web.port}/bytes/${size}`, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            const ok = res.statusCode === 200 && body.length === size && sha256(body) === res.headers['x-sha256'];
            resolve(ok ? { ok } : { ok, why: `status ${res.statusCode}: ${body.subarray(0, 200).toString()}` });
          });
          res.on('error', (e) => resolve({ ok: false, why: e.message }));
        });
        req.on('error', (e) => resolve({ ok: false, why: e.message }));
      });
    const worker = async () => {
      while (next < 200) {
        const n = next++;
        const r = await fetchOne(1000 + n * 97);
        results.push({ ...r, at: Date.now() });
        await sleep(150);
      }
    };
    const rewrites = async () => {
      await until(() => results.length >= 8);
      const times: number[] = [];
      for (let i = 1; i <= 10; i++) {
        writeFileSync(file, invalid.get(i) ?? version(i));
        await until(() => reloads() === i);
        times.push(Date.now());
        await sleep(50);
      }
      return times;
    };
    try {
      const [times] = await Promise.all([rewrites(), ...Array.from({ length: 8 }, worker)]);
      const failures = results.filter((r) => !r.ok);
      expect(failures).toEqual([]);
      expect(results).toHaveLength(200);
      expect(client.counters.get('configReloadsOk')).toBe(8);
      expect(client.counters.get('configReloadsInvalid')).toBe(2);
      expect(rejected[0]).toMatch(/client\.yaml:\d+:\d+: \(yaml\): Map keys must be unique/);
      expect(rejected[1]).toContain("idleTimeoutSeconds2: unknown key 'idleTimeoutSeconds2' (did you mean 'idleTimeoutSeconds'?)");
      expect(rejected[1]).toContain('connectTimeoutSeconds: 0 is out of range (0.1..300)');
      // Every reload happened while requests were still being answered.
      const lastAnswer = Math.max(...results.map((r) => r.at));
      expect(Math.max(...times)).toBeLessThan(lastAnswer);
      expect(client.currentConfig).toMatchObject({ idleTimeoutSeconds: 310, pool: { min: 2, max: 18 }, maxHeaderBytes: 16384 });
      const text = await metrics.registry.metrics();
      expect(text).toContain('mptcp_proxy_config_reloads_total{outcome="ok"} 8');
      expect(text).toContain('mptcp_proxy_config_reloads_total{outcome="invalid"} 2');
    } finally {
      watcher.close();
      await client.close();
      await agg.close();
    }
  });
});
