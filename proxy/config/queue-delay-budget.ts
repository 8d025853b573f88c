/**
 * The `queueDelayBudgetMs` setting shared by the client and aggregator configs: how much
 * queueing delay each subflow of the userspace transport may add at its path's bottleneck
 * (MptcpConfig.queueDelayBudgetMs, mptcp/tcp/inflight-cap.ts). A number of milliseconds, or
 * `off` for the congestion window alone (as the kernel's MPTCP).
 */
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import type { ConfigReader } from './reader.js';

export function readQueueDelayBudget(r: ConfigReader): number {
  if (r.value(['queueDelayBudgetMs']) === 'off') return Infinity;
  return r.number(['queueDelayBudgetMs'], DEFAULT_MPTCP_CONFIG.queueDelayBudgetMs, 0, 10_000, false);
}
