/**
 * What the privileged driver tests and their namespace child (ns-child.ts) share: the job
 * description passed on the command line and the constants both sides judge packets by.
 * Kept apart from ns-child.ts, which runs its job when imported.
 */
import type { PortRange } from '../../../mptcp/driver/ports.js';

export interface Job {
  kind: 'batch' | 'handshake' | 'guard' | 'unprivileged';
  family: 4 | 6;
  local: string;
  other: string;
  remote: string;
  device: string;
  serverPort: number;
  ports: PortRange;
  guard: boolean;
  guardName?: string;
  mark: number;
}

/** Hop limit (TTL) of the RSTs we send ourselves, to tell them from the kernel's (64). */
export const OUR_HOPS = 77;
/** Initial sequence number of our SYNs. */
export const ISN = 1000;
