/**
 * What the two mptcp-proxy contenders share: start our aggregator on the lab's aggregator and
 * our client on the lab's client (the CLI from dist/, generated configs, TLS 1.3 with the
 * aggregator's pinned fingerprint), with a chosen transport on each side, and download through
 * the client's SOCKS5 listener. The client uses every path's address; the aggregator listens
 * on the lab's service address, reachable over every path.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../../lab/lab.js';
import { REPO_ROOT } from '../../../lab/paths.js';
import { MANY_FILES, WEB_PORT, runFlow, type Contender, type DownloadOptions, type FlowReport } from '../contender.js';

const CLI = join(REPO_ROOT, 'dist', 'proxy', 'cli', 'main.js');
const AGG_PORT = 7443;
const SOCKS_PORT = 1081;

/** `extraYaml`: top-level keys added to both ends' configuration (e.g. `congestion: cubic`). */
export function mptcpProxyContender(name: string, description: string, aggregatorTransport: 'userspace' | 'kernel', extraYaml: string[] = []): Contender {
  let procs: ChildProcess[] = [];
  let dir = '';
  const start = async (lab: Lab, host: 'client' | 'aggregator', args: string[], ready: RegExp): Promise<string> => {
    const p = lab.spawn(host, [...MANY_FILES, process.execPath, CLI, ...args]);
    procs.push(p);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: ${host} not ready: ${seen.slice(-400)}`)), 30_000);
      const onData = (d: Buffer) => {
        seen += d.toString();
        if (ready.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout?.on('data', onData);
      p.stderr?.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name}: ${host} exited (${code}): ${seen.slice(-400)}`));
      });
    });
    p.stdout?.resume();
    p.stderr?.resume();
    return seen;
  };
  return {
    name,
    description,
    unavailable: () => (existsSync(CLI) ? undefined : `${CLI} missing (npm run build)`),
    async setup(lab: Lab) {
      dir = mkdtempSync(join(tmpdir(), `${name}-`));
      const secret = randomBytes(24).toString('hex');
      const aggFile = join(dir, 'aggregator.yaml');
      writeFileSync(
        aggFile,
        [`transport: ${aggregatorTransport}`, `listen: ${lab.plan.aggregator.v4}:${AGG_PORT}`, `stateDir: ${join(dir, 'state')}`, 'clients:', `  - { id: bench, secret: "${secret}" }`, 'destinations:', `  allow: [${lab.plan.web.v4}/32]`, ...extraYaml, ''].join('\n'),
      );
      const out = await start(lab, 'aggregator', ['aggregator', '--config', aggFile], /listening on/);
      const fp = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(out)?.[1];
      if (fp === undefined) throw new Error(`${name}: the aggregator printed no fingerprint`);
      const clientFile = join(dir, 'client.yaml');
      writeFileSync(
        clientFile,
        [
          'transport: userspace',
          'paths:',
          ...lab.plan.paths.map((p) => `  - ${p.client.v4}`),
          'aggregator:',
          `  host: ${lab.plan.aggregator.v4}`,
          `  port: ${AGG_PORT}`,
          `  fingerprint: ${fp}`,
          '  clientId: bench',
          `  secret: "${secret}"`,
          `listen: [127.0.0.1:${SOCKS_PORT}]`,
          ...extraYaml,
          '',
        ].join('\n'),
      );
      await start(lab, 'client', ['client', '--config', clientFile], /aggregator .* over/);
    },
    download(lab: Lab, opts: DownloadOptions): Promise<FlowReport> {
      return runFlow(lab, { connect: [lab.plan.web.v4, WEB_PORT], socks: ['127.0.0.1', SOCKS_PORT] }, opts);
    },
    pids: () => procs.map((p) => p.pid ?? 0).filter((p) => p > 0),
    teardown() {
      for (const p of procs) p.kill('SIGKILL');
      procs = [];
      if (dir) rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
