/**
 * Contender "shadowsocks-mptcp": the OpenMPTCProuter data path. ss-local (SOCKS5) on the
 * client and ss-server on the aggregator (shadowsocks-libev, chacha20-ietf-poly1305 as OMR uses),
 * both under `mptcpize run` so the tunnel between them is kernel MPTCP over every path; the
 * aggregator then reaches the web host over plain TCP.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../../lab/lab.js';
import { which } from '../../../support/privileges.js';
import { MANY_FILES, WEB_PORT, runFlow, startServer, type Contender, type DownloadOptions, type FlowReport } from '../contender.js';

const SERVER_PORT = 8388;
const LOCAL_PORT = 1080;
const CRYPTO = ['-k', 'mptcp-proxy-bench', '-m', 'chacha20-ietf-poly1305', '-t', '120', '--no-delay'];
let procs: ChildProcess[] = [];

export const contender: Contender = {
  name: 'shadowsocks-mptcp',
  description: 'OpenMPTCProuter data path: shadowsocks-libev ss-local -> ss-server over kernel MPTCP (mptcpize)',
  unavailable: () => {
    const missing = ['ss-local', 'ss-server', 'mptcpize'].filter((t) => which(t) === undefined);
    return missing.length > 0 ? `missing ${missing.join(', ')} (Debian packages shadowsocks-libev, mptcpd)` : undefined;
  },
  async setup(lab: Lab) {
    procs.push(await startServer(lab, 'aggregator', [...MANY_FILES, 'mptcpize', 'run', 'ss-server', '-s', '0.0.0.0', '-p', String(SERVER_PORT), ...CRYPTO], 1000));
    procs.push(await startServer(lab, 'client', [...MANY_FILES, 'mptcpize', 'run', 'ss-local', '-s', lab.plan.aggregator.v4, '-p', String(SERVER_PORT), '-b', '127.0.0.1', '-l', String(LOCAL_PORT), ...CRYPTO], 1000));
  },
  download(lab: Lab, opts: DownloadOptions): Promise<FlowReport> {
    return runFlow(lab, { connect: [lab.plan.web.v4, WEB_PORT], socks: ['127.0.0.1', LOCAL_PORT] }, opts);
  },
  pids: () => procs.map((p) => p.pid ?? 0).filter((p) => p > 0),
  teardown() {
    for (const p of procs) p.kill('SIGKILL');
    procs = [];
    return Promise.resolve();
  },
};
