/**
 * The Duplex socket API on the userspace TCP, over the in-process loopback driver (real
 * time, no privileges): bulk data both ways with backpressure and sha256 equality, half-close
 * semantics as net.Socket, refused and reset connections as errors with codes.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { LoopbackDriver } from '../../../mptcp/socket/loopback-driver.js';
import { StackRuntime } from '../../../mptcp/socket/runtime.js';
import { connectUserspace, UserspaceServer, type UserspaceSocket } from '../../../mptcp/socket/userspace-socket.js';
import { TcpHost } from '../../../mptcp/tcp/host.js';

let driver: LoopbackDriver | null = null;
afterEach(() => driver?.close());

function setup(delayMs = 0) {
  driver = new LoopbackDriver(delayMs);
  const client = new StackRuntime(new TcpHost([new Uint8Array([10, 9, 0, 1])], new SeededRandom(1), { timeWaitMs: 100 }));
  const server = new StackRuntime(new TcpHost([new Uint8Array([10, 9, 0, 2])], new SeededRandom(2), { timeWaitMs: 100 }));
  driver.add(client);
  driver.add(server);
  return { client, server };
}

function chunks(total: number, size: number): Readable {
  let sent = 0;
  let x = 12345;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(size, total - sent);
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        b[i] = x >>> 24;
      }
      sent += n;
      this.push(b);
    },
  });
}

function hashSink(): { sink: Writable; digest: () => string; bytes: () => number } {
  const h = createHash('sha256');
  let n = 0;
  return {
    sink: new Writable({
      write(chunk: Buffer, _e, cb) {
        h.update(chunk);
        n += chunk.length;
        cb();
      },
    }),
    digest: () => h.digest('hex'),
    bytes: () => n,
  };
}

async function expectedHash(total: number, size: number): Promise<string> {
  const s = hashSink();
  await pipeline(chunks(total, size), s.sink);
  return s.digest();
}

describe('UserspaceSocket over the loopback driver', () => {
  it('carries 16 MiB client -> server with backpressure, byte-exact', async () => {
    const { client, server } = setup();
    const total = 16 * 1024 * 1024;
    const received = hashSink();
    const done = new Promise<void>((resolve, reject) => {
      new UserspaceServer(server).listen(9000).on('connection', (s: UserspaceSocket) => {
        pipeline(s, received.sink).then(resolve, reject);
      });
    });
    const sock = connectUserspace(client, { host: '10.9.0.2', port: 9000, localAddress: '10.9.0.1' });
    await pipeline(chunks(total, 64 * 1024), sock);
    await done;
    expect(received.bytes()).toBe(total);
    expect(received.digest()).toBe(await expectedHash(total, 64 * 1024));
  }, 60_000);

  it('echoes with half-close: the client ends, still reads the whole echo, then both close', async () => {
    const { client, server } = setup(1);
    new UserspaceServer(server).listen(7).on('connection', (s: UserspaceSocket) => {
      s.pipe(s); // echo; pipe ends the writable side when the readable ends
    });
    const sock = connectUserspace(client, { host: '10.9.0.2', port: 7, localAddress: '10.9.0.1' });
    const connected = new Promise((r) => sock.once('connect', r));
    const back = hashSink();
    const reading = pipeline(sock, back.sink);
    await connected;
    sock.end(Buffer.from('hello over userspace TCP'));
    await reading;
    expect(back.bytes()).toBe(24);
    await new Promise((r) => (sock.closed ? r(null) : sock.once('close', r)));
  }, 20_000);

  it('reports ECONNREFUSED when nothing listens, and ECONNRESET after the peer resets', async () => {
    const { client, server } = setup();
    const refused = connectUserspace(client, { host: '10.9.0.2', port: 1, localAddress: '10.9.0.1' });
    const err = await new Promise<NodeJS.ErrnoException>((r) => refused.once('error', r));
    expect(err.code).toBe('ECONNREFUSED');

    new UserspaceServer(server).listen(8).on('connection', (s: UserspaceSocket) => s.resetAndDestroy());
    const reset = connectUserspace(client, { host: '10.9.0.2', port: 8, localAddress: '10.9.0.1' });
    reset.resume();
    const err2 = await new Promise<NodeJS.ErrnoException>((r) => reset.once('error', r));
    expect(err2.code).toBe('ECONNRESET');
  }, 20_000);
});
