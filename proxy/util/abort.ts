/**
 * Aborting a stream so the peer learns it was aborted, not finished: a TCP (or kernel MPTCP)
 * socket is closed with RST (resetAndDestroy) instead of FIN; a stream layered on another
 * (TLS on a transport stream) aborts the one underneath. Other streams are destroyed.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const underneath = new WeakMap<Duplex, Duplex>();

/** Records that `outer` (e.g. a TLSSocket) runs on `inner` (the transport stream). */
export function layerOn(outer: Duplex, inner: Duplex): void {
  underneath.set(outer, inner);
}

export function abort(s: Duplex): void {
  const inner = underneath.get(s);
  if (inner !== undefined) abort(inner);
  if (inner === undefined && s instanceof Socket && !s.destroyed) {
    try {
      s.resetAndDestroy();
      return;
    } catch {
      /* not connected: plain destroy below */
    }
  }
  s.destroy();
}
