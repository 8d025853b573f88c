/**
 * The `lossDemotion` setting shared by the client and aggregator configs: above which loss a
 * subflow of the userspace transport is demoted half a tier, and below which it is promoted
 * back (MptcpConfig.demoteLossRatio / promoteLossRatio, mptcp/connection/loss-demotion.ts).
 *
 *   lossDemotion: { demoteAbovePercent: 5, promoteBelowPercent: 2 }   # the defaults
 *   lossDemotion: off
 */
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import type { ConfigReader } from './reader.js';

export interface LossDemotionSetting {
  /** 0: off. */
  demoteLossRatio: number;
  promoteLossRatio: number;
}

export function readLossDemotion(r: ConfigReader): LossDemotionSetting {
  const dflt = { demoteLossRatio: DEFAULT_MPTCP_CONFIG.demoteLossRatio, promoteLossRatio: DEFAULT_MPTCP_CONFIG.promoteLossRatio };
  if (r.value(['lossDemotion']) === 'off') return { ...dflt, demoteLossRatio: 0 };
  if (!r.section(['lossDemotion'])) return dflt;
  const demote = r.number(['lossDemotion', 'demoteAbovePercent'], dflt.demoteLossRatio * 100, 0.5, 50, false);
  const promote = r.number(['lossDemotion', 'promoteBelowPercent'], dflt.promoteLossRatio * 100, 0, 50, false);
  if (promote >= demote) r.problem(['lossDemotion', 'promoteBelowPercent'], `${promote} is not below demoteAbovePercent (${demote})`);
  return { demoteLossRatio: demote / 100, promoteLossRatio: Math.min(promote, demote) / 100 };
}
