/**
 * Whether the lab's privileged tests can run: root, Linux, the tools the lab and its contenders
 * use, and the AF_PACKET addon. In CI (CI=true) a missing prerequisite fails the run
 * (test/support/privileges.ts); elsewhere the tests skip with the reason.
 */
import { privilegedSkipReason } from '../../support/privileges.js';
import { isPacketBindingUnavailable, loadPacketBinding } from '../packet-binding.js';

export function labSkipReason(what: string, tools: readonly string[] = ['ip', 'ethtool', 'iptables', 'ping']): string | undefined {
  const base = privilegedSkipReason(what, tools);
  if (base !== undefined) return base;
  const b = loadPacketBinding();
  if (!isPacketBindingUnavailable(b)) return undefined;
  const reason = `packet I/O addon: ${b.reason}`;
  if (process.env.CI === 'true') throw new Error(`${what} must run in CI (CI=true), but: ${reason}`);
  console.warn(`SKIPPED: ${what}: ${reason}`);
  return reason;
}
