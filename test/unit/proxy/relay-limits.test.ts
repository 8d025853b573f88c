/**
 * Relay semantics through client and aggregator (TLS, plain TCP transport, loopback): a
 * half-close travels each way on its own (the application's FIN reaches the destination,
 * which still answers afterwards; the destination's FIN reaches the application while it
 * still sends), and the aggregator's per-client connection limit refuses the connection
 * beyond it with the right SOCKS5 code until an application abort frees a slot; a destination
 * that never answers becomes SOCKS5 reply 6 and HTTP 504; a silent relay ends at the idle
 * timeout.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, body, sha256, startPair, type Pair } from './helpers.js';

/** SOCKS5 CONNECT to 127.0.0.1:port by hand; resolves with the socket and the reply code. */
function socksConnect(proxyPort: number, port: number): Promise<{ s: Socket; rep: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
    let buf = Buffer.alloc(0);
    let stage = 0;
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2);
        stage = 1;
        s.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
      }
      if (stage === 1 && buf.length >= 10) {
        s.removeListener('data', onData);
        const rest = buf.subarray(10);
        if (rest.length > 0) s.unshift(rest);
        resolve({ s, rep: buf[1] });
      }
    };
    s.on('data', onData);
    s.on('error', reject);
    s.write(Buffer.from([5, 1, 0]));
  });
}

function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('relay semantics', () => {
  let pair: Pair;
  let server: Server;
  let port = 0;
  const received: Buffer[] = [];
  beforeAll(async () => {
    pair = await startPair({ transport: 'tcp', aggYaml: '' });
    // Destination: on the application's FIN, answers with the sha256 of what it got and a
    // trailer, then ends. A connection whose first byte is 'S' instead gets "bye", our FIN,
    // and we keep reading what the application still sends.
    server = createServer({ allowHalfOpen: true }, (c) => {
      const h = createHash('sha256');
      const got: Buffer[] = [];
      let first = true;
      c.on('data', (d: Buffer) => {
        if (first && d[0] === 0x53) c.end('bye');
        first = false;
        h.update(d);
        got.push(d);
      });
      c.on('end', () => {
        received.push(Buffer.concat(got));
        if (!c.writableEnded) c.end(`${h.digest('hex')}+after-fin`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await pair.close();
    server.close();
  });

  it('carries the application FIN to the destination, which answers afterwards', async () => {
    const { s, rep } = await socksConnect(pair.proxyPort, port);
    expect(rep).toBe(0);
    const data = body(2_000_000, 3);
    const answer = readAll(s);
    s.end(data);
    expect((await answer).toString()).toBe(`${sha256(data)}+after-fin`);
  });

  it('carries the destination FIN to the application, which still sends afterwards', async () => {
    const { s, rep } = await socksConnect(pair.proxyPort, port);
    expect(rep).toBe(0);
    s.write('S');
    const answer = await readAll(s); // the destination's FIN arrived
    expect(answer.toString()).toBe('bye');
    const before = received.length;
    s.end('still talking after your FIN');
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (received.length > before) {
          clearInterval(t);
          r();
        }
      }, 10);
    });
    expect(received.at(-1)?.toString()).toBe('Sstill talking after your FIN');
  });
});

describe('per-client connection limit', () => {
  it('refuses the connection beyond limits.connectionsPerClient (SOCKS5 reply 1), counted', async () => {
    const sink = createServer({ allowHalfOpen: true }, (c) => c.on('error', () => undefined));
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const sinkPort = (sink.address() as { port: number }).port;
    const pair = await startPair({ transport: 'tcp', aggLimits: '  connectionsPerClient: 2' });
    try {
      const a = await socksConnect(pair.proxyPort, sinkPort);
      const b = await socksConnect(pair.proxyPort, sinkPort);
      const c = await socksConnect(pair.proxyPort, sinkPort);
      expect([a.rep, b.rep, c.rep]).toEqual([0, 0, 1]);
      expect(pair.aggregator.counters.get('requestsLimited')).toBe(1);
      // The application aborts (RST): the abort travels to the aggregator, which frees the slot.
      a.s.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 200));
      const d = await socksConnect(pair.proxyPort, sinkPort);
      expect(d.rep).toBe(0);
      for (const x of [b, c, d]) x.s.destroy();
    } finally {
      await pair.close();
      sink.close();
    }
  });
});

describe('destination timeouts', () => {
  it('become SOCKS5 reply 6 (TTL expired) and HTTP 504', async () => {
    // A destination that never answers the SYN: the injected connector never completes.
    const hanging = () => ({ done: new Promise<Socket>(() => undefined), cancel: () => undefined });
    const pair = await startPair({ transport: 'tcp', connectTimeoutSeconds: 0.3, aggDeps: { connect: hanging } });
    try {
      const s = await socksConnect(pair.proxyPort, 9);
      expect(s.rep).toBe(6);
      s.s.destroy();
      const h = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${pair.proxyPort}`, 'http://127.0.0.1:9/']);
      expect(h.stdout.toString()).toBe('504');
      expect(pair.aggregator.counters.get('requestsFailed')).toBe(2);
    } finally {
      await pair.close();
    }
  });
});

describe('idle timeout', () => {
  it('closes a relay with no byte either way for limits.idleTimeoutSeconds, counted', async () => {
    const sink = createServer({ allowHalfOpen: true }, (c) => c.on('error', () => undefined));
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const pair = await startPair({ transport: 'tcp', aggLimits: '  idleTimeoutSeconds: 1' });
    try {
      const t0 = Date.now();
      const { s, rep } = await socksConnect(pair.proxyPort, (sink.address() as { port: number }).port);
      expect(rep).toBe(0);
      s.on('error', () => undefined);
      await new Promise((r) => s.once('close', r));
      const ms = Date.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(3000);
      expect(pair.aggregator.counters.get('relayIdleTimeout')).toBe(1);
    } finally {
      await pair.close();
      sink.close();
    }
  });
});
