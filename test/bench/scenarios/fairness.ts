/**
 * The fairness scenario "shared-bottleneck" (issue 7's target: at a shared bottleneck one
 * multipath connection takes no more than one TCP flow's share, within 20%; RFC 6356 §2 goal 2).
 *
 * Both paths' download direction crosses one bottleneck on the aggregator (the lab's
 * `sharedBottleneck`: 20 Mbit/s of Ethernet frames, a 100-frame FIFO, about three times the
 * bandwidth-delay product); the emulators only add 10 ms each way on both paths. The lab's
 * kernel TCP is pinned to Reno, RFC 6356's reference TCP, for the competing flow and kernel
 * MPTCP's subflows alike: the machine's default might be BBR, and a namespace may take CUBIC as
 * its default only where the machine allows it (net.ipv4.tcp_allowed_congestion_control), while
 * Reno is always allowed. A plain single-path kernel TCP download (flow.mjs server on the aggregator,
 * the downloader bound to the primary path's client address: no proxy, no MPTCP) starts first;
 * after a lead the contender downloads through its usual path; then the TCP flow is stopped.
 * Both flows' goodput is taken over the same window, the contender's download (request to last
 * byte), the TCP flow's from its progress samples (wall-clock ms, bytes) interpolated at the
 * window's ends. Also: the ratio contender / TCP (1 = one TCP's share; uncoupled two-path
 * congestion control comes out near 2), how busy the bottleneck was (frame bytes it sent
 * during the download over its capacity) with its tail drops, and the frame rate on the second
 * path, which only the contender uses (a contender that looks fair by using one path shows 0).
 */
import type { Lab } from '../../lab/lab.js';
import { FLOW_PEER } from '../../lab/paths.js';
import type { TopologySpec } from '../../lab/topology.js';
import type { Measurement, RunOptions, Scenario } from './catalog.js';
import { MANY_FILES, startFlow, startServer, type Contender, type FlowReport, type Transfer } from './contender.js';

const MiB = 1024 * 1024;
const BOTTLENECK_MBIT = 20;
const BOTTLENECK_QUEUE = 100;
/** The competing flow's server on the aggregator (kernel-mptcp's is 6001). */
const TCP_PORT = 6002;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes delivered by wall-clock time `at`, interpolated between progress samples; null outside them. */
export function bytesAt(progress: readonly [number, number][], at: number): number | null {
  if (progress.length === 0 || at < progress[0][0] || at > progress[progress.length - 1][0]) return null;
  for (let i = 1; i < progress.length; i++) {
    const [t1, b1] = progress[i];
    if (at > t1) continue;
    const [t0, b0] = progress[i - 1];
    return t1 === t0 ? b1 : b0 + ((b1 - b0) * (at - t0)) / (t1 - t0);
  }
  return progress[0][1];
}

/** The contender's and the competing flow's goodput over the contender's download, Mbit/s. */
export function fairShare(contender: Transfer, tcp: Transfer): { contender: number; tcp: number | null } {
  const ms = contender.doneMs ?? 0;
  const from = bytesAt(tcp.progress, contender.start);
  const to = bytesAt(tcp.progress, contender.start + ms);
  const mbit = (bytes: number) => (bytes * 8) / (ms * 1000);
  return { contender: mbit(contender.bytes), tcp: from === null || to === null ? null : mbit(to - from) };
}

function first(r: FlowReport, who: string): Transfer {
  const t = r.results?.[0];
  if (t === undefined) throw new Error(`${who}: the downloader returned no transfer`);
  return t;
}

const topology: TopologySpec = {
  name: 'shared-bottleneck',
  tcpCongestion: 'reno',
  sharedBottleneck: { rate: `${BOTTLENECK_MBIT}mbit`, queue: BOTTLENECK_QUEUE },
  paths: [
    { name: 'a', delay: '10ms' },
    { name: 'b', delay: '10ms' },
  ],
};

async function measure(lab: Lab, contender: Contender, opts: RunOptions): Promise<Measurement> {
  const primary = lab.paths[lab.plan.primary].plan;
  // Only the contender uses the other path: how much of its download went that way.
  const second = lab.paths[lab.plan.primary === 0 ? 1 : 0];
  // 48 MiB: about 20 s at half the bottleneck, several of the TCP flow's sawtooth cycles.
  const bytes = opts.quick ? 4 * MiB : 48 * MiB;
  const timeoutMs = opts.quick ? 30_000 : 120_000;
  const server = await startServer(lab, 'aggregator', [...MANY_FILES, process.execPath, FLOW_PEER, 'server', '--port', String(TCP_PORT)], /listening/);
  try {
    // Far more than it can fetch before it is stopped.
    const tcp = startFlow(lab, { connect: [primary.aggregator.v4, TCP_PORT], local: primary.client.v4 }, { bytes: 64 * 1024 * MiB, progressMs: 100, timeoutMs: timeoutMs + 30_000 });
    let report: FlowReport;
    let link: { bytes: number; ms: number; drops: number; secondPathBytes: number };
    let tcpReport: FlowReport | undefined;
    let stopError: unknown;
    try {
      await sleep(opts.quick ? 1000 : 2000);
      const before = lab.bottleneckStats();
      const secondBefore = (await second.stats()).downlink.deliveredBytes;
      const t0 = performance.now();
      report = await contender.download(lab, { bytes, timeoutMs, progressMs: 100 });
      const after = lab.bottleneckStats();
      const secondAfter = (await second.stats()).downlink.deliveredBytes;
      link = { bytes: after.sentBytes - before.sentBytes, ms: performance.now() - t0, drops: after.drops - before.drops, secondPathBytes: secondAfter - secondBefore };
    } finally {
      // Stopped even when the contender failed; a failure to stop must not hide that one.
      try {
        tcpReport = await tcp.stop();
      } catch (e) {
        stopError = e;
      }
    }
    if (tcpReport === undefined) throw stopError;
    const c = first(report, 'contender');
    const t = first(tcpReport, 'competing TCP flow');
    const ok = c.error === null && c.doneMs !== null;
    const share = ok ? fairShare(c, t) : null;
    const tcpError = t.error === 'stopped' ? null : `competing TCP flow: ${t.error ?? 'ended before it was stopped'}`;
    return {
      metrics: {
        'contender Mbit/s': share?.contender ?? null,
        'TCP Mbit/s': share?.tcp ?? null,
        'ratio contender/TCP': share === null || share.tcp === null || share.tcp === 0 ? null : share.contender / share.tcp,
        'link utilisation %': (100 * link.bytes * 8) / (link.ms * BOTTLENECK_MBIT * 1000),
        'queue drops': link.drops,
        '2nd path Mbit/s': (link.secondPathBytes * 8) / (link.ms * 1000),
        error: c.error ?? tcpError,
      },
      window: { start: c.start, end: c.start + (c.doneMs ?? 0) },
    };
  } finally {
    server.kill('SIGKILL');
  }
}

export const sharedBottleneck: Scenario = {
  name: 'shared-bottleneck',
  group: 'fairness',
  description:
    `both paths' downloads cross one ${BOTTLENECK_MBIT} Mbit/s bottleneck (${BOTTLENECK_QUEUE}-frame FIFO; 10 ms one way on each path, kernel TCP Reno); ` +
    'a single-path kernel TCP download starts 2 s (quick: 1 s) before the contender downloads 48 MiB (quick: 4); goodput of both over the contender\'s download, ' +
    'ratio contender / TCP (target at most 1.2), bottleneck utilisation (frame bytes), tail drops and the second path\'s frame rate (only the contender uses it) over the same time',
  topology,
  plot: false,
  run: measure,
};
