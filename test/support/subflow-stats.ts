/**
 * A subflow's statistics (SubflowStats) for unit tests of what consumes them (path
 * accounting, metrics): an active subflow with zero counters, anything overridden.
 */
import type { SubflowStats } from '../../mptcp/connection/mptcp-types.js';

export function subflowStats(local: string, over: Partial<Omit<SubflowStats, 'tcp'>> & { tcp?: Partial<SubflowStats['tcp']> } = {}): SubflowStats {
  return {
    id: 1,
    local,
    remote: '10.0.0.2',
    localAddressId: 0,
    remoteAddressId: 0,
    phase: 'active',
    backup: false,
    localBackup: false,
    dataBytesSent: 0,
    dataBytesReceived: 0,
    scheduledBytes: 0,
    stale: false,
    tier: 0,
    lossDemoted: false,
    lossRatio: 0,
    closeReason: '',
    ...over,
    tcp: {
      state: 'ESTABLISHED',
      srttMs: 20,
      rttVarMs: 5,
      rtoMs: 200,
      cwnd: 14_600,
      ssthresh: 65_535,
      sendWindow: 65_535,
      receiveWindow: 65_535,
      bytesSent: 0,
      bytesReceived: 0,
      bytesAcked: 0,
      segmentsSent: 0,
      segmentsReceived: 0,
      retransmittedSegments: 0,
      retransmittedBytes: 0,
      fastRetransmits: 0,
      timeouts: 0,
      challengeAcks: 0,
      duplicateSegments: 0,
      outOfOrderSegments: 0,
      invalidSegments: 0,
      ...over.tcp,
    },
  };
}
