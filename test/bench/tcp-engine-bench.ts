/**
 * The TCP engine's own cost, without I/O: two TcpHosts exchange packets in memory (zero
 * delay, no loss) while one sends N MiB to the other. Reports goodput and CPU time per GB for
 * both ends together (checksums, option scanning, buffers, ACK processing: everything but the
 * system calls). A figure to track, not an assertion.
 */
import { SeededRandom } from '../../mptcp/core/sans-io.js';
import { TcpHost } from '../../mptcp/tcp/host.js';

export interface EngineBenchResult {
  name: string;
  mib: number;
  seconds: number;
  gbitPerSec: number;
  cpuSecondsPerGB: number;
  packets: number;
}

export function runTcpEngineBenchmark(mib = 256): EngineBenchResult {
  const A = new Uint8Array([10, 0, 0, 1]);
  const B = new Uint8Array([10, 0, 0, 2]);
  const a = new TcpHost([A], new SeededRandom(1));
  const b = new TcpHost([B], new SeededRandom(2));
  let received = 0;
  const total = mib * 1024 * 1024;
  const chunk = new Uint8Array(256 * 1024).fill(0x5a);
  let server: ReturnType<TcpHost['connect']> | null = null;
  b.listen(5001, (c) => (server = c));
  const client = a.connect(0, A, B, 5001);
  const out = new Uint8Array(65535);
  let written = 0;
  let now = 0;
  let packets = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (received < total) {
    now += 0.01;
    if (client.tcp.state === 'ESTABLISHED') {
      while (written < total) {
        const n = client.tcp.write(chunk.subarray(0, Math.min(chunk.length, total - written)));
        if (n === 0) break;
        written += n;
      }
    }
    let moved = false;
    for (let n = a.pollTransmit(now, out); n > 0; n = a.pollTransmit(now, out)) {
      b.handlePacket(now, out.subarray(0, n));
      packets++;
      moved = true;
    }
    if (server) {
      const s = server as ReturnType<TcpHost['connect']>;
      for (let d = s.tcp.read(now); d; d = s.tcp.read(now)) received += d.length;
    }
    for (let n = b.pollTransmit(now, out); n > 0; n = b.pollTransmit(now, out)) {
      a.handlePacket(now, out.subarray(0, n));
      packets++;
      moved = true;
    }
    if (!moved) {
      const t = Math.min(a.pollTimeout(), b.pollTimeout());
      if (t === Infinity) throw new Error(`engine bench stalled at ${received} bytes`);
      now = Math.max(now, t);
      a.handleTimeout(now);
      b.handleTimeout(now);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    name: `userspace TCP engine, both ends in one thread, ${mib} MiB`,
    mib,
    seconds,
    gbitPerSec: (total * 8) / seconds / 1e9,
    cpuSecondsPerGB: cpuSeconds / (total / 1e9),
    packets,
  };
}
