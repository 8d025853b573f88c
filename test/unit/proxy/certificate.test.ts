/**
 * The self-signed certificate writer (proxy/tls): node:crypto parses it, its signature
 * verifies with its own key, openssl reads it as X.509 v3 with ecdsa-with-SHA256, and a real
 * TLS 1.3 handshake on loopback uses it; the identity is kept in the state dir.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { derLength, integer, oid, time } from '../../../proxy/tls/der.js';
import { createSelfSigned, loadOrCreateIdentity, normalizeFingerprint } from '../../../proxy/tls/certificate.js';
import { which } from '../../support/privileges.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DER primitives (X.690)', () => {
  it('encodes lengths, integers, OIDs and times as X.690 says', () => {
    expect(hex(derLength(5))).toBe('05');
    expect(hex(derLength(200))).toBe('81c8');
    expect(hex(derLength(300))).toBe('82012c');
    expect(hex(integer(Uint8Array.of(0x80)))).toBe('02020080');
    expect(hex(integer(Uint8Array.of(0, 0, 1)))).toBe('020101');
    expect(hex(oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(Buffer.from(time(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toString('latin1')).toBe('\x17\x0d260102030405Z');
    expect(Buffer.from(time(new Date(Date.UTC(2051, 0, 2, 3, 4, 5)))).toString('latin1')).toBe('\x18\x0f20510102030405Z');
  });
});

describe('self-signed certificate', () => {
  const id = createSelfSigned('mptcp-proxy test');

  it('parses, verifies with its own key and carries the fingerprint', () => {
    const cert = new X509Certificate(id.certPem);
    expect(cert.subject).toBe('CN=mptcp-proxy test');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(id.fingerprint);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 19 * 365 * 86_400_000);
  });

  it.skipIf(which('openssl') === undefined)('is read by openssl as v3 ecdsa-with-SHA256', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cert-'));
    writeFileSync(join(dir, 'c.pem'), id.certPem);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/NIST CURVE: P-256|prime256v1/);
    const verify = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')], { encoding: 'utf8' });
    expect(verify.trim()).toMatch(/OK$/);
  });

  it('serves a TLS 1.3 handshake whose peer certificate has the pinned fingerprint', async () => {
    const server = createServer({ key: id.keyPem, cert: id.certPem, minVersion: 'TLSv1.3' }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const s: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise((r) => s.once('secureConnect', r));
    expect(s.getProtocol()).toBe('TLSv1.3');
    expect(normalizeFingerprint(s.getPeerX509Certificate()?.fingerprint256 ?? '')).toBe(id.fingerprint);
    s.destroy();
    server.close();
  });

  it('is created once in the state dir and loaded afterwards', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'state-')), 'agg');
    const first = loadOrCreateIdentity(dir);
    const again = loadOrCreateIdentity(dir);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(statSync(join(dir, 'aggregator-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('carries subjectAltName DNS names when asked, and a TLS client checks them', async () => {
    const named = createSelfSigned('web', 1, new Date(), ['web.test', 'localhost']);
    expect(new X509Certificate(named.certPem).subjectAltName).toBe('DNS:web.test, DNS:localhost');
    const server = createServer({ key: named.keyPem, cert: named.certPem }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const attempt = (servername: string) =>
      new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port, servername, ca: named.certPem });
        s.once('secureConnect', () => resolve('ok'));
        s.once('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
      });
    expect(await attempt('localhost')).toBe('ok');
    expect(await attempt('other.test')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    server.close();
  });

  it('normalizes fingerprints written with colons or a prefix, and rejects others', () => {
    const colons = id.fingerprint.toUpperCase().match(/../g)?.join(':') ?? '';
    expect(normalizeFingerprint(colons)).toBe(id.fingerprint);
    expect(normalizeFingerprint(`sha256:${id.fingerprint}`)).toBe(id.fingerprint);
    expect(normalizeFingerprint('abcd')).toBeUndefined();
  });
});
