/**
 * Pure helpers for the HTTP forward proxy (RFC 9110, RFC 9112): which header fields are
 * hop-by-hop and must not be forwarded (RFC 9110 §7.6.1: Connection and every field it
 * names, plus Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade and the
 * Proxy-Authorization meant for us), the target of an absolute-form request (RFC 9112 §3.2.2)
 * and of a CONNECT authority-form request (§3.2.3), and Basic credentials (RFC 7617).
 * Every function returns a typed error instead of throwing.
 */
import { isTargetError, targetFromHost, type Target } from './target.js';

/** Always hop-by-hop, whatever Connection says (lowercase). */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/**
 * Keeps the end-to-end fields of a raw header list ([name, value, name, value, ...] as Node's
 * rawHeaders): drops the fixed hop-by-hop set and every field named in a Connection header.
 */
export function endToEndHeaders(raw: readonly string[]): [string, string][] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i].toLowerCase();
    if (n === 'connection' || n === 'proxy-connection') {
      for (const tok of raw[i + 1].split(',')) {
        const t = tok.trim().toLowerCase();
        if (t !== '') named.add(t);
      }
    }
  }
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(n) || named.has(n)) continue;
    out.push([raw[i], raw[i + 1]]);
  }
  return out;
}

export type HeadError = { code: 'bad-target' | 'unsupported-scheme' | 'bad-host' | 'bad-port'; message: string };

export interface AbsoluteTarget {
  target: Target;
  /** origin-form path and query for the upstream request ("/" when empty). */
  path: string;
  /** The Host header value for upstream. */
  host: string;
}

/** `http://host[:port]/path?query` (absolute-form). Only http: is forwarded this way. */
export function parseAbsoluteForm(url: string): AbsoluteTarget | HeadError {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
  if (m === null) return { code: 'bad-target', message: 'request target is not absolute-form (http://host/path)' };
  if (m[1].toLowerCase() !== 'http') return { code: 'unsupported-scheme', message: `scheme ${m[1]} is not proxied as plain HTTP (use CONNECT)` };
  const authority = m[2].includes('@') ? m[2].slice(m[2].lastIndexOf('@') + 1) : m[2];
  const hp = splitAuthority(authority, 80);
  if ('code' in hp) return hp;
  const t = targetFromHost(hp.host, hp.port);
  if (isTargetError(t)) return t;
  const path = m[3] === '' ? '/' : m[3].startsWith('/') ? m[3] : `/${m[3]}`;
  return { target: t, path, host: authority };
}

/** "host:port", "[v6]:port" (authority-form). Port required. */
export function parseConnectAuthority(authority: string): Target | HeadError {
  const hp = splitAuthority(authority, undefined);
  if ('code' in hp) return hp;
  const t = targetFromHost(hp.host, hp.port);
  return t;
}

function splitAuthority(a: string, defaultPort: number | undefined): { host: string; port: number } | HeadError {
  let host: string;
  let portText: string | undefined;
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    if (close < 0) return { code: 'bad-host', message: 'unclosed [ in authority' };
    host = a.slice(1, close);
    const rest = a.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { code: 'bad-host', message: 'junk after ] in authority' };
    portText = rest === '' ? undefined : rest.slice(1);
    if (!host.includes(':')) return { code: 'bad-host', message: 'brackets around a non-IPv6 host' };
  } else {
    const colon = a.lastIndexOf(':');
    if (colon >= 0 && a.indexOf(':') !== colon) return { code: 'bad-host', message: 'IPv6 literal must be in brackets' };
    host = colon < 0 ? a : a.slice(0, colon);
    portText = colon < 0 ? undefined : a.slice(colon + 1);
  }
  if (host === '') return { code: 'bad-host', message: 'empty host' };
  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === undefined) return { code: 'bad-port', message: 'port required' };
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) return { code: 'bad-port', message: `bad port '${portText}'` };
    port = Number(portText);
  }
  return { host, port };
}

/** Credentials of `Basic base64(user:pass)` (RFC 7617 §2), undefined if malformed. */
export function parseBasicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (m === null) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
