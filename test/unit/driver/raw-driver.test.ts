/**
 * The raw-socket driver's loop (mptcp/driver/raw-driver.ts) with a fake binding, a scripted
 * endpoint, a manual clock and a fake nft runner: sockets per path, packets in ->
 * handlePacket, pollTransmit -> sendBatch batches routed by source address, back-pressure on a
 * full socket buffer, the one timer re-armed from pollTimeout, and cleanup.
 */
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { POLL_READABLE, POLL_WRITABLE } from '../../../mptcp/driver/binding.js';
import { encodeBpf, tcpDstPortFilter } from '../../../mptcp/driver/bpf.js';
import { guardScript, removeScript } from '../../../mptcp/driver/nft-guard.js';
import { RESERVED_PORTS_FILE } from '../../../mptcp/driver/ports.js';
import { DEFAULT_MARK, describeOpenError, RawSocketDriver, RX_SLOT, type RawSocketDriverOptions } from '../../../mptcp/driver/raw-driver.js';
import { fromHex } from '../../../mptcp/wire/bytes.js';
import { buildTcpPacket } from '../../support/packet-builder.js';
import { FakeClock, FakeEndpoint, FakeRawBinding, FakeRunner, FakeSysctl } from './fakes.js';

const A4 = fromHex('0a000001');
const B4 = fromHex('0a000002');
const A6 = fromHex('fd000000000000000000000000000001');
const B6 = fromHex('fd000000000000000000000000000002');
const PORTS = [{ lo: 61000, hi: 61999 }];

function packet(src: Uint8Array, dst: Uint8Array, seq: number, payload = 0): Uint8Array {
  return buildTcpPacket({ src, dst, srcPort: 61000, dstPort: 443, seq, flags: 0x10, options: [], payload: new Uint8Array(payload).fill(seq & 0xff) });
}

function setup(extra: Partial<RawSocketDriverOptions> = {}) {
  const sysctl = new FakeSysctl();
  const binding = new FakeRawBinding();
  const endpoint = new FakeEndpoint();
  const clock = new FakeClock();
  const runner = new FakeRunner();
  const open = () =>
    RawSocketDriver.open({
      endpoint,
      paths: [{ address: '10.0.0.1' }],
      ports: PORTS,
      binding,
      now: clock.now,
      timers: clock,
      guard: { name: 'unit', runner: runner.run, nft: 'nft', cleanupOnExit: false },
      batchSize: 4,
      sysctl,
      ...extra,
    });
  return { binding, endpoint, clock, runner, sysctl, open };
}

describe('opening', () => {
  it('installs the guard, then opens and polls one filtered, marked socket per path', () => {
    const { binding, runner, open } = setup({
      paths: [{ address: '10.0.0.1', device: 'eth0' }, { address: 'fd00::1' }],
      socketBufferBytes: 1 << 20,
    });
    const d = open();
    expect(runner.scripts).toEqual([guardScript('mptcp_proxy_unit', PORTS, DEFAULT_MARK)]);
    expect(d.guardTable).toBe('mptcp_proxy_unit');
    const [s4, s6] = binding.sockets;
    expect(s4).toMatchObject({ family: 4, address: A4, device: 'eth0', mark: DEFAULT_MARK, bufferBytes: 1 << 20, events: POLL_READABLE });
    expect(s6).toMatchObject({ family: 6, address: A6, device: null, events: POLL_READABLE });
    expect(s4?.filter).toEqual(encodeBpf(tcpDstPortFilter(4, PORTS)));
    expect(s6?.filter).toEqual(encodeBpf(tcpDstPortFilter(6, PORTS)));
    expect(d.socketInfo()).toEqual([
      { address: '10.0.0.1', device: 'eth0', fd: s4?.fd },
      { address: 'fd00::1', fd: s6?.fd },
    ]);
  });

  it('runs without the guard when told to', () => {
    const { runner, open } = setup({ guard: false });
    expect(open().guardTable).toBeUndefined();
    expect(runner.calls).toEqual([]);
  });

  it('undoes everything when a socket cannot be opened, with a clear error', () => {
    const { binding, runner, open } = setup({ paths: [{ address: '10.0.0.1' }, { address: '10.0.0.9', device: 'eth1' }] });
    binding.failOpen = (_f, addr) =>
      addr[3] === 9 ? Object.assign(new Error('bind: EADDRNOTAVAIL: Cannot assign requested address'), { code: 'EADDRNOTAVAIL', syscall: 'bind' }) : undefined;
    expect(open).toThrow('raw socket for 10.0.0.9 on eth1: EADDRNOTAVAIL: 10.0.0.9 is not an address of this host (on eth1) [bind: EADDRNOTAVAIL: Cannot assign requested address]');
    expect(binding.open).toEqual([]);
    expect(runner.scripts.at(-1)).toBe(removeScript('mptcp_proxy_unit'));
  });

  it('rejects bad paths and options', () => {
    expect(setup({ paths: [] }).open).toThrow(/no paths/);
    expect(setup({ paths: [{ address: 'eth0' }] }).open).toThrow(/not an IP address/);
    expect(setup({ batchSize: 0 }).open).toThrow(/batchSize/);
  });
});

describe('our ports and the ephemeral range', () => {
  const inside = [{ lo: 40000, hi: 40009 }];

  it('refuses ports the kernel could hand out, before touching nft or sockets', () => {
    const { binding, runner, open } = setup({ ports: inside });
    expect(open).toThrow(/port range 40000-40009 overlaps the kernel's ephemeral range 32768-60999.*ephemeralPorts: 'reserve'/);
    expect(runner.calls).toEqual([]);
    expect(binding.sockets).toEqual([]);
  });

  it('accepts them when they are reserved', () => {
    const { sysctl, open } = setup({ ports: inside });
    sysctl.files[RESERVED_PORTS_FILE] = '40000-40100\n';
    expect(open().disposed).toBe(false);
  });

  it("'reserve' reserves them until dispose", () => {
    const { sysctl, open } = setup({ ports: inside, ephemeralPorts: 'reserve' });
    sysctl.files[RESERVED_PORTS_FILE] = '8080\n';
    const d = open();
    expect(sysctl.files[RESERVED_PORTS_FILE]).toBe('8080,40000-40009');
    d.dispose();
    expect(sysctl.files[RESERVED_PORTS_FILE]).toBe('8080');
  });

  it("'off' reads nothing", () => {
    const { sysctl, open } = setup({ ports: inside, ephemeralPorts: 'off' });
    open();
    expect(sysctl.reads).toEqual([]);
  });
});

describe('describeOpenError', () => {
  const err = (code: string, syscall: string) => Object.assign(new Error(`${syscall}: ${code}: x`), { code, syscall });
  it.each([
    ['EPERM', 'socket(SOCK_RAW)', /EPERM: needs CAP_NET_RAW \(run as root\)/],
    ['EPERM', 'setsockopt(SO_MARK)', /needs CAP_NET_ADMIN/],
    ['ENODEV', 'setsockopt(SO_BINDTODEVICE)', /no network interface named "eth9"/],
    ['ENOPROTOOPT', 'setsockopt(IPV6_HDRINCL)', /Linux >= 4\.5/],
    ['EAFNOSUPPORT', 'socket(SOCK_RAW)', /address family is disabled/],
  ])('%s in %s', (code, syscall, re) => {
    const e = describeOpenError({ address: '10.0.0.1', device: 'eth9' }, err(code, syscall));
    expect(e.message).toMatch(re);
    expect(e.code).toBe(code);
    expect(e.syscall).toBe(syscall);
  });
});

describe('receiving', () => {
  it('hands every packet of every batch to the endpoint, at the clock time', () => {
    const { binding, endpoint, clock, open } = setup();
    const d = open();
    const fd = binding.sockets[0]?.fd ?? -1;
    const pkts = Array.from({ length: 10 }, (_, i) => packet(B4, A4, i, i * 100));
    clock.time = 1234.5;
    binding.deliver(fd, ...pkts);
    expect(endpoint.received.map((r) => r.bytes)).toEqual(pkts);
    expect(endpoint.received.every((r) => r.now === 1234.5)).toBe(true);
    // 10 packets in batches of 4: 4 + 4 + 2, then the short batch ends the wake-up.
    expect(binding.sockets[0]?.recvCalls).toBe(3);
    expect(d.stats).toMatchObject({ rxPackets: 10, rxBatches: 3 });
  });

  it('yields to the event loop after maxBatchesPerWake batches', () => {
    const { binding, endpoint, open } = setup({ maxBatchesPerWake: 2 });
    open();
    const fd = binding.sockets[0]?.fd ?? -1;
    binding.deliver(fd, ...Array.from({ length: 12 }, (_, i) => packet(B4, A4, i)));
    expect(endpoint.received).toHaveLength(8);
    binding.fire(fd, POLL_READABLE);
    expect(endpoint.received).toHaveLength(12);
  });

  it('counts truncated packets and socket errors, and goes on', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const fd = binding.sockets[0]?.fd ?? -1;
    binding.deliver(fd, constants.errno.EHOSTUNREACH, new Uint8Array(RX_SLOT + 1), packet(B4, A4, 7));
    expect(endpoint.received).toHaveLength(1);
    expect(d.stats.rxErrors).toEqual({ EHOSTUNREACH: 1 });
    expect(d.stats.rxTruncated).toBe(1);
  });
});

describe('sending', () => {
  it('drains pollTransmit into batches of slots, one sendBatch per batch', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const pkts = Array.from({ length: 10 }, (_, i) => packet(A4, B4, i, 50 + i));
    endpoint.outbox.push(...pkts);
    d.flush();
    expect(binding.sockets[0]?.sendBatches).toEqual([4, 4, 2]);
    expect(binding.sockets[0]?.sent).toEqual(pkts);
    expect(d.stats).toMatchObject({ txPackets: 10, txBatches: 3 });
  });

  it('sends what the endpoint queued while handling received packets', () => {
    const { binding, endpoint, open } = setup();
    open();
    const fd = binding.sockets[0]?.fd ?? -1;
    endpoint.onPacket = (_now, p) => endpoint.outbox.push(packet(A4, B4, (p[27] ?? 0) + 1000));
    binding.deliver(fd, packet(B4, A4, 1), packet(B4, A4, 2));
    expect(binding.sockets[0]?.sent).toEqual([packet(A4, B4, 1001), packet(A4, B4, 1002)]);
  });

  it('routes each packet to the socket of its source address, in order, and drops unknown sources', () => {
    const { binding, endpoint, open } = setup({ paths: [{ address: '10.0.0.1' }, { address: 'fd00::1' }], batchSize: 8 });
    const d = open();
    const seq = [packet(A4, B4, 1), packet(A4, B4, 2), packet(A6, B6, 3), packet(B4, A4, 4), packet(A4, B4, 5)];
    endpoint.outbox.push(...seq);
    d.flush();
    const [s4, s6] = binding.sockets;
    expect(s4?.sent).toEqual([seq[0], seq[1], seq[4]]);
    expect(s6?.sent).toEqual([seq[2]]);
    expect(s4?.sendBatches).toEqual([2, 1]);
    expect(d.stats.txNoRoute).toBe(1);
  });

  it('counts packets the kernel refuses and sends the rest', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const s = binding.sockets[0];
    if (s === undefined) throw new Error('no socket');
    s.sendFailures = [0, constants.errno.EMSGSIZE];
    endpoint.outbox.push(packet(A4, B4, 1), packet(A4, B4, 2), packet(A4, B4, 3));
    d.flush();
    expect(s.sent).toEqual([packet(A4, B4, 1), packet(A4, B4, 3)]);
    expect(d.stats.txErrors).toEqual({ EMSGSIZE: 1 });
    expect(d.stats.txPackets).toBe(2);
  });

  it('waits for writability on a full socket buffer, keeping order and stopping pollTransmit', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const s = binding.sockets[0];
    if (s === undefined) throw new Error('no socket');
    s.sendCapacity = 3;
    const pkts = Array.from({ length: 10 }, (_, i) => packet(A4, B4, i));
    endpoint.outbox.push(...pkts);
    d.flush();
    expect(s.sent).toEqual(pkts.slice(0, 3));
    expect(s.events).toBe(POLL_READABLE | POLL_WRITABLE);
    expect(d.stats.txBlocked).toBe(1);
    // Nothing more is taken from the endpoint while blocked.
    expect(endpoint.outbox).toHaveLength(6);
    d.flush();
    expect(s.sent).toHaveLength(3);
    s.sendCapacity = Infinity;
    binding.fire(s.fd, POLL_WRITABLE);
    expect(s.sent).toEqual(pkts);
    expect(s.events).toBe(POLL_READABLE);
  });

  it('wake() coalesces many calls into one flush on a microtask', async () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    endpoint.outbox.push(packet(A4, B4, 1));
    d.wake();
    d.wake();
    expect(binding.sockets[0]?.sent).toHaveLength(0);
    await Promise.resolve();
    expect(binding.sockets[0]?.sent).toHaveLength(1);
    expect(binding.sockets[0]?.sendBatches).toEqual([1]);
  });

  it('a flush() from inside an endpoint callback does not corrupt the batch', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const fd = binding.sockets[0]?.fd ?? -1;
    let n = 0;
    endpoint.onPacket = () => {
      endpoint.outbox.push(packet(A4, B4, ++n));
      d.flush();
    };
    const origPoll = endpoint.pollTransmit.bind(endpoint);
    endpoint.pollTransmit = (now, out) => {
      const len = origPoll(now, out);
      if (len > 0 && n < 6) {
        endpoint.outbox.push(packet(A4, B4, ++n + 100));
        d.flush(); // re-entrant
      }
      return len;
    };
    binding.deliver(fd, packet(B4, A4, 1), packet(B4, A4, 2));
    const sent = binding.sockets[0]?.sent ?? [];
    expect(sent.length).toBeGreaterThanOrEqual(6);
    expect(new Set(sent.map((p) => p.join(','))).size).toBe(sent.length);
    expect(endpoint.outbox).toHaveLength(0);
  });
});

describe('the one timer', () => {
  it('is armed from pollTimeout and calls handleTimeout at the deadline', () => {
    const { endpoint, clock, open } = setup();
    endpoint.deadline = 1000 + 25.5;
    const d = open();
    expect(clock.armed).toEqual([26]);
    endpoint.onTimeout = () => {
      endpoint.deadline = clock.time + 100;
    };
    clock.advance(26);
    expect(endpoint.timeouts).toEqual([1026]);
    expect(clock.armed).toEqual([26, 100]);
    expect(clock.pending.size).toBe(1);
    endpoint.onTimeout = () => {
      endpoint.deadline = Infinity;
    };
    clock.advance(100);
    expect(endpoint.timeouts).toEqual([1026, 1126]);
    expect(clock.pending.size).toBe(0);
    expect(d.stats.timerFires).toBe(2);
  });

  it('is re-armed when a packet moves the deadline, and not re-armed when it stays', () => {
    const { binding, endpoint, clock, open } = setup();
    endpoint.deadline = 1500;
    open();
    const fd = binding.sockets[0]?.fd ?? -1;
    binding.deliver(fd, packet(B4, A4, 1));
    expect(clock.armed).toEqual([500]);
    endpoint.onPacket = () => {
      endpoint.deadline = 1200;
    };
    binding.deliver(fd, packet(B4, A4, 2));
    expect(clock.armed).toEqual([500, 200]);
    expect(clock.pending.size).toBe(1);
  });

  it('never runs the endpoint timers before the deadline when the timer fires early', () => {
    const { endpoint, clock, open } = setup();
    endpoint.deadline = 1010;
    open();
    clock.time = 1009.7;
    clock.fireEarly();
    expect(endpoint.timeouts).toEqual([]);
    expect(clock.armed).toEqual([10, 1]);
    clock.advance(1);
    expect(endpoint.timeouts).toEqual([1010.7]);
  });

  it('retries a deadline that handleTimeout did not move after 1 ms instead of spinning', () => {
    const { endpoint, clock, open } = setup();
    endpoint.deadline = 1010;
    open();
    clock.advance(13);
    expect(endpoint.timeouts).toEqual([1010, 1011, 1012, 1013]);
    expect(clock.armed).toEqual([10, 1, 1, 1, 1]);
  });

  it('sends what handleTimeout queued (a retransmission)', () => {
    const { binding, endpoint, clock, open } = setup();
    endpoint.deadline = 1100;
    open();
    endpoint.onTimeout = () => {
      endpoint.outbox.push(packet(A4, B4, 9));
      endpoint.deadline = Infinity;
    };
    clock.advance(100);
    expect(binding.sockets[0]?.sent).toEqual([packet(A4, B4, 9)]);
  });
});

describe('dispose', () => {
  it('closes the sockets, clears the timer and removes the guard, once', () => {
    const { binding, endpoint, clock, runner, open } = setup({ paths: [{ address: '10.0.0.1' }, { address: 'fd00::1' }] });
    endpoint.deadline = 2000;
    const d = open();
    const fds = binding.sockets.map((s) => s.fd);
    d.dispose();
    d.dispose();
    expect(d.disposed).toBe(true);
    expect(binding.open).toEqual([]);
    expect(clock.pending.size).toBe(0);
    expect(runner.scripts).toEqual([guardScript('mptcp_proxy_unit', PORTS, DEFAULT_MARK), removeScript('mptcp_proxy_unit')]);
    d.flush();
    d.wake();
    expect(fds.every((fd) => binding.sockets.find((s) => s.fd === fd)?.closed)).toBe(true);
  });

  it('stops at once when the endpoint disposes the driver while handling a batch', () => {
    const { binding, endpoint, open } = setup();
    const d = open();
    const fd = binding.sockets[0]?.fd ?? -1;
    endpoint.onPacket = () => d.dispose();
    endpoint.outbox.push(packet(A4, B4, 1));
    binding.deliver(fd, packet(B4, A4, 1), packet(B4, A4, 2));
    expect(endpoint.received).toHaveLength(1);
    expect(binding.open).toEqual([]);
  });
});
