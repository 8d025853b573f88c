/**
 * One proxied connection's tunnel: takes a stream from the pool, sends REQUEST (target,
 * request id, and the connection's path policy, which `policyFor` also applies to our side of
 * the stream) and waits for the aggregator's REPLY. On success the stream carries the
 * destination's bytes from then on. A pooled stream that turns out dead before any reply is
 * replaced by a fresh one once (the aggregator acted on nothing). Failures come back as a
 * status and a one-line reason for the SOCKS5 or HTTP side to translate; never a throw. (The
 * replacement is a new stream, not the next pooled one: after an aggregator restart every
 * pooled stream is dead.)
 */
import type { Duplex } from 'node:stream';
import { readFrame, writeFrame } from '../protocol/frame-stream.js';
import { Status, type StatusCode } from '../protocol/status.js';
import type { WirePolicy } from '../protocol/policy-wire.js';
import type { Target } from '../protocol/target.js';
import type { StreamPool } from './pool.js';

export type TunnelResult = { ok: true; stream: Duplex; boundAddress: string } | { ok: false; status: StatusCode; reason: string };

export class Tunnels {
  private nextId = 1;

  constructor(
    private readonly pool: StreamPool,
    /** Applies the path policy for `target` to our side of `stream`; what the aggregator should apply (null: none). */
    private readonly policyFor: (target: Target, stream: Duplex) => WirePolicy | null,
    private readonly requestTimeoutMs: number,
    private readonly helloTimeoutMs: number,
  ) {}

  async open(target: Target): Promise<TunnelResult> {
    const first = await this.attempt(target);
    const result = first.ok || !first.retry ? first.result : (await this.attempt(target, true)).result;
    // Replace the stream this request used once it is answered (see StreamPool.take).
    this.pool.refill();
    return result;
  }

  private async attempt(target: Target, fresh = false): Promise<{ ok: boolean; retry: boolean; result: TunnelResult }> {
    let lease;
    try {
      lease = await this.pool.take(fresh);
    } catch (e) {
      return { ok: false, retry: false, result: { ok: false, status: Status.generalFailure, reason: e instanceof Error ? e.message : String(e) } };
    }
    const { stream } = lease;
    const requestId = this.nextId++ >>> 0;
    let policy: WirePolicy | null;
    try {
      policy = this.policyFor(target, stream);
    } catch {
      policy = null; // a policy that cannot be built must not cost the connection
    }
    if (!writeFrame(stream, { type: 'request', requestId, policy, target })) {
      stream.destroy();
      return { ok: false, retry: lease.fromPool, result: { ok: false, status: Status.generalFailure, reason: 'aggregator stream closed' } };
    }
    const fail = (status: StatusCode, reason: string, retry = false) => {
      stream.destroy();
      return { ok: false, retry, result: { ok: false as const, status, reason } };
    };
    if (lease.helloPending) {
      const h = await readFrame(stream, this.helloTimeoutMs);
      if (!h.ok) return fail(Status.generalFailure, h.reason === 'timeout' ? 'aggregator did not accept us in time' : 'aggregator refused authentication (check clientId and secret)');
      if (h.frame.type !== 'helloOk') return fail(Status.generalFailure, `aggregator sent ${h.frame.type} instead of HELLO_OK`);
    }
    const r = await readFrame(stream, this.requestTimeoutMs);
    if (!r.ok) {
      if (r.reason === 'timeout') return fail(Status.timedOut, 'aggregator did not answer in time');
      if (r.reason === 'invalid') return fail(Status.generalFailure, `aggregator sent a bad frame: ${r.error.message}`);
      return fail(Status.generalFailure, 'aggregator closed the stream', lease.fromPool);
    }
    const f = r.frame;
    if (f.type !== 'reply' || f.requestId !== requestId) return fail(Status.generalFailure, 'aggregator answered out of turn');
    if (f.status !== Status.ok) return fail(f.status, f.reason);
    return { ok: true, retry: false, result: { ok: true, stream, boundAddress: f.reason } };
  }
}
