/**
 * The aggregator's TLS identity: an ECDSA P-256 key and a self-signed X.509 v3 certificate
 * (RFC 5280) built with der.ts and signed by node:crypto, kept in the state directory and
 * created on first start. Clients pin the certificate's SHA-256 fingerprint instead of
 * trusting a CA, so the certificate carries no host names.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bitString, explicit, integer, oid, sequence, set, time, tlv, utf8String } from './der.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'; // RFC 5758 §3.2
const COMMON_NAME = '2.5.4.3';

export interface TlsIdentity {
  keyPem: string;
  certPem: string;
  /** SHA-256 of the certificate's DER, as 64 lowercase hex digits. */
  fingerprint: string;
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

const SUBJECT_ALT_NAME = '2.5.29.17';

/**
 * A new key and self-signed certificate valid from yesterday for `years` years. `dnsNames`
 * become a subjectAltName extension (RFC 5280 §4.2.1.6), for certificates that clients check
 * by name (the aggregator's is pinned and needs none).
 */
export function createSelfSigned(commonName: string, years = 20, now = new Date(), dnsNames: readonly string[] = []): TlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  const alg = sequence(oid(ECDSA_WITH_SHA256));
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(commonName))));
  const notBefore = new Date(now.getTime() - 86_400_000);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const san = sequence(...dnsNames.map((n) => tlv(0x82, new TextEncoder().encode(n)))); // [2] IMPLICIT IA5String
  const extensions = dnsNames.length === 0 ? [] : [explicit(3, sequence(sequence(oid(SUBJECT_ALT_NAME), tlv(0x04, san))))];
  const tbs = sequence(
    explicit(0, integer(Uint8Array.of(2))), // v3
    integer(serial),
    alg,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    ...extensions,
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = sequence(tbs, alg, bitString(signature));
  const certPem = pem('CERTIFICATE', cert);
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem, fingerprint: fingerprintOf(certPem) };
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** "AB:cd:..." or "abcd..." -> 64 lowercase hex digits; undefined when not a SHA-256 value. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/^sha256[:/]?/i, '').replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export const KEY_FILE = 'aggregator-key.pem';
export const CERT_FILE = 'aggregator-cert.pem';

/** Loads the identity from `stateDir`, creating it on first use (`created` says which). */
export function loadOrCreateIdentity(stateDir: string): TlsIdentity & { created: boolean } {
  const keyFile = join(stateDir, KEY_FILE);
  const certFile = join(stateDir, CERT_FILE);
  if (existsSync(keyFile) && existsSync(certFile)) {
    const keyPem = readFileSync(keyFile, 'utf8');
    const certPem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error(`${keyFile} does not belong to ${certFile}`);
    return { keyPem, certPem, fingerprint: fingerprintOf(certPem), created: false };
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const id = createSelfSigned('mptcp-proxy aggregator');
  writeFileSync(keyFile, id.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, id.certPem, { mode: 0o644 });
  return { ...id, created: true };
}
