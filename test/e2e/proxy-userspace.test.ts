/**
 * The proxy end to end over our userspace MPTCP (`transport: userspace` at both ends: raw
 * sockets, no kernel MPTCP), in network namespaces built by proxy/demo/topology.ts: a client
 * host with two rate-limited paths, the aggregator, a web host. curl downloads through SOCKS5
 * (socks5h) and HTTP CONNECT and uploads through SOCKS5, sha256 equal, each path's interface
 * counters showing a real share of the bytes, and no kernel socket listening on the
 * aggregator's port (the stack on raw sockets is what answers). Then `mptcp-proxy demo
 * --self-test` (what `npm start` runs, non-interactive) as root, and as an unprivileged user:
 * the CLI refuses the userspace transport naming the fix, and the demo falls back to loopback.
 *
 * Root only (namespaces, raw sockets); always runs in CI, elsewhere skips saying why.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTopology, linkBytes } from '../../proxy/demo/topology.js';
import { privilegedSkipReason } from '../support/privileges.js';
import { body, sha256 } from '../unit/proxy/helpers.js';
import { startProgram, type Program } from './support/topology.js';

const skip = privilegedSkipReason('proxy end to end over userspace MPTCP (test/e2e)', ['ip', 'tc', 'ethtool', 'nft', 'ss', 'curl', 'runuser']) !== undefined;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Its own build (the kernel e2e file builds into another folder at the same time).
const DIST = join(ROOT, 'node_modules/.cache/mptcp-proxy-e2e-userspace');
const CLI = join(DIST, 'proxy/cli/main.js');
const WEB = join(ROOT, 'test/e2e/peers/web-server.mjs');
const env = { MPTCP_RAW_ADDON: join(ROOT, 'mptcp/native/build/Release/mptcp_raw.node') };
const SECRET = 'userspace e2e secret, long enough';
const MiB = 1024 * 1024;
const PORT = 8443;
const topo = defineTopology({ tag: 'u2e', net: 72, rateMbit: [60, 60], rawSockets: true });
const { ns: NS, addr: ADDR } = topo;

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutS = 90): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 128 * MiB, timeout: timeoutS * 1000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

const curlIn = (ns: string, args: string[]) => run('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '90', ...args]);

describe.skipIf(skip)('proxy end to end over userspace MPTCP in namespaces', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-us-');
  const programs: Program[] = [];

  beforeAll(async () => {
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', DIST], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      /* type errors elsewhere in the tree: the emitted JS is still there */
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} missing after build`);
    topo.create();
    const web = startProgram(NS.web, 'node', [WEB, '8080']);
    programs.push(web);
    await web.waitFor(/listening/);
    const aggConfig = join(dir, 'aggregator.yaml');
    // No `transport:` line: userspace is the default.
    writeFileSync(aggConfig, `listen: 0.0.0.0:${PORT}\nstateDir: ${join(dir, 'state')}\nclients:\n  - { id: laptop, secret: ${JSON.stringify(SECRET)} }\ndestinations:\n  allow: [10.72.3.0/24]\n`);
    const agg = startProgram(NS.agg, 'node', [CLI, 'aggregator', '--config', aggConfig], env);
    programs.push(agg);
    await agg.waitFor(/listening on .* over userspace/);
    const fingerprint = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(agg.output())?.[1];
    if (fingerprint === undefined) throw new Error(`no fingerprint in:\n${agg.output()}`);
    const clientConfig = join(dir, 'client.yaml');
    // No paths: every global address of the client host (its two path addresses).
    writeFileSync(clientConfig, `aggregator:\n  host: ${ADDR.agg1}\n  port: ${PORT}\n  fingerprint: ${fingerprint}\n  clientId: laptop\n  secret: ${JSON.stringify(SECRET)}\nlisten: [127.0.0.1:1080]\n`);
    const client = startProgram(NS.client, 'node', [CLI, 'client', '--config', clientConfig], env);
    programs.push(client);
    await client.waitFor(/over userspace MPTCP \(paths: every global address/);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const socks = ['--socks5-hostname', '127.0.0.1:1080'];
  const connect = ['-p', '-x', 'http://127.0.0.1:1080'];
  const url = (size: number) => `http://web.u2e:8080/bytes/${size}`;

  it('downloads through SOCKS5 and HTTP CONNECT byte-exact, both paths carrying data, no kernel listener', async () => {
    const rx0 = topo.dev.client.map((d) => linkBytes(NS.client, d).rx);
    const plan: [string, string[], number][] = [
      ['socks5h', socks, 16 * MiB],
      ['CONNECT', connect, 16 * MiB],
      ['socks5h', socks, 1 * MiB],
      ['CONNECT', connect, 3 * MiB],
    ];
    const runs = await Promise.all(plan.map(([, args, size]) => curlIn(NS.client, [...args, url(size)])));
    let total = 0;
    runs.forEach((r, i) => {
      const [way, , size] = plan[i];
      expect(r.stderr, way).toBe('');
      expect(r.stdout.length, way).toBe(size);
      expect(sha256(r.stdout), way).toBe(sha256(body(size)));
      total += size;
    });
    const rx = topo.dev.client.map((d, i) => linkBytes(NS.client, d).rx - rx0[i]);
    console.log(`e2e userspace: ${(total / MiB).toFixed(0)} MiB down; path 1 received ${(rx[0] / MiB).toFixed(1)} MiB, path 2 ${(rx[1] / MiB).toFixed(1)} MiB`);
    for (const r of rx) expect(r).toBeGreaterThan(total * 0.15);
    // Our stack answers on raw sockets: the kernel has no TCP or MPTCP listener on the port.
    expect(topo.exec(NS.agg, 'ss', ['-Htln', `sport = :${PORT}`]).trim()).toBe('');
  }, 120_000);

  it('uploads 16 MiB through SOCKS5 byte-exact over both paths', async () => {
    const file = join(dir, 'upload.bin');
    const data = body(16 * MiB, 1);
    writeFileSync(file, data);
    const tx0 = topo.dev.client.map((d) => linkBytes(NS.client, d).tx);
    const r = await curlIn(NS.client, [...socks, '--data-binary', `@${file}`, 'http://web.u2e:8080/upload']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(sha256(data));
    const tx = topo.dev.client.map((d, i) => linkBytes(NS.client, d).tx - tx0[i]);
    console.log(`e2e userspace: 16 MiB up; path 1 sent ${(tx[0] / MiB).toFixed(1)} MiB, path 2 ${(tx[1] / MiB).toFixed(1)} MiB`);
    for (const t of tx) expect(t).toBeGreaterThan(16 * MiB * 0.15);
  }, 120_000);

  it('npm start (the demo) runs non-interactively: two paths in namespaces, curl through it, torn down', async () => {
    const r = await run('node', [CLI, 'demo', '--self-test'], 120);
    const out = r.stdout.toString();
    expect(r.code, out + r.stderr).toBe(0);
    expect(out).toContain('our userspace MPTCP between client and aggregator');
    expect(out).toMatch(/curl --socks5-hostname 10\.73\.9\.2:1080 http:\/\/web\.mpd:8080\//);
    expect(out).toMatch(/self-test: SOCKS5 \(socks5h\): ok/);
    expect(out).toMatch(/self-test: HTTP CONNECT: ok/);
    expect(out).toContain('(both carried data)');
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/^mpd(cli|agg|web)\b/m);
  }, 150_000);

  describe('as an unprivileged user (nobody)', () => {
    const asNobody = (args: string[]) => run('runuser', ['-u', 'nobody', '--', 'node', CLI, ...args], 60);
    const fp = 'ab'.repeat(32);

    it('the client and the aggregator refuse the userspace transport, naming the fix, exit 1', async () => {
      const c = join(dir, 'nobody-client.yaml');
      const a = join(dir, 'nobody-aggregator.yaml');
      writeFileSync(c, `aggregator: { host: 127.0.0.1, clientId: me, secret: 0123456789abcdef, fingerprint: "${fp}" }\n`);
      writeFileSync(a, `clients:\n  - { id: me, secret: 0123456789abcdef }\n`);
      chmodSync(dir, 0o755);
      for (const f of [c, a]) chmodSync(f, 0o644);
      for (const [cmd, file] of [
        ['client', c],
        ['aggregator', a],
      ]) {
        const r = await asNobody([cmd, '--config', file]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`mptcp-proxy ${cmd}: transport 'userspace' unavailable: needs root`);
        expect(r.stderr).toContain("fix: run as root (sudo), or set 'transport: kernel'");
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      }
    });

    it('the demo says what it needs and falls back to a loopback proxy that works', async () => {
      const r = await asNobody(['demo', '--self-test']);
      const out = r.stdout.toString();
      expect(r.code, out + r.stderr).toBe(0);
      expect(out).toContain('the two-path demo needs');
      expect(out).toContain('sudo npm start');
      expect(out).toMatch(/self-test: SOCKS5 \(socks5h\): ok/);
      expect(out).toMatch(/self-test: HTTP CONNECT: ok/);
      expect(out).toContain('self-test: passed (loopback fallback)');
    });
  });
});
