/**
 * The proxy end to end in network namespaces (support/topology.ts): curl on a client host
 * with two paths, our client and aggregator over kernel MPTCP (one subflow per path), a web
 * host behind the aggregator. Proves: SOCKS5 (socks5h names, IPv4 and IPv6 literals), HTTP
 * CONNECT and plain-http proxying, HTTPS through CONNECT and SOCKS5 (test CA), 100 parallel downloads of 1 KiB to 64 MiB and 16 MiB
 * uploads byte-exact (sha256), both paths
 * carrying data, every stream an MPTCP connection with a joined subflow (nstat, ss -M),
 * Happy Eyeballs preferring IPv6 for a dual-stack name, the destination policy (loopback
 * refused), wrong secret and wrong pinned fingerprint refused, a path going down
 * mid-download, and a restarted aggregator serving the next request without manual action.
 *
 * Root only (namespaces); always runs in CI, elsewhere skips saying why.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privilegedSkipReason } from '../support/privileges.js';
import { createSelfSigned } from '../../proxy/tls/certificate.js';
import { body, sha256 } from '../unit/proxy/helpers.js';
import { ADDR, createTopology, destroyTopology, linkSet, NS, nsExec, nstat, rxBytes, startProgram, txBytes, WEB_NAME, type Program } from './support/topology.js';

const skip = privilegedSkipReason('proxy end to end in namespaces (test/e2e)', ['ip', 'tc', 'nstat', 'ss', 'curl']) !== undefined;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Outside the linted tree (ESLint ignores node_modules/), inside the project so that the
// build's imports of npm packages resolve.
const DIST = join(ROOT, 'node_modules/.cache/mptcp-proxy-e2e');
const CLI = join(DIST, 'proxy/cli/main.js');
const ADDON = join(ROOT, 'mptcp/native/build/Release/mptcp_kernel.node');
const WEB = join(ROOT, 'test/e2e/peers/web-server.mjs');
const SECRET = 'e2e secret, long enough';
const MiB = 1024 * 1024;
const PORT = 8443;
const web = (path: string, host: string = ADDR.web4) => `http://${host.includes(':') ? `[${host}]` : host}:8080${path}`;

interface Curl {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function curlIn(ns: string, args: string[], timeoutS = 60): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', String(timeoutS), ...args], { encoding: 'buffer', maxBuffer: 128 * MiB }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

const expectedSha = new Map<number, string>();
const shaOf = (size: number) => {
  let s = expectedSha.get(size);
  if (s === undefined) expectedSha.set(size, (s = sha256(body(size))));
  return s;
};

describe.skipIf(skip)('proxy end to end over kernel MPTCP in namespaces', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-');
  let webServer: Program;
  let aggregator: Program;
  let client: Program;
  const extra: Program[] = [];
  let fingerprint = '';
  const env = { MPTCP_KERNEL_ADDON: ADDON };

  const aggConfig = join(dir, 'aggregator.yaml');
  const startAggregator = async () => {
    const p = startProgram(NS.agg, 'node', [CLI, 'aggregator', '--config', aggConfig], env);
    await p.waitFor(/listening on/);
    return p;
  };
  const startClient = async (name: string, port: number, over: { secret?: string; fingerprint?: string } = {}) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `transport: kernel
aggregator:
  host: ${ADDR.agg1}
  port: ${PORT}
  fingerprint: ${over.fingerprint ?? fingerprint}
  clientId: laptop
  secret: ${JSON.stringify(over.secret ?? SECRET)}
listen: [127.0.0.1:${port}]
requestTimeoutSeconds: 10
`,
    );
    const p = startProgram(NS.client, 'node', [CLI, 'client', '--config', file], env);
    await p.waitFor(/proxy on/);
    return p;
  };

  beforeAll(async () => {
    // The CLI runs from a build inside the namespaces; other folders' type errors do not stop
    // tsc from emitting, so only a missing output counts.
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', DIST], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      /* type errors elsewhere in the tree: the emitted JS is still there */
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} missing after build`);
    createTopology();
    // A test CA's certificate for the web host's HTTPS side (name web.e2e).
    const webTls = createSelfSigned('e2e test web', 1, new Date(), [WEB_NAME]);
    writeFileSync(join(dir, 'web-cert.pem'), webTls.certPem);
    writeFileSync(join(dir, 'web-key.pem'), webTls.keyPem);
    webServer = startProgram(NS.web, 'node', [WEB, '8080', '8443', join(dir, 'web-cert.pem'), join(dir, 'web-key.pem')]);
    await webServer.waitFor(/listening/);
    writeFileSync(
      aggConfig,
      `transport: kernel
listen: 0.0.0.0:${PORT}
stateDir: ${join(dir, 'state')}
clients:
  - id: laptop
    secret: ${JSON.stringify(SECRET)}
limits:
  refusalDelayMs: 300
destinations:
  allow: [10.71.3.0/24, "fd71:3::/64"]
`,
    );
    aggregator = await startAggregator();
    const m = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(aggregator.output());
    if (!m) throw new Error(`no fingerprint in:\n${aggregator.output()}`);
    fingerprint = m[1];
    expect(aggregator.output()).toMatch(/created TLS certificate/);
    expect(aggregator.output()).toContain(`clientId: laptop`);
    client = await startClient('client', 1080);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([client, aggregator, webServer, ...extra].filter((p) => p !== undefined).map((p) => p.stop()));
    destroyTopology();
  });

  const socks = ['--socks5-hostname', '127.0.0.1:1080'];
  const httpProxy = ['-x', 'http://127.0.0.1:1080'];

  it('serves 100 parallel downloads (1 KiB to 64 MiB) through SOCKS5, CONNECT and plain http, byte-exact over both paths', async () => {
    const rx0 = [rxBytes(NS.client, 'e2ec1'), rxBytes(NS.client, 'e2ec2')];
    const agg0 = nstat(NS.agg, ['MPTcpExtMPCapableSYNRX', 'MPTcpExtMPJoinSynRx']);
    const ways: [string, string[], string][] = [
      ['socks5h, IPv4', socks, ADDR.web4],
      ['socks5h, IPv6 literal', socks, ADDR.web6],
      ['socks5h, name', socks, WEB_NAME],
      ['CONNECT', ['-p', ...httpProxy], ADDR.web4],
      ['plain http', httpProxy, ADDR.web4],
    ];
    // 1 KiB, 2 KiB, ... 4 MiB in turn over the five ways, and two 64 MiB downloads.
    const plan = Array.from({ length: 98 }, (_, i) => ({ way: ways[i % ways.length], size: 1024 << i % 13 }));
    plan.push({ way: ways[0], size: 64 * MiB }, { way: ways[3], size: 64 * MiB });
    const jobs = plan.map(({ way: [label, args, host], size }, i) => {
      const out = join(dir, `down-${i}`);
      return { label, size, out, run: curlIn(NS.client, ['-o', out, ...args, web(`/bytes/${size}`, host)], 120) };
    });
    let total = 0;
    for (const j of jobs) {
      const r = await j.run;
      expect(r.stderr, `${j.label} ${j.size}`).toBe('');
      const got = readFileSync(j.out);
      rmSync(j.out);
      expect(got.length, `${j.label} ${j.size}`).toBe(j.size);
      expect(sha256(got), `${j.label} ${j.size}`).toBe(shaOf(j.size));
      total += j.size;
    }
    const rx = [rxBytes(NS.client, 'e2ec1') - rx0[0], rxBytes(NS.client, 'e2ec2') - rx0[1]];
    console.log(`e2e: ${jobs.length} parallel downloads, ${(total / MiB).toFixed(1)} MiB; path 1 received ${(rx[0] / MiB).toFixed(1)} MiB, path 2 ${(rx[1] / MiB).toFixed(1)} MiB`);
    for (const r of rx) expect(r).toBeGreaterThan(total * 0.15);
    const agg1 = nstat(NS.agg, ['MPTcpExtMPCapableSYNRX', 'MPTcpExtMPJoinSynRx']);
    const capable = agg1.MPTcpExtMPCapableSYNRX - agg0.MPTcpExtMPCapableSYNRX;
    const joins = agg1.MPTcpExtMPJoinSynRx - agg0.MPTcpExtMPJoinSynRx;
    console.log(`e2e: aggregator accepted ${capable} MPTCP connections and ${joins} joined subflows`);
    expect(capable).toBeGreaterThanOrEqual(jobs.length);
    expect(joins).toBeGreaterThanOrEqual(jobs.length);
    // The pool's idle streams are MPTCP sockets on the aggregator's port.
    expect(nsExec(NS.agg, 'ss', ['-Mn', 'state', 'established'])).toContain(`:${PORT}`);
  }, 180_000);

  it('uploads 16 MiB byte-exact through SOCKS5 and through the HTTP proxy, over both paths', async () => {
    const file = join(dir, 'upload.bin');
    const data = body(16 * MiB, 1);
    writeFileSync(file, data);
    const tx0 = [txBytes(NS.client, 'e2ec1'), txBytes(NS.client, 'e2ec2')];
    const [a, b] = await Promise.all([
      curlIn(NS.client, [...socks, '--data-binary', `@${file}`, web('/upload')]),
      curlIn(NS.client, [...httpProxy, '--data-binary', `@${file}`, web('/upload')]),
    ]);
    expect(a.stdout.toString()).toBe(sha256(data));
    expect(b.stdout.toString()).toBe(sha256(data));
    const tx = [txBytes(NS.client, 'e2ec1') - tx0[0], txBytes(NS.client, 'e2ec2') - tx0[1]];
    console.log(`e2e: uploads of 2 x 16 MiB; path 1 sent ${(tx[0] / MiB).toFixed(1)} MiB, path 2 ${(tx[1] / MiB).toFixed(1)} MiB`);
    for (const t of tx) expect(t).toBeGreaterThan(32 * MiB * 0.15);
  });

  it('carries HTTPS end to end: CONNECT and SOCKS5 to a server with a test CA, certificate checked by curl', async () => {
    const ca = ['--cacert', join(dir, 'web-cert.pem')];
    const size = 3 * MiB;
    const viaConnect = await curlIn(NS.client, [...ca, ...httpProxy, `https://${WEB_NAME}:8443/bytes/${size}`]);
    expect(viaConnect.stderr).toBe('');
    expect(sha256(viaConnect.stdout)).toBe(shaOf(size));
    const viaSocks = await curlIn(NS.client, [...ca, ...socks, `https://${WEB_NAME}:8443/bytes/${size}`]);
    expect(viaSocks.stderr).toBe('');
    expect(sha256(viaSocks.stdout)).toBe(shaOf(size));
    // The certificate check is real: a wrong name fails.
    const wrongName = await curlIn(NS.client, [...ca, ...socks, `https://${ADDR.web4}:8443/bytes/1`]);
    expect(wrongName.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  });

  it('connects to a dual-stack name over IPv6 first (Happy Eyeballs v2)', async () => {
    const r = await curlIn(NS.client, [...socks, `http://${WEB_NAME}:8080/whoami`]);
    expect(r.stdout.toString()).toBe(ADDR.aggWeb6);
  });

  it('refuses loopback destinations at the aggregator: SOCKS5 reply 2, HTTP 403', async () => {
    const s = await curlIn(NS.client, ['-v', ...socks, `http://127.0.0.1:${PORT}/`]);
    expect(s.code).toBe(97); // CURLE_PROXY
    expect(s.stderr).toMatch(/\(2\)/);
    const name = await curlIn(NS.client, ['-o', '/dev/null', '-w', '%{http_code}', ...httpProxy, 'http://localhost:8080/']);
    expect(name.stdout.toString()).toBe('403');
    // A refused CONNECT: curl reports the proxy's answer as http_connect.
    const v6 = await curlIn(NS.client, ['-o', '/dev/null', '-w', '%{http_connect}', '-p', ...httpProxy, 'http://[::1]:8080/']);
    expect(v6.stdout.toString()).toBe('403');
  });

  it('refuses a wrong client secret and a wrong pinned fingerprint', async () => {
    const wrongSecret = await startClient('wrong-secret', 1081, { secret: 'this is not the secret' });
    const wrongPin = await startClient('wrong-pin', 1082, { fingerprint: fingerprint.replace(/^./, (c) => (c === '0' ? '1' : '0')) });
    extra.push(wrongSecret, wrongPin);
    const a = await curlIn(NS.client, ['-o', '/dev/null', '-w', '%{http_code}', '-x', 'http://127.0.0.1:1081', web('/bytes/10')]);
    expect(a.stdout.toString()).toBe('502');
    const b = await curlIn(NS.client, ['-o', '/dev/null', '-w', '%{http_code}', '-x', 'http://127.0.0.1:1082', web('/bytes/10')]);
    expect(b.stdout.toString()).toBe('502');
    await aggregator.waitFor(/refused unauthenticated stream: bad proof from 'laptop'/);
    await wrongPin.waitFor(/is not the pinned/);
    await Promise.all([wrongSecret.stop(), wrongPin.stop()]);
  });

  it('finishes a download when the first path goes down in the middle of it', async () => {
    const size = 40 * MiB;
    const run = curlIn(NS.client, [...socks, web(`/bytes/${size}`)], 90);
    await new Promise((r) => setTimeout(r, 1500));
    linkSet(NS.client, 'e2ec1', 'down');
    let r: Curl;
    try {
      r = await run;
    } finally {
      linkSet(NS.client, 'e2ec1', 'up');
    }
    expect(r.stderr).toBe('');
    expect(sha256(r.stdout)).toBe(shaOf(size));
  });

  it('serves new requests after the aggregator restarts, without manual action', async () => {
    await aggregator.stop();
    aggregator = await startAggregator();
    expect(aggregator.output()).toMatch(/loaded TLS certificate/);
    expect(aggregator.output()).toContain(fingerprint);
    const r = await curlIn(NS.client, [...socks, web('/bytes/200000')]);
    expect(r.stderr).toBe('');
    expect(sha256(r.stdout)).toBe(shaOf(200_000));
    expect(readFileSync(join(dir, 'state', 'aggregator-cert.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  });
});
