/**
 * Where the client and the aggregator report how long things took (handshakes, requests),
 * so that metrics (proxy/metrics) can keep histograms without the proxy depending on them.
 * The default sink drops everything.
 */
export type LatencyKind = 'handshake' | 'request';

export interface LatencySink {
  /** `seconds` spent on one `kind`; `ok` whether it succeeded. */
  observe(kind: LatencyKind, seconds: number, ok: boolean): void;
}

export const NO_LATENCY: LatencySink = { observe: () => undefined };

/** Starts a stopwatch; the returned function gives the seconds elapsed. */
export function stopwatch(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e9;
}
