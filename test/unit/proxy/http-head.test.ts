/**
 * HTTP forward-proxy helpers (proxy/protocol/http-proxy-head.ts): hop-by-hop removal (RFC
 * 9110 §7.6.1, including fields named by Connection), absolute-form and authority-form
 * targets (RFC 9112 §3.2), Basic credentials (RFC 7617); malformed input gives typed errors.
 */
import { describe, expect, it } from 'vitest';
import { endToEndHeaders, parseAbsoluteForm, parseBasicCredentials, parseConnectAuthority } from '../../../proxy/protocol/http-proxy-head.js';
import { formatTarget } from '../../../proxy/protocol/target.js';

describe('hop-by-hop fields', () => {
  it('drops the fixed set and every field Connection names, keeps the rest and duplicates', () => {
    const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Hop , Upgrade', 'X-Hop', '1', 'Keep-Alive', '5', 'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'Proxy-Authorization', 'Basic x', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Upgrade', 'h2c', 'x-hop', '2'];
    expect(endToEndHeaders(raw)).toEqual([
      ['Host', 'a'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
  });
  it('honours tokens named in Proxy-Connection too', () => {
    expect(endToEndHeaders(['Proxy-Connection', 'X-A', 'X-A', '1', 'X-B', '2'])).toEqual([['X-B', '2']]);
  });
});

describe('request targets', () => {
  const t = (u: string) => {
    const r = parseAbsoluteForm(u);
    return 'code' in r ? r.code : `${formatTarget(r.target)} ${r.path} ${r.host}`;
  };
  it('reads absolute-form http URLs', () => {
    expect(t('http://example.org/a?b=c')).toBe('example.org:80 /a?b=c example.org');
    expect(t('http://example.org')).toBe('example.org:80 / example.org');
    expect(t('http://[2001:db8::1]:8080/x')).toBe('[2001:db8::1]:8080 /x [2001:db8::1]:8080');
    expect(t('http://user:pw@10.0.0.1:81/')).toBe('10.0.0.1:81 / 10.0.0.1:81');
  });
  it('refuses other schemes, malformed authorities and ports', () => {
    expect(t('https://example.org/')).toBe('unsupported-scheme');
    expect(t('/relative')).toBe('bad-target');
    expect(t('http://[::1/')).toBe('bad-host');
    expect(t('http://::1/')).toBe('bad-host');
    expect(t('http://host:99999/')).toBe('bad-port');
    expect(t('http://host:x/')).toBe('bad-port');
    expect(t('http:///path')).toBe('bad-host');
    expect(t('http://bad_host!/')).toBe('bad-host');
  });
  it('reads CONNECT authorities, port required', () => {
    const ok = parseConnectAuthority('example.org:443');
    expect(!('code' in ok) && formatTarget(ok)).toBe('example.org:443');
    const v6 = parseConnectAuthority('[::1]:443');
    expect(!('code' in v6) && formatTarget(v6)).toBe('[::1]:443');
    expect(parseConnectAuthority('example.org')).toMatchObject({ code: 'bad-port' });
    expect(parseConnectAuthority('example.org:0')).toMatchObject({ code: 'bad-port' });
  });
});

describe('Basic credentials', () => {
  it('decodes user:pass (colons allowed in the password) and rejects the rest', () => {
    const h = `Basic ${Buffer.from('bob:pa:ss').toString('base64')}`;
    expect(parseBasicCredentials(h)).toEqual({ username: 'bob', password: 'pa:ss' });
    expect(parseBasicCredentials('Bearer abc')).toBeUndefined();
    expect(parseBasicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
    expect(parseBasicCredentials(undefined)).toBeUndefined();
  });
});
