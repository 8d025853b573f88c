/**
 * The YAML loaders (proxy/config): defaults, every problem reported at once with its path
 * and line, unknown keys, and the shipped examples in config/ load as they are.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { ConfigError } from '../../../proxy/config/reader.js';

const FP = 'ab'.repeat(32);

function issues(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}${i.line !== undefined ? `@${i.line}` : ''}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('client config', () => {
  it('fills defaults: userspace transport on every address, loopback listener on 1080, pool 2..16', () => {
    const c = parseClientConfig(`aggregator:\n  host: 203.0.113.1\n  fingerprint: "${FP.toUpperCase().match(/../g)?.join(':')}"\n  clientId: me\n  secret: 0123456789abcdef\n`);
    expect(c.transport).toBe('userspace');
    expect(c.paths).toEqual([]);
    expect(c.listen).toEqual([{ host: '127.0.0.1', port: 1080 }]);
    expect(c.aggregator).toMatchObject({ port: 8443, fingerprint: FP });
    expect(c.pool).toEqual({ min: 2, max: 16, idleSeconds: 50 });
    expect(c.plaintext).toBe(false);
  });

  it('reports every problem with its path and line', () => {
    const found = issues(() =>
      parseClientConfig(`transport: quantum
aggregator:
  host: 203.0.113.1
  fingerprint: abc
  clientId: "has space"
  secret: short
listen: [nonsense]
pool: { min: 5, max: 2 }
colour: blue
`),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'aggregator.fingerprint@4: must be a SHA-256 fingerprint (64 hex digits, colons allowed)',
        'aggregator.clientId@5: must be 1..64 of A-Z a-z 0-9 . _ -',
        'aggregator.secret@6: must be at least 16 characters',
        "listen.0@7: 'nonsense' is not host:port (IPv6 in brackets)",
        'pool.max@8: must be >= pool.min',
        'transport@1: must be one of: kernel, tcp, userspace',
        'colour@9: unknown key',
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it('needs a fingerprint unless plaintext is chosen explicitly', () => {
    expect(issues(() => parseClientConfig('aggregator: { host: h, clientId: me, secret: 0123456789abcdef }'))).toEqual([
      'aggregator.fingerprint: required (the aggregator prints it on start), unless plaintext: true',
    ]);
    expect(parseClientConfig('plaintext: true\naggregator: { host: h, clientId: me, secret: 0123456789abcdef }').plaintext).toBe(true);
  });

  it('reports YAML syntax errors with a line', () => {
    expect(issues(() => parseClientConfig('aggregator: [\n'))[0]).toMatch(/^\(yaml\)@\d+/);
  });

  it('takes paths for the userspace transport: addresses, or address with backup and device', () => {
    const head = `aggregator: { host: h, clientId: me, secret: 0123456789abcdef, fingerprint: "${FP}" }\n`;
    const c = parseClientConfig(`${head}paths:\n  - 10.0.1.1\n  - { address: "fd00::2", backup: true, device: wwan0 }\n`);
    expect(c.paths).toEqual([
      { address: '10.0.1.1', backup: false, device: undefined },
      { address: 'fd00::2', backup: true, device: 'wwan0' },
    ]);
    expect(issues(() => parseClientConfig(`${head}paths: [wlan0, 10.0.1.1, 10.0.1.1, { address: 10.0.2.1, colour: red }]\n`))).toEqual([
      "paths.0@2: 'wlan0' is not an IP address (a path is a local address)",
      'paths.2@2: duplicate path 10.0.1.1',
      'paths.3.colour@2: unknown key',
    ]);
    expect(issues(() => parseClientConfig(`${head}transport: kernel\npaths: [10.0.1.1]\n`))).toEqual([
      "paths@3: only the userspace transport takes paths (with 'kernel', set them up in the OS)",
    ]);
  });
});

describe('aggregator config', () => {
  it('defaults to loopback and refuses duplicate clients, short secrets and bad CIDRs', () => {
    const ok = parseAggregatorConfig('clients:\n  - { id: a, secret: 0123456789abcdef }\n');
    expect(ok.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(ok.destinations.allow).toEqual([]);
    const found = issues(() => parseAggregatorConfig('clients:\n  - { id: a, secret: 0123456789abcdef }\n  - { id: a, secret: short }\ndestinations:\n  allow: [10.0.0.0/33]\n'));
    expect(found).toEqual(expect.arrayContaining(["clients.1.id@3: duplicate client id 'a'", 'clients.1.secret@3: must be at least 16 characters', "destinations.allow.0@5: '10.0.0.0/33' is not an IP address or CIDR prefix"]));
    expect(issues(() => parseAggregatorConfig('listen: 0.0.0.0:8443\n'))).toEqual(['clients: at least one client (id and secret) is required']);
  });

  it('defaults to the userspace transport, which listens on an IP address and an explicit port', () => {
    const clients = 'clients:\n  - { id: a, secret: 0123456789abcdef }\n';
    expect(parseAggregatorConfig(clients).transport).toBe('userspace');
    expect(parseAggregatorConfig(`${clients}listen: "[::]:443"\n`).listen).toEqual({ host: '::', port: 443 });
    expect(issues(() => parseAggregatorConfig(`${clients}listen: agg.example:8443\n`))).toEqual(["listen@3: the userspace transport listens on an IP address or 0.0.0.0 / [::], not 'agg.example'"]);
    expect(issues(() => parseAggregatorConfig(`${clients}listen: 10.0.0.1:0\n`))).toEqual(['listen@3: the userspace transport needs an explicit port']);
    expect(parseAggregatorConfig(`${clients}transport: tcp\nlisten: localhost:0\n`).listen).toEqual({ host: 'localhost', port: 0 });
  });
});

describe('shipped examples', () => {
  it('config/client.example.yaml and config/aggregator.example.yaml load', () => {
    const root = new URL('../../../config/', import.meta.url);
    expect(parseClientConfig(readFileSync(new URL('client.example.yaml', root), 'utf8')).listen.length).toBeGreaterThan(0);
    expect(parseAggregatorConfig(readFileSync(new URL('aggregator.example.yaml', root), 'utf8')).clients.length).toBeGreaterThan(0);
  });
});
