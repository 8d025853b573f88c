/**
 * Contender "kernel MPTCP" (the ceiling): no proxy at all. The download server runs on the
 * aggregator and the downloader on the client, both under `mptcpize run`, so the Linux kernel's
 * MPTCP carries the transfer over every path (the lab configures the path manager).
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../../lab/lab.js';
import { FLOW_PEER } from '../../../lab/paths.js';
import { which } from '../../../support/privileges.js';
import { MANY_FILES, runFlow, startServer, type Contender, type DownloadOptions, type FlowReport } from '../contender.js';

const PORT = 6001;
let server: ChildProcess | undefined;

export const contender: Contender = {
  name: 'kernel-mptcp',
  description: 'Linux kernel MPTCP end to end, no proxy (mptcpize run on both ends): the ceiling',
  unavailable: () => (which('mptcpize') === undefined ? 'mptcpize missing (Debian package mptcpd)' : undefined),
  async setup(lab: Lab) {
    server = await startServer(lab, 'aggregator', [...MANY_FILES, 'mptcpize', 'run', process.execPath, FLOW_PEER, 'server', '--port', String(PORT)], /listening/);
  },
  download(lab: Lab, opts: DownloadOptions): Promise<FlowReport> {
    return runFlow(lab, { connect: [lab.plan.aggregator.v4, PORT], mptcp: true }, opts);
  },
  pids: () => [],
  teardown() {
    server?.kill('SIGKILL');
    server = undefined;
    return Promise.resolve();
  },
};
