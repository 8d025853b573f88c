/**
 * The program the privileged driver tests run INSIDE the client network namespace
 * (`ip netns exec NS node ns-child.js JOB`), compiled by lab.ts. It drives the real addon and
 * RawSocketDriver against the kernel of the other namespace and prints one line
 * `RESULT <json>` for the test to judge. Jobs:
 * - batch: the addon alone. Three hand-built SYNs in one sendBatch, a pause, then ONE recvBatch
 *   must return the three SYN/ACKs (bind, BPF, HDRINCL, IPv6 header synthesis, batching).
 * - handshake: RawSocketDriver with a scripted endpoint: SYNs out, SYN/ACKs in, while a kernel
 *   TCP connection and a SYN/ACK to another local address must not reach the raw socket; then
 *   our own RSTs (hop limit 77, marked) go out; with or without the nft guard.
 * - guard: installs the nft guard, prints READY and waits (to be signalled or killed).
 * - unprivileged: run as nobody; reports the errors the guard and the raw socket give.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import type { PacketEndpoint } from '../../../mptcp/core/sans-io.js';
import { requireRawSocketBinding } from '../../../mptcp/driver/binding.js';
import { encodeBpf, tcpDstPortFilter } from '../../../mptcp/driver/bpf.js';
import { NftGuard } from '../../../mptcp/driver/nft-guard.js';
import { RawSocketDriver, RX_SLOT } from '../../../mptcp/driver/raw-driver.js';
import { toHex } from '../../../mptcp/wire/bytes.js';
import { parseIp } from '../../../mptcp/wire/ip-address.js';
import { fillIpv4Checksum } from '../../../mptcp/wire/ipv4.js';
import { TcpFlag } from '../../../mptcp/wire/tcp-header.js';
import { buildTcpPacket } from '../../support/packet-builder.js';
import { ISN, OUR_HOPS, type Job } from './protocol.js';

function ip(text: string): Uint8Array {
  const a = parseIp(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
}

function syn(job: Job, src: string, port: number): Uint8Array {
  return buildTcpPacket({ src: ip(src), dst: ip(job.remote), srcPort: port, dstPort: job.serverPort, seq: ISN, flags: TcpFlag.SYN, options: [{ kind: 'mss', mss: 1400 }] });
}

function ourRst(job: Job, port: number): Uint8Array {
  const p = buildTcpPacket({ src: ip(job.local), dst: ip(job.remote), srcPort: port, dstPort: job.serverPort, seq: ISN + 1, flags: TcpFlag.RST, window: 0, options: [] });
  if (job.family === 4) {
    p[8] = OUR_HOPS;
    fillIpv4Checksum(p, 0);
  } else {
    p[7] = OUR_HOPS;
  }
  return p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

function nft(...args: string[]): string {
  try {
    return execFileSync('nft', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return `ERROR ${e instanceof Error ? e.message : String(e)}`;
  }
}

function batch(job: Job): unknown {
  const b = requireRawSocketBinding();
  const fd = b.openRaw(job.family, ip(job.local), job.device, job.mark, encodeBpf(tcpDstPortFilter(job.family, [job.ports])), 1 << 20);
  const SLOT = RX_SLOT;
  const tx = new Uint8Array(SLOT * 3);
  const lengths = new Uint32Array(3);
  const errors = new Int32Array(3).fill(-1);
  for (let i = 0; i < 3; i++) {
    const p = syn(job, job.local, job.ports.lo + i);
    tx.set(p, i * SLOT);
    lengths[i] = p.length;
  }
  const sent = b.sendBatch(fd, tx, SLOT, 3, lengths, errors);
  sleepSync(400); // let all three SYN/ACKs queue up on the socket
  const rx = new Uint8Array(SLOT * 16);
  const rxLen = new Uint32Array(16);
  const n = b.recvBatch(fd, rx, SLOT, 16, rxLen);
  const again = b.recvBatch(fd, rx.subarray(SLOT * 8), SLOT, 8, rxLen.subarray(8));
  const packets = Array.from({ length: Math.max(n, 0) }, (_, i) => toHex(rx.subarray(i * SLOT, i * SLOT + (rxLen[i] ?? 0))));
  b.close(fd);
  return { sent, errors: [...errors], n, again, packets };
}

class ScriptedEndpoint implements PacketEndpoint {
  readonly outbox: Uint8Array[] = [];
  readonly received: string[] = [];
  handlePacket(_now: number, packet: Uint8Array): void {
    this.received.push(toHex(packet));
  }
  pollTransmit(_now: number, out: Uint8Array): number {
    const p = this.outbox.shift();
    if (p === undefined) return 0;
    out.set(p);
    return p.length;
  }
  pollTimeout(): number {
    return Infinity;
  }
  handleTimeout(): void {}
}

async function handshake(job: Job): Promise<unknown> {
  const endpoint = new ScriptedEndpoint();
  const ports = [job.ports.lo, job.ports.lo + 1, job.ports.lo + 2];
  endpoint.outbox.push(...ports.map((p) => syn(job, job.local, p)));
  const driver = RawSocketDriver.open({
    endpoint,
    paths: [{ address: job.local, device: job.device }],
    ports: [job.ports],
    mark: job.mark,
    guard: job.guard ? { name: job.guardName ?? 'test' } : false,
    batchSize: 8,
  });
  const afterSyn = { ...driver.stats };
  // A SYN from another local address of ours: its SYN/ACK must not reach this socket (bind).
  const b = requireRawSocketBinding();
  const fd = driver.socketInfo()[0]?.fd ?? -1;
  const other = syn(job, job.other, job.ports.lo + 5);
  const otherSent = b.sendBatch(fd, other, other.length, 1, Uint32Array.of(other.length), new Int32Array(1));
  // A kernel TCP connection from the same address: the BPF filter must keep it away from us.
  let echo = '';
  const sock = connect({ host: job.remote, port: job.serverPort, localAddress: job.local });
  sock.on('data', (d: Buffer) => (echo += d.toString()));
  sock.on('error', () => undefined);
  sock.write('ping');
  const gotAll = await until(() => endpoint.received.length >= 3 && echo === 'ping', 5000);
  const kernelPort = sock.localPort;
  sock.destroy();
  await sleep(400); // time for the kernel to answer the SYN/ACKs with RSTs (unless guarded)
  const guardTable = driver.guardTable;
  const tableDuring = guardTable !== undefined ? nft('list', 'table', 'inet', guardTable) : '';
  endpoint.outbox.push(...ports.map((p) => ourRst(job, p)));
  driver.flush();
  await sleep(300);
  const stats = driver.stats;
  driver.dispose();
  return { gotAll, received: endpoint.received, afterSyn, stats, otherSent, echo, kernelPort, guardTable, tableDuring, tablesAfter: nft('list', 'tables') };
}

function unprivileged(job: Job): unknown {
  const attempt = (guard: boolean) => {
    try {
      RawSocketDriver.open({ endpoint: new ScriptedEndpoint(), paths: [{ address: job.local }], ports: [job.ports], guard: guard ? { name: 'nobody' } : false });
      return 'opened';
    } catch (e) {
      return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  };
  return { withGuard: attempt(true), withoutGuard: attempt(false) };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  let result: unknown;
  switch (job.kind) {
    case 'batch':
      result = batch(job);
      break;
    case 'handshake':
      result = await handshake(job);
      break;
    case 'unprivileged':
      result = unprivileged(job);
      break;
    case 'guard': {
      const g = NftGuard.install({ ports: [job.ports], mark: job.mark, ...(job.guardName !== undefined ? { name: job.guardName } : {}) });
      console.log(`READY ${g.table}`);
      setInterval(() => undefined, 1000);
      return;
    }
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
}

await main();
