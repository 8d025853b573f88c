/**
 * Bad input against a live client and aggregator on loopback: garbage first bytes, SOCKS4,
 * TLS at the proxy port, truncated and unsupported SOCKS5 requests, wrong local credentials,
 * oversized and malformed HTTP heads, slow trickles, random bytes and forged HELLOs at the
 * aggregator. Each gets the right answer or a close, is counted, and both processes keep
 * serving (a normal request succeeds afterwards).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../proxy/protocol/frame.js';
import { body, curl, sha256, startPair, startWeb, type Pair } from './helpers.js';

/** Sends `bytes` (in pieces `gapMs` apart), returns all received until the peer closes. */
function exchange(port: number, pieces: (Uint8Array | string)[], gapMs = 0, endAfter = false): Promise<{ data: Buffer; ms: number }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const t0 = Date.now();
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data: Buffer.concat(chunks), ms: Date.now() - t0 }));
    void (async () => {
      for (const p of pieces) {
        if (s.destroyed) return;
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter) s.end();
    })();
    setTimeout(() => s.destroy(), 5000);
  });
}

let web: Awaited<ReturnType<typeof startWeb>>;
let pair: Pair;
let authPair: Pair;
let aggPort = 0;
beforeAll(async () => {
  web = await startWeb();
  pair = await startPair({ transport: 'tcp', clientYaml: 'handshakeTimeoutSeconds: 0.5\nmaxHeaderBytes: 4096' });
  authPair = await startPair({ transport: 'tcp', clientYaml: 'auth:\n  username: me\n  password: "local secret"' });
  aggPort = (pair.client as unknown as { config: { aggregator: { port: number } } }).config.aggregator.port;
});
afterAll(async () => {
  await pair.close();
  await authPair.close();
  web.server.close();
});

const stillServes = async (p: Pair) => {
  const r = await curl(['--socks5-hostname', `127.0.0.1:${p.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/20000`]);
  expect(sha256(r.stdout)).toBe(sha256(body(20000)));
};

describe('client listener', () => {
  it('closes connections that speak neither SOCKS5 nor HTTP, and counts them', async () => {
    const before = pair.client.counters.get('unknownProtocol');
    for (const first of [Uint8Array.of(0x16, 3, 1, 0, 5), Uint8Array.of(4, 1, 0, 80, 1, 2, 3, 4, 0), Uint8Array.of(0), Uint8Array.of(0xff, 0xfe)]) {
      const r = await exchange(pair.proxyPort, [first]);
      expect(r.data.length).toBe(0);
    }
    expect(pair.client.counters.get('unknownProtocol') - before).toBe(4);
    await stillServes(pair);
  });

  it('answers BIND, UDP ASSOCIATE and unknown address types with full RFC 1928 replies', async () => {
    const bind = await exchange(pair.proxyPort, [Uint8Array.of(5, 1, 0), Uint8Array.of(5, 2, 0, 1, 1, 2, 3, 4, 0, 80)], 20);
    expect([...bind.data]).toEqual([5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
    const udp = await exchange(pair.proxyPort, [Uint8Array.of(5, 1, 0, 5, 3, 0, 1, 1, 2, 3, 4, 0, 80)]);
    expect(udp.data[3]).toBe(7);
    const atyp = await exchange(pair.proxyPort, [Uint8Array.of(5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80)]);
    expect([...atyp.data.subarray(2, 4)]).toEqual([5, 8]);
    const name = await exchange(pair.proxyPort, [Uint8Array.of(5, 1, 0, 5, 1, 0, 3, 3, 0xe2, 0x82, 0xac, 0, 80)]);
    expect(name.data[3]).toBe(4);
    expect(pair.client.counters.get('socksUnsupportedCommand')).toBeGreaterThanOrEqual(2);
  });

  it('drops truncated requests and slow trickles at the handshake deadline', async () => {
    const before = pair.client.counters.get('handshakeTimeout');
    const truncated = await exchange(pair.proxyPort, [Uint8Array.of(5, 1, 0, 5, 1, 0, 3, 20, 0x61)]);
    expect(truncated.data.length).toBe(2); // method choice only
    const greeting = [5, 1, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 80].map((x) => Uint8Array.of(x));
    const trickle = await exchange(pair.proxyPort, greeting, 100);
    expect(trickle.ms).toBeLessThan(1500);
    expect(pair.client.counters.get('handshakeTimeout') - before).toBe(2);
    const early = await exchange(pair.proxyPort, [Uint8Array.of(5, 1)], 0, true);
    expect(early.data.length).toBe(0);
  });

  it('answers oversized, malformed and Upgrade HTTP requests with 431, 400 and 501', async () => {
    const big = await exchange(pair.proxyPort, [`GET http://x.example/ HTTP/1.1\r\nHost: x.example\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`]);
    expect(big.data.toString()).toMatch(/^HTTP\/1\.1 431/);
    const junk = await exchange(pair.proxyPort, ['GARBAGE\x01\x02 nonsense\r\n\r\n']);
    expect(junk.data.toString()).toMatch(/^HTTP\/1\.1 400/);
    const badTarget = await exchange(pair.proxyPort, ['GET ftp://x.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(badTarget.data.toString()).toMatch(/^HTTP\/1\.1 400[^]*not proxied as plain HTTP/);
    const origin = await exchange(pair.proxyPort, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(origin.data.toString()).toMatch(/^HTTP\/1\.1 400/);
    const connectNoPort = await exchange(pair.proxyPort, ['CONNECT example.org HTTP/1.1\r\nHost: example.org\r\n\r\n']);
    expect(connectNoPort.data.toString()).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = await exchange(pair.proxyPort, ['GET http://x.example/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n']);
    expect(upgrade.data.toString()).toMatch(/^HTTP\/1\.1 501/);
    expect(pair.client.counters.get('httpBadRequest')).toBeGreaterThanOrEqual(6);
    await stillServes(pair);
  });

  it('serves the PAC file', async () => {
    const r = await curl([`http://127.0.0.1:${pair.proxyPort}/proxy.pac`]);
    expect(r.stdout.toString()).toContain(`return "PROXY 127.0.0.1:${pair.proxyPort}; SOCKS5 127.0.0.1:${pair.proxyPort}"`);
  });

  it('asks for local credentials when configured: SOCKS5 RFC 1929 and HTTP 407', async () => {
    const noAuth = await exchange(authPair.proxyPort, [Uint8Array.of(5, 1, 0)]);
    expect([...noAuth.data]).toEqual([5, 0xff]);
    const wrong = await exchange(authPair.proxyPort, [Uint8Array.of(5, 1, 2), Uint8Array.of(1, 2, 0x6d, 0x65, 3, 0x62, 0x61, 0x64)], 20);
    expect([...wrong.data]).toEqual([5, 2, 1, 1]);
    const h = await curl(['-s', '-D', '-', '-o', '/dev/null', '-x', `http://127.0.0.1:${authPair.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/1`]);
    expect(h.stdout.toString()).toMatch(/^HTTP\/1\.1 407[^]*Proxy-Authenticate: Basic realm="mptcp-proxy"/i);
    const ok = await curl(['-x', `http://127.0.0.1:${authPair.proxyPort}`, '-U', 'me:local secret', `http://127.0.0.1:${web.port}/bytes/100`]);
    expect(ok.stdout.length).toBe(100);
    const socksOk = await curl(['--socks5-hostname', `me:local%20secret@127.0.0.1:${authPair.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/100`]);
    expect(socksOk.stdout.length).toBe(100);
    expect(authPair.client.counters.get('socksAuthFailed')).toBe(2);
    expect(authPair.client.counters.get('httpAuthFailed')).toBe(1);
  });
});

describe('aggregator port', () => {
  it('closes non-TLS bytes without answering, and counts them', async () => {
    const c = pair.aggregator.counters;
    const before = c.get('tlsFailed');
    const random = await exchange(aggPort, [Buffer.from('GET / HTTP/1.1\r\n\r\n'), new Uint8Array(300).map(() => Math.floor(Math.random() * 256))]);
    expect(random.data.length).toBe(0);
    const plain = await exchange(aggPort, [encodeFrame({ type: 'hello', clientId: 'laptop', mac: new Uint8Array(32) })]);
    expect(plain.data.length).toBe(0);
    expect(c.get('tlsFailed') - before).toBe(2);
  });

  it('closes a forged HELLO inside TLS the constant delay after accept, sending nothing', async () => {
    const c = pair.aggregator.counters;
    const before = c.get('authBadProof');
    for (const clientId of ['laptop', 'nobody']) {
      const got = await new Promise<{ bytes: number; ms: number }>((resolve) => {
        const t0 = Date.now();
        const s = tlsConnect({ host: '127.0.0.1', port: aggPort, rejectUnauthorized: false });
        let bytes = 0;
        s.on('secureConnect', () => s.write(encodeFrame({ type: 'hello', clientId, mac: new Uint8Array(32).fill(7) })));
        s.on('data', (d: Buffer) => (bytes += d.length));
        s.on('error', () => undefined);
        s.on('close', () => resolve({ bytes, ms: Date.now() - t0 }));
      });
      expect(got.bytes).toBe(0);
      expect(got.ms).toBeGreaterThanOrEqual(190); // refusalDelayMs: 200 in the pair
    }
    expect(c.get('authBadProof') - before).toBe(1);
    expect(c.get('authUnknownClient')).toBeGreaterThanOrEqual(1);
    await stillServes(pair);
  });

  it('survives a burst of random connections at both ports', async () => {
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const junk = new Uint8Array(1 + Math.floor(Math.random() * 600)).map(() => Math.floor(Math.random() * 256));
      runs.push(exchange(i % 2 === 0 ? aggPort : pair.proxyPort, [junk], 0, i % 3 === 0));
    }
    await Promise.all(runs);
    await stillServes(pair);
  });
});

describe('aggregator overload', () => {
  it('closes streams beyond limits.maxUnauthenticated at once, and counts them', async () => {
    const p = await startPair({ transport: 'tcp', aggLimits: '  maxUnauthenticated: 2' });
    try {
      const port = (p.client as unknown as { config: { aggregator: { port: number } } }).config.aggregator.port;
      // The client's own pool streams authenticate quickly; these two silent ones stay pending.
      await new Promise((r) => setTimeout(r, 200));
      const silent = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
      for (const s of silent) s.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 100));
      const third = await exchange(port, [Uint8Array.of(0x16)]);
      expect(third.ms).toBeLessThan(150);
      expect(p.aggregator.counters.get('refusedOverload')).toBe(1);
      for (const s of silent) s.destroy();
    } finally {
      await p.close();
    }
  });
});

describe('single-protocol listeners', () => {
  it('a SOCKS-only listener refuses HTTP, an HTTP-only one answers SOCKS5 with 400; each serves its own', async () => {
    const p = await startPair({ transport: 'tcp', clientYaml: 'socksListen: [127.0.0.1:0]\nhttpListen: [127.0.0.1:0]' });
    try {
      const socksPort = p.listeners.find((l) => l.mode === 'socks')?.port ?? 0;
      const httpPort = p.listeners.find((l) => l.mode === 'http')?.port ?? 0;
      const httpAtSocks = await exchange(socksPort, ['GET http://x.example/ HTTP/1.1\r\nHost: x\r\n\r\n']);
      expect(httpAtSocks.data.length).toBe(0);
      expect(p.client.counters.get('socksBadGreeting')).toBe(1);
      const socksAtHttp = await exchange(httpPort, [Uint8Array.of(5, 1, 0)]);
      expect(socksAtHttp.data.toString()).toMatch(/^HTTP\/1\.1 400/);
      const viaSocks = await curl(['--socks5-hostname', `127.0.0.1:${socksPort}`, `http://127.0.0.1:${web.port}/bytes/100`]);
      expect(viaSocks.stdout.length).toBe(100);
      const viaHttp = await curl(['-x', `http://127.0.0.1:${httpPort}`, `http://127.0.0.1:${web.port}/bytes/100`]);
      expect(viaHttp.stdout.length).toBe(100);
      const pac = await curl([`http://127.0.0.1:${httpPort}/proxy.pac`]);
      expect(pac.stdout.toString()).toContain(`return "PROXY 127.0.0.1:${httpPort}"`);
    } finally {
      await p.close();
    }
  });
});
