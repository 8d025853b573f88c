/**
 * A proxied connection's destination as the client hands it to the aggregator: an IPv4 or
 * IPv6 literal, or a domain name resolved at the aggregator (socks5h semantics), and a port.
 * Host names are checked here once, for every entry point (SOCKS5, HTTP, the frame decoder):
 * ASCII letters, digits, '-', '_' and '.', labels of 1..63 bytes, 1..253 bytes in all
 * (RFC 1035 §2.3.4; internationalized names arrive as A-labels, RFC 5890).
 */
import { formatIp, parseIp, type IpBytes } from './ip.js';

export type Target =
  | { kind: 'ipv4'; address: IpBytes; port: number }
  | { kind: 'ipv6'; address: IpBytes; port: number }
  | { kind: 'domain'; name: string; port: number };

export type TargetError = { code: 'bad-host' | 'bad-port'; message: string };

export function isValidDomainName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed.length === 0) return false;
  // All digits and dots reads as a (malformed) IPv4 literal, not a name (RFC 1123 §2.1).
  if (/^[0-9.]+$/.test(trimmed)) return false;
  return trimmed.split('.').every((l) => l.length >= 1 && l.length <= 63 && /^[A-Za-z0-9_-]+$/.test(l));
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** A target from text (a literal, bracketed IPv6, or a name) and a port. */
export function targetFromHost(host: string, port: number): Target | TargetError {
  if (!isValidPort(port)) return { code: 'bad-port', message: `port ${port} is not 1..65535` };
  const ip = parseIp(host);
  if (ip !== undefined) return ip.length === 4 ? { kind: 'ipv4', address: ip, port } : { kind: 'ipv6', address: ip, port };
  if (host.includes(':') || host.startsWith('[')) return { code: 'bad-host', message: 'malformed IPv6 literal' };
  if (/^[0-9.]+$/.test(host)) return { code: 'bad-host', message: 'malformed IPv4 literal' };
  if (!isValidDomainName(host)) return { code: 'bad-host', message: 'host name is not a valid DNS name (ASCII, labels of 1..63, at most 253 bytes)' };
  return { kind: 'domain', name: host.toLowerCase(), port };
}

export function isTargetError(t: Target | TargetError): t is TargetError {
  return 'code' in t;
}

export function targetHost(t: Target): string {
  return t.kind === 'domain' ? t.name : formatIp(t.address);
}

/** "host:port", IPv6 in brackets (RFC 3986 authority form). */
export function formatTarget(t: Target): string {
  return t.kind === 'ipv6' ? `[${formatIp(t.address)}]:${t.port}` : `${targetHost(t)}:${t.port}`;
}
