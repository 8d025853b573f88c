/** ByteQueue (mptcp/tcp/byte-queue.ts) against a plain array model under random operations. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../mptcp/tcp/byte-queue.js';

type Op = { kind: 'push' | 'own'; size: number } | { kind: 'drop'; n: number } | { kind: 'copy'; off: number; len: number } | { kind: 'take'; max: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('push' as const, 'own' as const), size: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 60_000, max: 200_000 })) }),
  fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: 0, max: 150_000 }) }),
  fc.record({ kind: fc.constant('copy' as const), off: fc.integer({ min: 0, max: 300_000 }), len: fc.integer({ min: 0, max: 100_000 }) }),
  fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 0, max: 70_000 }) }),
);

describe('ByteQueue', () => {
  it('behaves like a plain byte array under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const q = new ByteQueue();
        let model: number[] = [];
        let counter = 0;
        for (const o of ops) {
          if (o.kind !== 'drop' && o.kind !== 'copy' && o.kind !== 'take') {
            const d = new Uint8Array(o.size);
            for (let i = 0; i < d.length; i++) d[i] = (counter++ * 31) & 0xff;
            if (o.kind === 'push') q.push(d);
            else q.pushOwned(d);
            model = model.concat(Array.from(d));
          } else if (o.kind === 'drop') {
            q.drop(o.n);
            model = model.slice(Math.min(o.n, model.length));
          } else if (o.kind === 'copy') {
            const out = new Uint8Array(o.len);
            const n = q.copyOut(o.off, o.len, out, 0);
            const want = model.slice(o.off, o.off + o.len);
            expect(n).toBe(want.length);
            expect(Array.from(out.subarray(0, n))).toEqual(want);
          } else if (o.kind === 'take') {
            const t = q.take(o.max);
            expect(Array.from(t)).toEqual(model.slice(0, o.max));
            model = model.slice(Math.min(o.max, model.length));
          }
          expect(q.length).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pushed bytes are copied: changing the source later does not change the queue', () => {
    const q = new ByteQueue();
    const d = new Uint8Array([1, 2, 3]);
    q.push(d);
    d[0] = 9;
    expect(Array.from(q.take(3))).toEqual([1, 2, 3]);
  });
});
