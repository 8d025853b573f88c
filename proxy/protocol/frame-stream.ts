/**
 * Reading one control frame (frame.ts) from a stream: buffers at most one frame, stops at a
 * deadline, and puts any bytes after the frame back (unshift) for whoever reads next. Never
 * throws: bad bytes, a timeout, an early close or a stream error all come back as a typed
 * result.
 */
import type { Duplex } from 'node:stream';
import { decodeFrame, encodeFrame, HEADER_BYTES, MAX_BODY, type Frame, type FrameError } from './frame.js';

export type ReadFrameResult =
  | { ok: true; frame: Frame }
  | { ok: false; reason: 'invalid'; error: FrameError }
  | { ok: false; reason: 'closed' | 'timeout' | 'error'; message: string };

export function readFrame(stream: Duplex, timeoutMs: number): Promise<ReadFrameResult> {
  return new Promise((resolve) => {
    let buf = new Uint8Array(0);
    let settled = false;
    const finish = (r: ReadFrameResult, rest?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.removeListener('readable', onReadable);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onEnd);
      stream.removeListener('error', onError);
      if (rest !== undefined && rest.length > 0) stream.unshift(rest);
      resolve(r);
    };
    const onReadable = () => {
      for (;;) {
        // Never read past the largest possible frame: the rest stays in the stream.
        const want = Math.max(1, Math.min(stream.readableLength, HEADER_BYTES + MAX_BODY - buf.length));
        const chunk = stream.read(Math.min(want, stream.readableLength)) as Buffer | null;
        if (chunk === null) return;
        const merged = new Uint8Array(buf.length + chunk.length);
        merged.set(buf);
        merged.set(chunk, buf.length);
        buf = merged;
        const d = decodeFrame(buf);
        if (d.kind === 'frame') return finish({ ok: true, frame: d.frame }, buf.subarray(d.size));
        if (d.kind === 'error') return finish({ ok: false, reason: 'invalid', error: d.error });
      }
    };
    const onEnd = () => finish({ ok: false, reason: 'closed', message: buf.length > 0 ? 'stream ended inside a frame' : 'stream ended' });
    const onError = (e: Error) => finish({ ok: false, reason: 'error', message: e.message });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout', message: `no frame within ${timeoutMs} ms` }), timeoutMs);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    if (stream.readableEnded || stream.destroyed) onEnd();
  });
}

/** Writes a frame; false when the stream can no longer be written. */
export function writeFrame(stream: Duplex, f: Frame): boolean {
  if (stream.destroyed || stream.writableEnded) return false;
  stream.write(encodeFrame(f));
  return true;
}
