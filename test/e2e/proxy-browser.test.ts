/**
 * A real browser through the proxy (issue 5 §6): Debian's Chromium, headless, inside the
 * client host of a proxy/demo/topology.ts network, with --proxy-server pointing at our client
 * (userspace MPTCP to the aggregator over two paths). It loads a page of the web host with
 * 40 PNG images, 12 scripts and 12 stylesheets (test/e2e/peers/web-server.mjs, generated per
 * request) through SOCKS5, through the HTTP proxy (absolute-form requests) and over HTTPS
 * through the HTTP proxy (CONNECT; the test CA's key pinned with
 * --ignore-certificate-errors-spki-list). For each: the page's own script, run after the load
 * event, reports every image decoded, every script run and every stylesheet applied (read
 * from --dump-dom); the web host counted each resource request once, all from the aggregator
 * (the client host has no route to the web host); a screenshot is saved and its path logged.
 *
 * Root only (namespaces, raw sockets; Chromium runs as root, hence --no-sandbox); always runs
 * in CI, elsewhere skips saying why.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTopology } from '../../proxy/demo/topology.js';
import { createSelfSigned } from '../../proxy/tls/certificate.js';
import { privilegedSkipReason } from '../support/privileges.js';
import { buildCli, startUserspaceProxy, type UserspaceProxy } from './support/userspace-proxy.js';

const skip = privilegedSkipReason('a browser through the proxy in namespaces (test/e2e)', ['ip', 'tc', 'ethtool', 'nft', 'curl', 'chromium']) !== undefined;
const topo = defineTopology({ tag: 'brw', net: 74, rateMbit: [40, 20], rawSockets: true });
const { ns: NS, addr: ADDR } = topo;
// What the page holds (test/e2e/peers/web-server.mjs): images/scripts/stylesheets.
const PAGE = { images: 40, scripts: 12, styles: 12 };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Headless Chromium in the client host: dumps the DOM after the load event, saves a screenshot. */
function chromium(profile: string, proxy: string, screenshot: string, url: string, extra: string[] = []): Promise<Run> {
  const args = [
    'netns',
    'exec',
    NS.client,
    'chromium',
    '--headless',
    '--no-sandbox', // as root: the sandbox refuses to start
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking', // no requests of its own (updates, safe browsing)
    '--disable-component-update',
    `--user-data-dir=${profile}`, // a fresh profile: an empty cache, every resource fetched
    `--proxy-server=${proxy}`,
    '--window-size=1280,900',
    `--screenshot=${screenshot}`,
    '--dump-dom',
    ...extra,
    url,
  ];
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile('ip', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 45_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

describe.skipIf(skip)('headless Chromium through the proxy (userspace MPTCP, namespaces)', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-browser-');
  let proxy: UserspaceProxy | undefined;
  let spki = '';

  beforeAll(async () => {
    const cli = buildCli('mptcp-proxy-e2e-browser');
    topo.create();
    // HTTPS on the web host with a test CA's certificate for its name.
    const tls = createSelfSigned('e2e browser web', 1, new Date(), [topo.webName]);
    writeFileSync(join(dir, 'web-cert.pem'), tls.certPem);
    writeFileSync(join(dir, 'web-key.pem'), tls.keyPem);
    const der = new X509Certificate(tls.certPem).publicKey.export({ type: 'spki', format: 'der' });
    spki = createHash('sha256').update(der).digest('base64');
    // Chromium aborts a load on any address change (net::ERR_NETWORK_CHANGED): let the
    // client host's IPv6 link-local addresses finish duplicate address detection first.
    for (let i = 0; i < 100 && topo.exec(NS.client, 'ip', ['-6', 'addr', 'show', 'tentative']).trim() !== ''; i++) await new Promise((r) => setTimeout(r, 100));
    proxy = await startUserspaceProxy(topo, { cli, dir, secret: 'browser e2e secret, long enough', webArgs: ['8444', join(dir, 'web-cert.pem'), join(dir, 'web-key.pem')] });
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    topo.destroy();
    // The screenshots stay (their paths are logged); the profiles and configurations go.
    for (const f of readdirSync(dir)) if (!f.endsWith('.png')) rmSync(join(dir, f), { recursive: true, force: true });
  });

  const ways: [string, string, string, string[]][] = [
    ['socks5', 'socks5://127.0.0.1:1080', `http://${topo.webName}:8080`, []],
    ['http', 'http://127.0.0.1:1080', `http://${topo.webName}:8080`, []],
    ['https-connect', 'http://127.0.0.1:1080', `https://${topo.webName}:8444`, []],
  ];

  it.each(ways)('loads a page with %s: every image, script and stylesheet, screenshot saved', async (label, proxyServer, origin) => {
    const run = label.replace(/\W/g, '');
    const shot = join(dir, `page-${label}.png`);
    const extra = label === 'https-connect' ? [`--ignore-certificate-errors-spki-list=${spki}`] : [];
    const r = await chromium(join(dir, `profile-${run}`), proxyServer, shot, `${origin}/page/${run}`, extra);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const loaded = /data-loaded="(\d+)\/(\d+)\/(\d+)"/.exec(r.stdout);
    expect(loaded, `no load marker in the DOM:\n${r.stdout.slice(0, 500)}\n${r.stderr.slice(-2000)}`).not.toBeNull();
    expect(loaded?.slice(1).map(Number)).toEqual([PAGE.images, PAGE.scripts, PAGE.styles]);
    // The web host's own count, asked directly in its namespace.
    const count = topo.exec(NS.web, 'curl', ['-sS', '--max-time', '5', `http://${ADDR.web4}:8080/count/${run}`]);
    const seen = JSON.parse(count) as { requests: number; peers: string[] };
    expect(seen.requests).toBe(PAGE.images + PAGE.scripts + PAGE.styles);
    for (const peer of seen.peers) expect([ADDR.aggWeb6, `::ffff:${ADDR.aggWeb4}`]).toContain(peer);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    console.log(`e2e browser (${label}): ${seen.requests} resources loaded in ${r.ms} ms (Chromium start to exit), from ${seen.peers.join(', ')}; screenshot ${shot} (${statSync(shot).size} bytes)`);
  }, 60_000);
});
