/**
 * Opening one authenticated stream to the aggregator: a transport stream, TLS 1.3 over it
 * with the aggregator's certificate checked against the pinned SHA-256 fingerprint before
 * anything is sent (plaintext only when configured), then our HELLO with the proof bound to
 * this TLS session. The aggregator's HELLO_OK is read later by whoever uses the stream.
 */
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ClientConfig } from '../config/client-config.js';
import { writeFrame } from '../protocol/frame-stream.js';
import { channelBinding, helloMac } from '../protocol/hello-proof.js';
import { normalizeFingerprint } from '../tls/certificate.js';
import type { StreamTransport } from '../transport/transport.js';
import { layerOn } from '../util/abort.js';

export class LinkError extends Error {
  constructor(
    readonly code: 'ETRANSPORT' | 'ETLS' | 'EPIN' | 'ETIMEDOUT',
    message: string,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

/** The transport stream under each authenticated stream (TLS runs on top of it). */
const transportStreams = new WeakMap<Duplex, Duplex>();

/** The transport stream an authenticated stream runs on (itself when plaintext). */
export function transportStreamOf(stream: Duplex): Duplex {
  return transportStreams.get(stream) ?? stream;
}

export async function openAuthenticatedStream(cfg: ClientConfig, transport: StreamTransport): Promise<Duplex> {
  const timeoutMs = cfg.connectTimeoutSeconds * 1000;
  const started = Date.now();
  let raw: Duplex;
  try {
    raw = await transport.connect({ host: cfg.aggregator.host, port: cfg.aggregator.port }, timeoutMs);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new LinkError(code === 'ETIMEDOUT' ? 'ETIMEDOUT' : 'ETRANSPORT', `aggregator ${cfg.aggregator.host}:${cfg.aggregator.port} unreachable: ${e instanceof Error ? e.message : String(e)}`);
  }
  raw.on('error', () => undefined);
  let conn: Duplex = raw;
  let tls: TLSSocket | undefined;
  if (!cfg.plaintext) {
    const socket = tlsConnect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    tls = socket;
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new LinkError('ETIMEDOUT', 'TLS handshake with the aggregator timed out'));
      }, Math.max(1, timeoutMs - (Date.now() - started)));
      socket.once('secureConnect', () => {
        clearTimeout(t);
        const seen = normalizeFingerprint(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
        if (seen === undefined || seen !== cfg.aggregator.fingerprint) {
          socket.destroy();
          reject(new LinkError('EPIN', `aggregator certificate fingerprint ${seen ?? '(none)'} is not the pinned ${cfg.aggregator.fingerprint ?? '(none)'}`));
        } else resolve();
      });
      socket.once('error', (e: Error) => {
        clearTimeout(t);
        reject(new LinkError('ETLS', `TLS with the aggregator failed: ${e.message}`));
      });
      socket.once('close', () => {
        clearTimeout(t);
        reject(new LinkError('ETLS', 'aggregator closed during the TLS handshake'));
      });
    });
    layerOn(socket, raw);
    conn = socket;
  }
  transportStreams.set(conn, raw);
  writeFrame(conn, { type: 'hello', clientId: cfg.aggregator.clientId, mac: helloMac(cfg.aggregator.secret, cfg.aggregator.clientId, channelBinding(tls)) });
  return conn;
}
