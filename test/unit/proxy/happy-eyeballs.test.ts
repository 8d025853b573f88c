/**
 * Happy Eyeballs v2 (proxy/aggregator/happy-eyeballs.ts) with an injected resolver and
 * connector in fake time: IPv6 first, the 50 ms resolution delay after an early A answer,
 * 250 ms between attempts, next attempt at once on failure, first success wins and the
 * others are cancelled, policy-refused addresses never tried, and the outcome statuses.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DestinationPolicy } from '../../../proxy/aggregator/destination-policy.js';
import { happyEyeballs, interleave, type Attempt } from '../../../proxy/aggregator/happy-eyeballs.js';
import { parseCidr } from '../../../proxy/protocol/ip.js';
import { Status } from '../../../proxy/protocol/status.js';

interface Fake {
  log: string[];
  cancelled: string[];
  settle: Map<string, { ok: () => void; fail: (code: string) => void }>;
}

function deps(answers: { v6: string[] | Error; v4: string[] | Error; v6DelayMs: number; v4DelayMs: number }, fake: Fake) {
  const policy = new DestinationPolicy([parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')].filter((c) => c !== undefined));
  return {
    resolve: (_name: string, family: 4 | 6) =>
      new Promise<string[]>((resolve, reject) => {
        const a = family === 6 ? answers.v6 : answers.v4;
        setTimeout(() => (a instanceof Error ? reject(a) : resolve(a)), family === 6 ? answers.v6DelayMs : answers.v4DelayMs);
      }),
    connect: (address: string): Attempt<string> => {
      fake.log.push(`${Date.now()} ${address}`);
      let ok!: () => void;
      let fail!: (code: string) => void;
      const done = new Promise<string>((res, rej) => {
        ok = () => res(address);
        fail = (code) => rej(Object.assign(new Error(code), { code }));
      });
      fake.settle.set(address, { ok, fail });
      return { done, cancel: () => fake.cancelled.push(address) };
    },
    check: (ip: Uint8Array) => policy.check(ip),
  };
}

describe('Happy Eyeballs v2', () => {
  let fake: Fake;
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    fake = { log: [], cancelled: [], settle: new Map() };
  });
  afterEach(() => vi.useRealTimers());

  it('interleaves families starting with IPv6 (RFC 8305 §4)', () => {
    expect(interleave(['a', 'b', 'c'], ['1']).map((c) => c.address)).toEqual(['a', '1', 'b', 'c']);
  });

  it('tries IPv6 first, then the next address 250 ms later; the first success wins', async () => {
    const p = happyEyeballs('web', 80, deps({ v6: ['fd00::1', 'fd00::2'], v4: ['10.0.0.1'], v6DelayMs: 5, v4DelayMs: 5 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(5);
    expect(fake.log).toEqual(['5 fd00::1']);
    await vi.advanceTimersByTimeAsync(250);
    expect(fake.log).toEqual(['5 fd00::1', '255 10.0.0.1']);
    fake.settle.get('10.0.0.1')?.ok();
    await expect(p).resolves.toMatchObject({ ok: true, address: '10.0.0.1' });
    expect(fake.cancelled).toContain('fd00::1');
  });

  it('waits the 50 ms resolution delay for AAAA after an early A answer', async () => {
    const p = happyEyeballs('web', 80, deps({ v6: ['fd00::1'], v4: ['10.0.0.1'], v6DelayMs: 30, v4DelayMs: 1 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(29);
    expect(fake.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.log).toEqual(['30 fd00::1']);
    fake.settle.get('fd00::1')?.ok();
    await expect(p).resolves.toMatchObject({ ok: true, address: 'fd00::1' });
  });

  it('goes on with IPv4 after the resolution delay when AAAA is slow', async () => {
    const p = happyEyeballs('web', 80, deps({ v6: ['fd00::1'], v4: ['10.0.0.1'], v6DelayMs: 1000, v4DelayMs: 1 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(51);
    expect(fake.log).toEqual(['51 10.0.0.1']);
    fake.settle.get('10.0.0.1')?.ok();
    await expect(p).resolves.toMatchObject({ ok: true, address: '10.0.0.1' });
  });

  it('starts the next attempt at once when one fails, and reports the last error', async () => {
    const p = happyEyeballs('web', 80, deps({ v6: ['fd00::1'], v4: ['10.0.0.1'], v6DelayMs: 1, v4DelayMs: 1 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(1);
    fake.settle.get('fd00::1')?.fail('ENETUNREACH');
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.log).toEqual(['1 fd00::1', '1 10.0.0.1']);
    fake.settle.get('10.0.0.1')?.fail('ECONNREFUSED');
    await expect(p).resolves.toMatchObject({ ok: false, status: Status.connectionRefused });
  });

  it('never tries refused addresses: a name resolving only to them is "not allowed"', async () => {
    const p = happyEyeballs('evil', 80, deps({ v6: ['::1'], v4: ['127.0.0.1', '169.254.169.254'], v6DelayMs: 1, v4DelayMs: 1 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(2);
    await expect(p).resolves.toMatchObject({ ok: false, status: Status.notAllowed });
    expect(fake.log).toEqual([]);
  });

  it('reports a name without addresses, a timeout, and a refused literal', async () => {
    const nx = happyEyeballs('nx', 80, deps({ v6: new Error('ENOTFOUND'), v4: [], v6DelayMs: 1, v4DelayMs: 1 }, fake), { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(2);
    await expect(nx).resolves.toMatchObject({ ok: false, status: Status.nameNotFound });
    const slow = happyEyeballs('10.0.0.9', 80, deps({ v6: [], v4: [], v6DelayMs: 1, v4DelayMs: 1 }, fake), { timeoutMs: 3000 });
    await vi.advanceTimersByTimeAsync(3000);
    await expect(slow).resolves.toMatchObject({ ok: false, status: Status.timedOut });
    expect(fake.cancelled).toContain('10.0.0.9');
    const lit = happyEyeballs('[::1]', 80, deps({ v6: [], v4: [], v6DelayMs: 1, v4DelayMs: 1 }, fake), { timeoutMs: 3000 });
    await expect(lit).resolves.toMatchObject({ ok: false, status: Status.notAllowed });
  });
});
