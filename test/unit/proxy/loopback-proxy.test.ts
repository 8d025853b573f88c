/**
 * Client and aggregator in this process on loopback, driven by curl (a real SOCKS5 and HTTP
 * proxy client): SOCKS5 with remote names, HTTP CONNECT, absolute-form http:// with
 * keep-alive and hop-by-hop fields removed, uploads; refusals (destination policy, closed
 * port) with the right SOCKS5 code / HTTP status; wrong secret and wrong pinned fingerprint
 * refused and counted; over plain TCP and over kernel MPTCP.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKernelBindingUnavailable, loadKernelMptcpBinding } from '../../../mptcp/driver/kernel-mptcp-binding.js';
import { which } from '../../support/privileges.js';
import { body, curl, sha256, startPair, startWeb, type Pair } from './helpers.js';

const noCurl = which('curl') === undefined;
if (noCurl && process.env.CI === 'true') throw new Error('curl missing in CI (bash test/system-deps.sh)');
/** Why kernel MPTCP cannot be used here (no addon, or the kernel refuses IPPROTO_MPTCP). */
function kernelMptcpMissing(): string | undefined {
  const b = loadKernelMptcpBinding();
  if (isKernelBindingUnavailable(b)) return b.reason;
  try {
    b.closeFd(b.openMptcp(4, null, 0, false));
    return undefined;
  } catch (e) {
    return `the kernel refuses MPTCP sockets (${e instanceof Error ? e.message : String(e)}; sysctl net.mptcp.enabled=1)`;
  }
}
const kernelMissing = process.platform === 'linux' ? kernelMptcpMissing() : 'not Linux';
if (kernelMissing !== undefined) {
  if (process.env.CI === 'true' && process.platform === 'linux') throw new Error(`kernel MPTCP transport must be tested in CI: ${kernelMissing}`);
  console.warn(`SKIPPED: proxy over kernel MPTCP on loopback: ${kernelMissing}`);
}
const kernelOk = kernelMissing === undefined;

let web: Awaited<ReturnType<typeof startWeb>>;
let closedPort = 0;
beforeAll(async () => {
  web = await startWeb();
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedPort = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
});
afterAll(() => web.server.close());

for (const transport of ['tcp', 'kernel'] as const) {
  describe.skipIf(noCurl || (transport === 'kernel' && !kernelOk))(`proxy on loopback over ${transport}`, () => {
    let pair: Pair;
    beforeAll(async () => {
      pair = await startPair({ transport });
    });
    afterAll(async () => pair.close());
    const socks = () => ['--socks5-hostname', `127.0.0.1:${pair.proxyPort}`];
    const proxy = () => ['-x', `http://127.0.0.1:${pair.proxyPort}`];

    it('SOCKS5 with a remote name (socks5h) downloads byte-exact', async () => {
      const r = await curl([...socks(), `http://localhost:${web.port}/bytes/1000000`]);
      expect(r.stderr).toBe('');
      expect(sha256(r.stdout)).toBe(sha256(body(1_000_000)));
    });

    it('SOCKS5 to an IPv6 literal', async () => {
      const web6 = await startWeb('::1');
      const r = await curl([...socks(), `http://[::1]:${web6.port}/bytes/4096`]);
      web6.server.close();
      expect(r.stderr).toBe('');
      expect(sha256(r.stdout)).toBe(sha256(body(4096)));
    });

    it('HTTP CONNECT downloads byte-exact', async () => {
      const r = await curl(['-p', ...proxy(), `http://127.0.0.1:${web.port}/bytes/300000`]);
      expect(r.stderr).toBe('');
      expect(sha256(r.stdout)).toBe(sha256(body(300_000)));
    });

    it('absolute-form requests keep the client connection alive and drop hop-by-hop fields', async () => {
      const before = pair.client.counters.get('connections');
      const r = await curl(['-v', ...proxy(), `http://127.0.0.1:${web.port}/bytes/5000`, `http://127.0.0.1:${web.port}/bytes/7000`]);
      expect(r.stdout.length).toBe(12_000);
      expect(r.stderr).toMatch(/Re-using existing connection/);
      expect(pair.client.counters.get('connections') - before).toBe(1);
      const h = await curl([...proxy(), '-H', 'Connection: X-Secret, close', '-H', 'X-Secret: 1', '-H', 'Keep-Alive: 300', '-H', 'X-Kept: yes', `http://127.0.0.1:${web.port}/echo-headers`]);
      const seen = JSON.parse(h.stdout.toString()) as Record<string, string>;
      expect(seen['x-kept']).toBe('yes');
      expect(seen['host']).toBe(`127.0.0.1:${web.port}`);
      for (const hop of ['x-secret', 'keep-alive', 'proxy-connection']) expect(seen[hop]).toBeUndefined();
    });

    it('uploads byte-exact through SOCKS5 and through the HTTP proxy', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'up-')), 'up.bin');
      const data = body(3_000_000, 9);
      writeFileSync(file, data);
      const a = await curl([...socks(), '--data-binary', `@${file}`, `http://127.0.0.1:${web.port}/upload`]);
      const b = await curl([...proxy(), '--data-binary', `@${file}`, `http://127.0.0.1:${web.port}/upload`]);
      expect(a.stdout.toString()).toBe(sha256(data));
      expect(b.stdout.toString()).toBe(sha256(data));
    });

    it('refusals carry the right SOCKS5 reply code and HTTP status', async () => {
      const refused = await curl(['-v', ...socks(), `http://127.0.0.1:${closedPort}/`]);
      expect(refused.code).toBe(97); // CURLE_PROXY, with the SOCKS5 reply code in the message
      expect(refused.stderr).toMatch(/\(5\)/); // connection refused
      const timeout = await curl(['-v', ...socks(), 'http://no-such-name.invalid/']);
      expect(timeout.stderr).toMatch(/\(4\)/); // host unreachable for a name that does not resolve
      const http = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', ...proxy(), `http://127.0.0.1:${closedPort}/`]);
      expect(http.stdout.toString()).toBe('502');
      const nx = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', ...proxy(), 'http://no-such-name.invalid/']);
      expect(nx.stdout.toString()).toBe('502');
    });
  });
}

describe.skipIf(noCurl)('refusals between client and aggregator', () => {
  it('refuses destinations outside the policy: SOCKS5 0x02, HTTP 403', async () => {
    const pair = await startPair({ transport: 'tcp', aggYaml: '' });
    try {
      // The pair allows 127.0.0.0/8; 169.254.169.254 (metadata) stays refused.
      const r = await curl(['-v', '--socks5-hostname', `127.0.0.1:${pair.proxyPort}`, 'http://169.254.169.254/latest/meta-data/']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/\(2\)|not allowed/i);
      const h = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${pair.proxyPort}`, 'http://169.254.169.254/']);
      expect(h.stdout.toString()).toBe('403');
      expect(pair.aggregator.counters.get('requestsNotAllowed')).toBe(2);
    } finally {
      await pair.close();
    }
  });

  it('a wrong secret is refused and counted; the application gets a failure', async () => {
    const pair = await startPair({ transport: 'tcp', secret: 'not the right secret at all' });
    try {
      const r = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${pair.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/10`]);
      expect(r.stdout.toString()).toBe('502');
      expect(pair.aggregator.counters.get('authBadProof')).toBeGreaterThan(0);
      expect(pair.aggregator.counters.get('authenticated')).toBe(0);
    } finally {
      await pair.close();
    }
  });

  it('a wrong pinned fingerprint stops the client before it sends anything', async () => {
    const pair = await startPair({ transport: 'tcp', fingerprint: 'ab'.repeat(32) });
    try {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${pair.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/10`]);
      expect(r.code).not.toBe(0);
      expect(pair.client.pool.stats.openFailed).toBeGreaterThan(0);
      expect(pair.aggregator.counters.get('authenticated')).toBe(0);
      expect(pair.aggregator.counters.get('requests')).toBe(0);
    } finally {
      await pair.close();
    }
  });

  it('plaintext works only when both sides are configured for it', async () => {
    const pair = await startPair({ transport: 'tcp', plaintext: true });
    try {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${pair.proxyPort}`, `http://127.0.0.1:${web.port}/bytes/1000`]);
      expect(sha256(r.stdout)).toBe(sha256(body(1000)));
    } finally {
      await pair.close();
    }
  });
});
