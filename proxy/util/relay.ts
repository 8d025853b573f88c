/**
 * Relays bytes between two streams in both directions with backpressure (pipe) and
 * half-close (one side's end becomes the other's end; the other direction goes on), until
 * both directions have finished or an idle timeout passes with no byte either way. An error
 * or an abort on either side, or the idle timeout, aborts both (abort.ts: RST where there is
 * TCP underneath), so an abort travels end to end. Counts bytes each way (and reports them
 * as they pass to `onBytes`, for live byte counters).
 */
import type { Duplex } from 'node:stream';
import { abort } from './abort.js';

export interface RelayResult {
  aToB: number;
  bToA: number;
  /** 'done' (both directions ended), 'idle' (timeout), 'error' (either side failed). */
  end: 'done' | 'idle' | 'error';
  error?: string;
}

/** Called for every chunk relayed: 'aToB' or 'bToA' and its length. */
export type RelayBytes = (direction: 'aToB' | 'bToA', n: number) => void;

export function relay(a: Duplex, b: Duplex, idleMs: number, onBytes?: RelayBytes): Promise<RelayResult> {
  return new Promise((resolve) => {
    let aToB = 0;
    let bToA = 0;
    let ended = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: RelayResult['end'], error?: string) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (end !== 'done') {
        abort(a);
        abort(b);
      }
      resolve(error === undefined ? { aToB, bToA, end } : { aToB, bToA, end, error });
    };
    const touch = () => {
      if (timer) clearTimeout(timer);
      if (idleMs > 0) timer = setTimeout(() => finish('idle'), idleMs);
    };
    const oneWay = (from: Duplex, to: Duplex, count: (n: number) => void) => {
      from.on('data', (d: Buffer) => {
        count(d.length);
        touch();
      });
      from.pipe(to, { end: true });
      from.once('end', () => {
        // Our FIN is sent when `to` has flushed; the direction is done then.
        const done = () => {
          if (++ended === 2) {
            finish('done');
            // Both close by themselves once flushed; a stuck one is freed later.
            setTimeout(() => {
              a.destroy();
              b.destroy();
            }, 10_000).unref();
          }
        };
        if (to.writableFinished) done();
        else to.once('finish', done);
      });
    };
    const onError = (e: Error) => finish('error', e.message);
    const onClose = () => {
      if (!settled && ended < 2) setImmediate(() => finish(ended === 2 ? 'done' : 'error', 'closed before both directions ended'));
    };
    a.on('error', onError);
    b.on('error', onError);
    a.once('close', onClose);
    b.once('close', onClose);
    oneWay(a, b, (n) => {
      aToB += n;
      onBytes?.('aToB', n);
    });
    oneWay(b, a, (n) => {
      bToA += n;
      onBytes?.('bToA', n);
    });
    touch();
  });
}
