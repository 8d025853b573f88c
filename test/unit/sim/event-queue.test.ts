import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../mptcp/sim/event-queue.js';

describe('EventQueue', () => {
  it('is empty at first and throws when read empty', () => {
    const q = new EventQueue<string, number>();
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
    expect(() => q.peekTarget()).toThrow(RangeError);
    expect(() => q.pop()).toThrow(RangeError);
    expect(() => q.push(Number.NaN, 'x', 0)).toThrow(RangeError);
  });

  it('pops in time order, equal times in insertion order', () => {
    const q = new EventQueue<string, number>();
    q.push(5, 'e', 1);
    q.push(1, 'a', 2);
    q.push(5, 'f', 3);
    q.push(3, 'c', 4);
    q.push(1, 'b', 5);
    q.push(5, 'g', 6);
    const out: string[] = [];
    while (q.size > 0) {
      out.push(`${q.peekTime()}${q.peekTarget()}${q.peekArg()}`);
      q.pop();
    }
    expect(out).toEqual(['1a2', '1b5', '3c4', '5e1', '5f3', '5g6']);
  });

  it('matches a stable sort under any interleaving of pushes and pops (property)', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 20 }) }),
      fc.constant({ pop: true as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const q = new EventQueue<number, undefined>();
        const model: { time: number; id: number }[] = [];
        let id = 0;
        for (const o of ops) {
          if ('push' in o) {
            q.push(o.push, id, undefined);
            model.push({ time: o.push, id: id++ });
            // Stable sort: equal times keep insertion (id) order.
            model.sort((x, y) => x.time - y.time || x.id - y.id);
          } else if (model.length > 0) {
            const expected = model.shift();
            expect(q.peekTime()).toBe(expected?.time);
            expect(q.peekTarget()).toBe(expected?.id);
            q.pop();
          }
          expect(q.size).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('handles fractional and infinite times and clear()', () => {
    const q = new EventQueue<number, undefined>();
    q.push(Infinity, 1, undefined);
    q.push(0.25, 2, undefined);
    q.push(0.125, 3, undefined);
    expect(q.peekTarget()).toBe(3);
    q.pop();
    expect(q.peekTime()).toBe(0.25);
    q.clear();
    expect(q.size).toBe(0);
  });
});
