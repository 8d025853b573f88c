/**
 * Contender "microsocks-best-path": a single-path SOCKS5 proxy (microsocks) on the aggregator,
 * reached over the best path only (highest rate, then lowest delay, chosen when each download
 * starts): what a user gets without multipath.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../../lab/lab.js';
import { which } from '../../../support/privileges.js';
import { MANY_FILES, WEB_PORT, bestPath, runFlow, startServer, type Contender, type DownloadOptions, type FlowReport } from '../contender.js';

const PORT = 1081;
let proc: ChildProcess | undefined;

export const contender: Contender = {
  name: 'microsocks-best-path',
  description: 'single-path SOCKS5 (microsocks) over the best path',
  unavailable: () => (which('microsocks') === undefined ? 'microsocks missing (Debian package microsocks)' : undefined),
  async setup(lab: Lab) {
    proc = await startServer(lab, 'aggregator', [...MANY_FILES, 'microsocks', '-i', lab.plan.aggregator.v4, '-p', String(PORT)], 500);
  },
  download(lab: Lab, opts: DownloadOptions): Promise<FlowReport> {
    return runFlow(lab, { connect: [lab.plan.web.v4, WEB_PORT], socks: [lab.plan.aggregator.v4, PORT], local: bestPath(lab).plan.client.v4 }, opts);
  },
  pids: () => (proc?.pid === undefined ? [] : [proc.pid]),
  teardown() {
    proc?.kill('SIGKILL');
    proc = undefined;
    return Promise.resolve();
  },
};
