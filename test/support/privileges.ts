/**
 * Whether privileged tests (network namespaces, raw sockets, nftables) can run here. In CI
 * (CI=true) they must: a missing prerequisite throws. Elsewhere they skip with a message
 * saying why.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isUnavailable, loadRawSocketBinding } from '../../mptcp/driver/binding.js';

export function which(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.map((d) => join(d, tool)).find((f) => existsSync(f));
}

/** Undefined when `what` can run; otherwise the reason (printed), or a throw in CI. */
export function privilegedSkipReason(what: string, tools: readonly string[]): string | undefined {
  const reasons: string[] = [];
  if (process.platform !== 'linux') reasons.push(`not Linux (${process.platform})`);
  else if (process.getuid?.() !== 0) reasons.push('not root (raw sockets, nftables and network namespaces need it; run with sudo -E)');
  const b = loadRawSocketBinding();
  if (isUnavailable(b)) reasons.push(`native addon not built: ${b.reason}`);
  const missing = tools.filter((t) => which(t) === undefined);
  if (missing.length > 0) reasons.push(`missing tools: ${missing.join(', ')} (sudo bash test/system-deps.sh)`);
  if (reasons.length === 0) return undefined;
  const reason = reasons.join('; ');
  if (process.env.CI === 'true') throw new Error(`${what} must run in CI (CI=true), but: ${reason}`);
  console.warn(`SKIPPED: ${what}: ${reason}`);
  return reason;
}
