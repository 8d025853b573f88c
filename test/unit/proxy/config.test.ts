/**
 * The YAML loaders (proxy/config): defaults; every kind of problem reported with its exact
 * line and column (unknown key at the key with a suggestion, wrong type, out of range, bad
 * enum, bad rate, bad CIDR, duplicate name, dangling path reference, YAML syntax, missing
 * environment secret); every problem at once; and the shipped examples in config/ load as
 * they are (the client's policy example also uncommented).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { DEFAULT_SCHEDULER, parseClientConfig } from '../../../proxy/config/client-config.js';
import type { ConfigEnvironment } from '../../../proxy/config/reader.js';
import { configProblems } from '../../support/config-problems.js';

const FP = 'ab'.repeat(32);
const NO_ENV: ConfigEnvironment = {
  env: {},
  readFile: () => {
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  },
};
/** A valid client head (lines 1-5); tests append from line 6. */
const HEAD = `aggregator:\n  host: 203.0.113.1\n  fingerprint: ${FP}\n  clientId: me\n  secret: 0123456789abcdef\n`;

const problems = configProblems;
const client = (yaml: string, env: ConfigEnvironment = NO_ENV) => problems(() => parseClientConfig(yaml, 'client.yaml', env));
const aggregator = (yaml: string, env: ConfigEnvironment = NO_ENV) => problems(() => parseAggregatorConfig(yaml, 'aggregator.yaml', env));

describe('client config', () => {
  it('fills defaults: userspace transport on every address, loopback listener on 1080, pool 2..16, ecf, no rules', () => {
    const c = parseClientConfig(`aggregator:\n  host: 203.0.113.1\n  fingerprint: "${FP.toUpperCase().match(/../g)?.join(':')}"\n  clientId: me\n  secret: 0123456789abcdef\n`);
    expect(c.transport).toBe('userspace');
    expect(c.paths).toEqual([]);
    expect(c.listen).toEqual([{ host: '127.0.0.1', port: 1080 }]);
    expect(c.aggregator).toMatchObject({ port: 8443, fingerprint: FP });
    expect(c.pool).toEqual({ min: 2, max: 16, idleSeconds: 50 });
    expect(c.plaintext).toBe(false);
    expect(c.policy).toEqual({ scheduler: DEFAULT_SCHEDULER, paths: [], rules: [] });
    expect(DEFAULT_SCHEDULER).toBe('ecf');
  });

  it('unknown key: at the key, with the nearest known key or the allowed ones', () => {
    expect(client(`${HEAD}listn: [127.0.0.1:1080]\n`)).toEqual(["6:1 listn: unknown key 'listn' (did you mean 'listen'?)"]);
    expect(client(`${HEAD}pool:\n  min: 1\n  mxa: 4\n`)).toEqual(["8:3 pool.mxa: unknown key 'mxa' (did you mean 'max'?)"]);
    expect(client(`${HEAD}pool: { colour: blue }\n`)).toEqual(["6:9 pool.colour: unknown key 'colour' (allowed here: idleSeconds, max, min)"]);
    expect(client(`${HEAD}policy: 0\n`)).toEqual(["6:1 policy: the numeric 'policy' placeholder is gone: delete this line (the policy is scheduler:, paths: and rules:)"]);
    expect(client(`${HEAD}paths:\n  - { address: 10.0.0.1, adress: 10.0.0.2 }\n`)).toEqual(["7:26 paths.0.adress: unknown key 'adress' (did you mean 'address'?)"]);
  });

  it('wrong type, out of range, bad enum: the value quoted and what is allowed, at the value', () => {
    expect(client(`${HEAD}pool:\n  max: lots\n`)).toEqual(["7:8 pool.max: 'lots' is not a number (allowed: an integer 0..1024)"]);
    expect(client(`${HEAD}listen: 127.0.0.1:1080\n`)).toEqual(["6:9 listen: expected a list, got '127.0.0.1:1080'"]);
    expect(client(HEAD.replace('  clientId: me', '  port: 70000\n  clientId: me'))).toEqual(['4:9 aggregator.port: 70000 is out of range (1..65535)']);
    expect(client(`${HEAD}maxHeaderBytes: 2048.5\n`)).toEqual(['6:17 maxHeaderBytes: 2048.5 is not an integer (allowed: 1024..1048576)']);
    expect(client(`${HEAD}transport: quantum\n`)).toEqual(["6:12 transport: 'quantum' is not one of: kernel, tcp, userspace"]);
    expect(client(`${HEAD}scheduler: lowest_rtt\n`)).toEqual(["6:12 scheduler: 'lowest_rtt' is not one of: lowest-rtt, ecf, blest, round-robin, weighted, redundant (did you mean 'lowest-rtt'?)"]);
    expect(client(`${HEAD}plaintext: yes\n`)).toEqual(["6:12 plaintext: 'yes' is not true or false"]);
  });

  it('bad rate, size and duration on a path', () => {
    expect(client(`${HEAD}paths:\n  - name: fiber\n    address: 10.0.0.1\n    upload: 20mbits\n    download: fast\n    keepalive: 2w\n    dataCap: { limit: 30XB }\n`)).toEqual([
      "9:13 paths.0.upload: '20mbits': unknown rate unit 'mbits' (expected a rate like 20mbit, 500kbit, 1gbit (bit/s), 2.5MB/s or 800KiB/s (bytes/s), or a number of bit/s)",
      "10:15 paths.0.download: 'fast': expected a rate like 20mbit, 500kbit, 1gbit (bit/s), 2.5MB/s or 800KiB/s (bytes/s), or a number of bit/s",
      "11:16 paths.0.keepalive: '2w': unknown duration unit 'w' (expected a duration like 500ms, 25s, 2m, 1h, or a number of seconds)",
      "12:23 paths.0.dataCap.limit: '30XB': unknown size unit 'XB' (expected a size like 30GB (10^9 bytes), 1.5GiB (2^30 bytes), 500MB, or a number of bytes)",
    ]);
    expect(client(`${HEAD}paths:\n  - { name: a, address: 10.0.0.1, upload: 10bit }\n`)).toEqual(["7:43 paths.0.upload: '10bit' is out of range (1000..1000000000000 bit/s)"]);
  });

  it('bad CIDR and bad glob in a rule match', () => {
    expect(client(`${HEAD}rules:\n  - match:\n      cidrs: [10.0.0.0/33]\n      hosts: ["exa mple.com", "*.ok.org"]\n`)).toEqual([
      "8:15 rules.0.match.cidrs.0: '10.0.0.0/33' is not an IP address or CIDR prefix (e.g. 151.101.0.0/16, 2001:db8::/32)",
      "9:15 rules.0.match.hosts.0: 'exa mple.com' is not a host glob (letters, digits, '.', '-' and '*', e.g. *.example.com)",
    ]);
  });

  it('duplicate names and addresses, dangling path references, rules that match or leave nothing', () => {
    const yaml = `${HEAD}paths:
  - { name: fiber, address: 10.0.0.1 }
  - { name: fiber, address: 10.0.0.2 }
  - { name: lte, addresses: [10.0.0.3, 10.0.0.1] }
rules:
  - { name: a, match: { ports: [22] }, excludePaths: [fibre] }
  - { name: a, match: { ports: [80] }, paths: [lte, wifi] }
  - { name: c, match: {} }
  - { name: d, match: { ports: [443] }, paths: [lte], excludePaths: [lte] }
`;
    expect(client(yaml)).toEqual([
      "8:13 paths.1.name: duplicate path name 'fiber'",
      '9:40 paths.2.addresses.1: address 10.0.0.1 is already path \'fiber\' (each address belongs to one path)',
      "11:55 rules.0.excludePaths.0: unknown path 'fibre' (did you mean 'fiber'?)",
      "12:13 rules.1.name: duplicate rule name 'a'",
      "12:53 rules.1.paths.1: unknown path 'wifi' (paths are: fiber, lte)",
      '13:23 rules.2.match: matches nothing: give hosts, cidrs and/or ports',
      "14:5 rules.3: rule 'd' leaves no path for its connections (paths minus excludePaths is empty)",
    ]);
  });

  it('role and tier exclude each other (at the second key); a path needs an address or interface', () => {
    expect(client(`${HEAD}paths:\n  - name: a\n    address: 10.0.0.1\n    role: backup\n    tier: 2\n  - name: b\n`)).toEqual([
      '10:5 paths.0.tier: role and tier are mutually exclusive (role: primary | backup, or tier: 0..7)',
      '11:5 paths.1: a path needs address, addresses or interface',
    ]);
  });

  it('YAML syntax errors: only those, at their position', () => {
    expect(client('aggregator:\n  host: [1, 2\nlisten: x\n')).toEqual([expect.stringMatching(/^3:\d+ \(yaml\): /) as unknown as string]);
    expect(client('a: 1\na: 2\n')).toEqual(['2:1 (yaml): Map keys must be unique']);
  });

  it('missing environment secret: at the env value', () => {
    expect(client(HEAD.replace('secret: 0123456789abcdef', 'secret: { env: MPTCP_SECRET }'))).toEqual(["5:18 aggregator.secret.env: environment variable 'MPTCP_SECRET' is not set"]);
  });

  it('a missing required key is placed at its nearest present parent', () => {
    expect(client(HEAD.replace('  host: 203.0.113.1\n', ''))).toEqual(['1:1 aggregator.host: required']);
    expect(client(`${HEAD}auth: { username: me }\n`)).toEqual(['6:1 auth.password: required (a string, { env: NAME } or { file: PATH })']);
  });

  it('reports every problem at once: five problems, five lines, in file order', () => {
    const found = client(`transport: quantum
aggregator:
  host: 203.0.113.1
  port: 0
  fingerprint: ${FP}
  clientId: "has space"
  secret: short
colour: blue
`);
    expect(found).toEqual([
      "1:12 transport: 'quantum' is not one of: kernel, tcp, userspace",
      '4:9 aggregator.port: 0 is out of range (1..65535)',
      "6:13 aggregator.clientId: 'has space' is not a client id (1..64 of A-Z a-z 0-9 . _ -)",
      '7:11 aggregator.secret: must be at least 16 characters (it has 5)',
      `8:1 colour: unknown key 'colour' (allowed here: aggregator, auth, congestion, connectTimeoutSeconds, handshakeTimeoutSeconds, httpListen, idleTimeoutSeconds, listen, lossDemotion, maxHeaderBytes, metrics, paths, plaintext, pool, queueDelayBudgetMs, requestTimeoutSeconds, rules, scheduler, socksListen, transport)`,
    ]);
  });

  it('queueDelayBudgetMs: 40 ms by default, a number of ms, or off (Infinity); anything else is a problem', () => {
    const base = 'plaintext: true\naggregator: { host: h, clientId: me, secret: 0123456789abcdef }\n';
    expect(parseClientConfig(base).queueDelayBudgetMs).toBe(40);
    expect(parseClientConfig(`${base}queueDelayBudgetMs: 12.5\n`).queueDelayBudgetMs).toBe(12.5);
    expect(parseClientConfig(`${base}queueDelayBudgetMs: off\n`).queueDelayBudgetMs).toBe(Infinity);
    expect(client(`${base}queueDelayBudgetMs: -1\n`)).toEqual(['3:21 queueDelayBudgetMs: -1 is out of range (0..10000)']);
    const agg = 'clients:\n  - { id: a, secret: 0123456789abcdef }\n';
    expect(parseAggregatorConfig(agg).queueDelayBudgetMs).toBe(40);
    expect(parseAggregatorConfig(`${agg}queueDelayBudgetMs: off\n`).queueDelayBudgetMs).toBe(Infinity);
    expect(aggregator(`${agg}queueDelayBudgetMs: fast\n`)).toHaveLength(1);
  });

  it('lossDemotion: 5% / 2% by default, percentages, or off; promotion must be below demotion', () => {
    const base = 'plaintext: true\naggregator: { host: h, clientId: me, secret: 0123456789abcdef }\n';
    expect(parseClientConfig(base).lossDemotion).toEqual({ demoteLossRatio: 0.05, promoteLossRatio: 0.02 });
    expect(parseClientConfig(`${base}lossDemotion: { demoteAbovePercent: 10, promoteBelowPercent: 3 }\n`).lossDemotion).toEqual({ demoteLossRatio: 0.1, promoteLossRatio: 0.03 });
    expect(parseClientConfig(`${base}lossDemotion: off\n`).lossDemotion.demoteLossRatio).toBe(0);
    expect(client(`${base}lossDemotion: { demoteAbovePercent: 2, promoteBelowPercent: 4 }\n`)).toEqual(['3:61 lossDemotion.promoteBelowPercent: 4 is not below demoteAbovePercent (2)']);
    expect(client(`${base}lossDemotion: { demoteAbove: 2 }\n`)).toHaveLength(1);
    const agg = 'clients:\n  - { id: a, secret: 0123456789abcdef }\n';
    expect(parseAggregatorConfig(`${agg}lossDemotion: off\n`).lossDemotion.demoteLossRatio).toBe(0);
    expect(aggregator(`${agg}lossDemotion: 7\n`)).toHaveLength(1);
  });

  it('needs a fingerprint unless plaintext is chosen explicitly', () => {
    expect(client('aggregator: { host: h, clientId: me, secret: 0123456789abcdef }')).toEqual(['1:1 aggregator.fingerprint: required (the aggregator prints it on start), unless plaintext: true']);
    expect(parseClientConfig('plaintext: true\naggregator: { host: h, clientId: me, secret: 0123456789abcdef }').plaintext).toBe(true);
  });

  it('older path forms still read: an address, or { address, backup, device }', () => {
    const c = parseClientConfig(`${HEAD}paths:\n  - 10.0.1.1\n  - { address: "fd00::2", backup: true, device: wwan0 }\n`);
    expect(c.paths.map((p) => [p.name, p.addresses, p.tier, p.interface, p.enabled, p.weight])).toEqual([
      ['path-0', ['10.0.1.1'], 0, undefined, true, 1],
      ['path-1', ['fd00::2'], 1, 'wwan0', true, 1],
    ]);
    expect(c.policy.paths).toBe(c.paths);
    expect(client(`${HEAD}paths: [wlan0, 10.0.1.1, "10.0.1.1", { address: 10.0.2.1, colour: red }]\n`)).toEqual([
      "6:9 paths.0: 'wlan0' is not an IP address (a path given as text is a local address; use { name, interface } for a device)",
      "6:26 paths.2: address 10.0.1.1 is already path 'path-1' (each address belongs to one path)",
      "6:59 paths.3.colour: unknown key 'colour' (allowed here: address, addresses, backup, dataCap, device, download, enabled, interface, keepalive, name, role, tier, upload, weight)",
    ]);
    expect(client(`${HEAD}transport: kernel\npaths: [10.0.1.1]\n`)).toEqual(["7:8 paths: only the userspace transport takes paths (with 'kernel', set them up in the OS)"]);
  });
});

describe('aggregator config', () => {
  it('defaults to loopback and refuses duplicate clients, short secrets and bad CIDRs', () => {
    const ok = parseAggregatorConfig('clients:\n  - { id: a, secret: 0123456789abcdef }\n');
    expect(ok.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(ok.destinations.allow).toEqual([]);
    expect(aggregator('clients:\n  - { id: a, secret: 0123456789abcdef }\n  - { id: a, secret: short }\ndestinations:\n  allow: [10.0.0.0/33]\n')).toEqual([
      "3:11 clients.1.id: duplicate client id 'a'",
      '3:22 clients.1.secret: must be at least 16 characters (it has 5)',
      "5:11 destinations.allow.0: '10.0.0.0/33' is not an IP address or CIDR prefix (e.g. 10.20.0.0/16, 2001:db8::/32)",
    ]);
    expect(aggregator('listen: 0.0.0.0:8443\n')).toEqual(['1:1 clients: at least one client (id and secret) is required']);
    expect(aggregator('clients:\n  - { id: a, secret: 0123456789abcdef }\nlimits:\n  idleTimeoutSecond: 5\n')).toEqual(["4:3 limits.idleTimeoutSecond: unknown key 'idleTimeoutSecond' (did you mean 'idleTimeoutSeconds'?)"]);
    expect(aggregator('clients:\n  - laptop\n')).toEqual(["2:5 clients.0: expected a map with id and secret, got 'laptop'"]);
  });

  it('defaults to the userspace transport, which listens on an IP address and an explicit port', () => {
    const clients = 'clients:\n  - { id: a, secret: 0123456789abcdef }\n';
    expect(parseAggregatorConfig(clients).transport).toBe('userspace');
    expect(parseAggregatorConfig(`${clients}listen: "[::]:443"\n`).listen).toEqual({ host: '::', port: 443 });
    expect(aggregator(`${clients}listen: agg.example:8443\n`)).toEqual(["3:9 listen: the userspace transport listens on an IP address or 0.0.0.0 / [::], not 'agg.example'"]);
    expect(aggregator(`${clients}listen: 10.0.0.1:0\n`)).toEqual(['3:9 listen: the userspace transport needs an explicit port']);
    expect(parseAggregatorConfig(`${clients}transport: tcp\nlisten: localhost:0\n`).listen).toEqual({ host: 'localhost', port: 0 });
  });
});

describe('shipped examples', () => {
  const root = new URL('../../../config/', import.meta.url);
  const clientExample = readFileSync(new URL('client.example.yaml', root), 'utf8');

  it('config/client.example.yaml and config/aggregator.example.yaml load', () => {
    expect(parseClientConfig(clientExample).listen.length).toBeGreaterThan(0);
    expect(parseAggregatorConfig(readFileSync(new URL('aggregator.example.yaml', root), 'utf8')).clients.length).toBeGreaterThan(0);
  });

  it("the client example's policy block loads once uncommented", () => {
    const lines = clientExample.split('\n');
    const from = lines.indexOf('# >>> policy example');
    const to = lines.indexOf('# <<< policy example');
    expect(from).toBeGreaterThan(0);
    const uncommented = [...lines.slice(0, from), ...lines.slice(from + 1, to).map((l) => l.replace(/^# ?/, '')), ...lines.slice(to + 1)].join('\n');
    const c = parseClientConfig(uncommented);
    expect(c.paths.map((p) => p.name)).toEqual(['fiber', 'lte', 'path-2']);
    expect(c.policy.rules.map((r) => r.name)).toEqual(['ssh', 'video', 'updates', 'bank']);
  });
});
