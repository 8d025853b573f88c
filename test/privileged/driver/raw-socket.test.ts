/**
 * The raw-socket addon, the driver and the nft guard against the real Linux kernel, in two
 * network namespaces joined by a veth pair (torn down afterwards, even on failure). A kernel
 * TCP echo server listens in one namespace; in the other, ns-child.ts (run with
 * `ip netns exec`) sends hand-built SYNs through a raw socket and receives the kernel's
 * SYN/ACKs. tcpdump in the server namespace records what left the client namespace.
 *
 * Runs as root. In CI (CI=true) it must run: no root, no addon or a missing tool fail it.
 * Elsewhere it skips with a message saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIp } from '../../../mptcp/wire/ip-address.js';
import { fromHex } from '../../../mptcp/wire/bytes.js';
import { parseTcpPacket, type TcpPacket } from '../../../mptcp/wire/packet.js';
import { TcpFlag } from '../../../mptcp/wire/tcp-header.js';
import { ADDON, capture, compileChild, echoServer, hops, Lab, privilegedSkipReason, readCapture, removeDir, startIn, stop } from './lab.js';
import { ISN, OUR_HOPS, type Job } from './protocol.js';

const skip = privilegedSkipReason('privileged raw-socket driver tests (test/privileged/driver)') !== undefined;
const PORT = 5000;
const MARK = 0x6d70;
const ENV = { MPTCP_RAW_ADDON: ADDON };

interface BatchResult {
  sent: number;
  errors: number[];
  n: number;
  again: number;
  packets: string[];
}

interface Stats {
  rxPackets: number;
  txPackets: number;
  txBatches: number;
  txErrors: Record<string, number>;
}

interface HandshakeResult {
  gotAll: boolean;
  received: string[];
  afterSyn: Stats;
  stats: Stats;
  otherSent: number;
  echo: string;
  kernelPort: number;
  guardTable?: string;
  tableDuring: string;
  tablesAfter: string;
}

function parse(hex: string): TcpPacket {
  const r = parseTcpPacket(fromHex(hex));
  if (!r.ok) throw new Error(`unparsable packet ${hex}: ${JSON.stringify(r.error)}`);
  return r.value;
}

const isRst = (p: TcpPacket) => (p.tcp.header.flags & TcpFlag.RST) !== 0;

describe.skipIf(skip)('raw sockets, BPF, batching and the nft guard in network namespaces', () => {
  const lab = new Lab('mpd');
  let server: ChildProcess | undefined;
  let child: { entry: string; dir: string } | undefined;
  let work = '';

  beforeAll(async () => {
    try {
      lab.create();
      child = compileChild();
      work = mkdtempSync(join(tmpdir(), 'mptcp-driver-cap-'));
      server = await startIn(lab.server, echoServer(PORT), /listening/);
    } catch (e) {
      lab.destroy();
      throw e;
    }
  });

  afterAll(async () => {
    if (server !== undefined) await stop(server);
    lab.destroy();
    if (child !== undefined) removeDir(child.dir);
    if (work !== "" && process.env.DEBUG_DRIVER_TEST === undefined) removeDir(work);
  });

  function entry(): string {
    if (child === undefined) throw new Error('child not compiled');
    return child.entry;
  }

  /** Runs ns-child.ts in the client namespace and returns its RESULT. */
  function runChild<T>(job: Job, asNobody = false): Promise<T> {
    const prefix = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const p = spawn('ip', ['netns', 'exec', lab.client, ...prefix, process.execPath, entry(), JSON.stringify(job)], {
      env: { ...process.env, ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((res, rej) => {
      p.on('exit', (code) => {
        const line = out.split('\n').find((l) => l.startsWith('RESULT '));
        if (code !== 0 || line === undefined) rej(new Error(`ns-child failed (exit ${code}): ${err}${out}`));
        else res(JSON.parse(line.slice(7)) as T);
      });
    });
  }

  function job(family: 4 | 6, kind: Job['kind'], lo: number, guard = false, guardName?: string): Job {
    const a = family === 4 ? lab.v4 : lab.v6;
    return {
      kind,
      family,
      local: a.client,
      other: a.other,
      remote: a.server,
      device: lab.clientDev,
      serverPort: PORT,
      ports: { lo, hi: lo + 9 },
      guard,
      mark: MARK,
      ...(guardName !== undefined ? { guardName } : {}),
    };
  }

  describe.each([4, 6] as const)('IPv%i', (family) => {
    const base = family === 4 ? 61000 : 62000;
    const addrs = () => (family === 4 ? lab.v4 : lab.v6);

    it('sends three SYNs in one sendBatch and receives the three SYN/ACKs in one recvBatch', async () => {
      const r = await runChild<BatchResult>(job(family, 'batch', base));
      expect(r.sent).toBe(3);
      expect(r.errors).toEqual([0, 0, 0]);
      expect(r.n).toBe(3);
      expect(r.again).toBe(0);
      const ports = r.packets.map((hex) => {
        const p = parse(hex);
        // A full IP packet of the right family (for IPv6: the header the addon synthesized),
        // whose TCP checksum verifies over its addresses: src, dst and lengths are right.
        expect(p.ip.version).toBe(family);
        expect(formatIp(p.src)).toBe(addrs().server);
        expect(formatIp(p.dst)).toBe(addrs().client);
        expect(p.tcpChecksumValid).toBe(true);
        expect(hops(p)).toBe(64);
        expect(p.tcp.header.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
        expect(p.tcp.header.ack).toBe(ISN + 1);
        expect(p.tcp.header.srcPort).toBe(PORT);
        if (p.ip.version === 6) expect(p.ip.header.payloadLength).toBe(p.tcpEnd - p.tcpOffset);
        return p.tcp.header.dstPort;
      });
      expect(ports.sort()).toEqual([base, base + 1, base + 2]);
    });

    async function handshake(lo: number, guard: boolean) {
      const file = join(work, `v${family}-${guard ? 'guard' : 'noguard'}.pcap`);
      const cap = await capture(lab.server, lab.serverDev, file);
      let r: HandshakeResult;
      try {
        r = await runChild<HandshakeResult>(job(family, 'handshake', lo, guard, `t${family}`));
      } finally {
        await cap.stop();
      }
      const wire = readCapture(file);
      if (process.env.DEBUG_DRIVER_TEST) console.log(JSON.stringify(r), wire.map((p) => `${formatIp(p.src)}.${p.tcp.header.srcPort} > ${formatIp(p.dst)}.${p.tcp.header.dstPort} ${p.tcp.header.flags} hops ${hops(p)}`));
      const ports = [lo, lo + 1, lo + 2];
      const received = r.received.map(parse);
      const a = addrs();

      // The driver received exactly the SYN/ACKs of our three connections: the BPF filter kept
      // the kernel connection on the same address away, bind() the SYN/ACK to another address.
      expect(r.gotAll).toBe(true);
      expect(r.echo).toBe('ping');
      expect(new Set(received.map((p) => p.tcp.header.dstPort))).toEqual(new Set(ports));
      for (const p of received) {
        expect(formatIp(p.src)).toBe(a.server);
        expect(formatIp(p.dst)).toBe(a.client);
        expect(p.tcp.header.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
        expect(p.tcpChecksumValid).toBe(true);
      }
      expect(r.kernelPort).toBeGreaterThan(0);
      expect(wire.some((p) => formatIp(p.dst) === a.client && p.tcp.header.dstPort === r.kernelPort && p.tcp.header.srcPort === PORT)).toBe(true);
      expect(r.otherSent).toBe(1);
      expect(wire.some((p) => formatIp(p.dst) === a.other && p.tcp.header.dstPort === lo + 5 && p.tcp.header.flags === (TcpFlag.SYN | TcpFlag.ACK))).toBe(true);
      // The three SYNs left in one batch, our three RSTs in another.
      expect(r.afterSyn).toMatchObject({ txPackets: 3, txBatches: 1 });
      expect(r.stats).toMatchObject({ txPackets: 6, txBatches: 2, txErrors: {}, rxPackets: received.length });
      // The SYNs are on the wire as we built them.
      const syns = wire.filter((p) => p.tcp.header.flags === TcpFlag.SYN && ports.includes(p.tcp.header.srcPort));
      expect(syns.map((p) => formatIp(p.src))).toEqual([a.client, a.client, a.client]);

      const rsts = wire.filter((p) => isRst(p) && p.tcp.header.dstPort === PORT && p.tcp.header.srcPort >= lo && p.tcp.header.srcPort <= lo + 9);
      const kernelRsts = rsts.filter((p) => hops(p) !== OUR_HOPS);
      const ourRsts = rsts.filter((p) => hops(p) === OUR_HOPS);
      // Our own RSTs (marked by SO_MARK) always leave.
      expect(ourRsts.map((p) => p.tcp.header.srcPort).sort()).toEqual(ports);
      return { r, kernelRsts };
    }

    it('without the nft guard, the kernel answers the SYN/ACKs with RSTs', async () => {
      const { r, kernelRsts } = await handshake(base + 10, false);
      expect(r.guardTable).toBeUndefined();
      const kernelRstPorts = new Set(kernelRsts.map((p) => p.tcp.header.srcPort));
      for (const port of [base + 10, base + 11, base + 12, base + 15]) expect(kernelRstPorts).toContain(port);
    });

    it('with the nft guard, no kernel RST leaves, ours still do, and the table goes away', async () => {
      const { r, kernelRsts } = await handshake(base + 20, true);
      expect(kernelRsts).toEqual([]);
      expect(r.guardTable).toBe(`mptcp_proxy_t${family}`);
      expect(r.tableDuring).toMatch(/meta mark != 0x00006d70 tcp sport .* tcp flags & rst == rst counter packets \d+/);
      const dropped = Number(/counter packets (\d+)/.exec(r.tableDuring)?.[1]);
      expect(dropped).toBeGreaterThanOrEqual(4); // three SYN/ACKs to us, one to the other address
      expect(r.tablesAfter).not.toContain(`mptcp_proxy_t${family}`);
    });
  });

  describe('nft guard lifetime', () => {
    const guardJob = (name?: string) => JSON.stringify({ ...job(4, 'guard', 63000), ...(name !== undefined ? { guardName: name } : {}) });
    const startGuard = (name?: string) => startIn(lab.client, [process.execPath, entry(), guardJob(name)], /READY (\S+)/, ENV);

    it.each(['SIGTERM', 'SIGINT'] as const)('removes its table on %s, then the process dies of the signal', async (sig) => {
      const p = await startGuard(`sig_${sig}`);
      expect(lab.tables(lab.client)).toContain(`table inet mptcp_proxy_sig_${sig}`);
      const r = await stop(p, sig);
      expect(r.signal).toBe(sig);
      expect(lab.tables(lab.client)).not.toContain(`table inet mptcp_proxy_sig_${sig}`);
    });

    it('replaces a table of the same name left by a crashed (SIGKILLed) run', async () => {
      const crashed = await startGuard('crash');
      await stop(crashed, 'SIGKILL');
      expect(lab.tables(lab.client)).toContain('table inet mptcp_proxy_crash');
      const next = await startGuard('crash');
      expect(lab.tables(lab.client).filter((t) => t === 'table inet mptcp_proxy_crash')).toHaveLength(1);
      await stop(next);
      expect(lab.tables(lab.client)).not.toContain('table inet mptcp_proxy_crash');
    });

    it('removes pid-named tables whose process is gone', async () => {
      const crashed = await startGuard();
      const stale = `table inet mptcp_proxy_pid${crashed.pid}`;
      await stop(crashed, 'SIGKILL');
      expect(lab.tables(lab.client)).toContain(stale);
      const next = await startGuard();
      const tables = lab.tables(lab.client);
      expect(tables).not.toContain(stale);
      expect(tables).toContain(`table inet mptcp_proxy_pid${next.pid}`);
      await stop(next);
      expect(lab.tables(lab.client).filter((t) => t.includes('mptcp_proxy_'))).toEqual([]);
    });
  });

  it('without privileges, the guard and the raw socket fail with what to do', async () => {
    const r = await runChild<{ withGuard: string; withoutGuard: string }>(job(4, 'unprivileged', 63100), true);
    expect(r.withGuard).toMatch(/^NftGuardError: nftables: cannot list tables: Operation not permitted\. The driver needs CAP_NET_ADMIN/);
    expect(r.withoutGuard).toMatch(/^RawSocketError: raw socket for 10\.211\.0\.1: EPERM: needs CAP_NET_RAW \(run as root\)/);
  });
});
