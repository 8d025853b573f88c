/**
 * The client's proof in HELLO: HMAC-SHA256 keyed with its secret over a label, the client id
 * and the TLS session's exported keying material (RFC 8446 §7.5, RFC 5705), so the secret
 * never travels and a proof cannot be replayed on another TLS session. Plaintext mode (only
 * when configured) has no session to bind to: the binding is 32 zero bytes, and the proof is
 * replayable by anyone who sees it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { MAC_BYTES } from './frame.js';

export const EXPORTER_LABEL = 'EXPORTER-mptcp-proxy-hello';
const MAC_LABEL = 'mptcp-proxy hello v1';

/** The channel binding of a stream: keying material for TLS, zeros for plaintext. */
export function channelBinding(tls: TLSSocket | undefined): Uint8Array {
  return tls === undefined ? new Uint8Array(MAC_BYTES) : tls.exportKeyingMaterial(MAC_BYTES, EXPORTER_LABEL, Buffer.alloc(0));
}

export function helloMac(secret: string, clientId: string, binding: Uint8Array): Uint8Array {
  return createHmac('sha256', secret).update(MAC_LABEL).update('\0').update(clientId).update('\0').update(binding).digest();
}

export function helloMacMatches(secret: string, clientId: string, binding: Uint8Array, mac: Uint8Array): boolean {
  const want = helloMac(secret, clientId, binding);
  return mac.length === want.length && timingSafeEqual(want, mac);
}
