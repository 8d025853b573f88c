/**
 * Happy Eyeballs version 2 (RFC 8305) for a destination name: AAAA and A queries in parallel
 * (§3; after an A answer, wait up to the Resolution Delay of 50 ms for AAAA), addresses
 * interleaved by family starting with IPv6 (§4), connection attempts started one Connection
 * Attempt Delay (250 ms, §5) apart or as soon as the previous one fails, late answers merged
 * into the untried list, the first established connection wins and the others are cancelled.
 * Each address passes the destination policy before it is tried.
 *
 * Resolver, connector and policy are injected, so unit tests drive it with fakes and timers.
 */
import { parseIp, type IpBytes } from '../protocol/ip.js';
import { Status, statusFromErrorCode, type StatusCode } from '../protocol/status.js';
import type { DestinationVerdict } from './destination-policy.js';

export interface Attempt<T> {
  done: Promise<T>;
  cancel(): void;
}

export interface HappyEyeballsDeps<T> {
  /** Addresses of `name` for one family; [] or a rejection when there are none. */
  resolve(name: string, family: 4 | 6): Promise<string[]>;
  connect(address: string, port: number, family: 4 | 6): Attempt<T>;
  check(address: IpBytes): DestinationVerdict;
}

export interface HappyEyeballsOptions {
  resolutionDelayMs?: number;
  attemptDelayMs?: number;
  timeoutMs: number;
}

export type ConnectOutcome<T> = { ok: true; value: T; address: string } | { ok: false; status: StatusCode; reason: string };

interface Candidate {
  address: string;
  family: 4 | 6;
}

/** RFC 8305 §4: alternate families (IPv6 first unless told), keeping each family's order. */
export function interleave(v6: readonly string[], v4: readonly string[], first: 4 | 6 = 6): Candidate[] {
  const out: Candidate[] = [];
  const [a, b] = first === 6 ? [v6, v4] : [v4, v6];
  const [fa, fb]: [4 | 6, 4 | 6] = first === 6 ? [6, 4] : [4, 6];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push({ address: a[i], family: fa });
    if (i < b.length) out.push({ address: b[i], family: fb });
  }
  return out;
}

/** Connects to `host` (a name or an IP literal) on `port`. Never rejects. */
export function happyEyeballs<T>(host: string, port: number, deps: HappyEyeballsDeps<T>, opts: HappyEyeballsOptions): Promise<ConnectOutcome<T>> {
  const resolutionDelay = opts.resolutionDelayMs ?? 50;
  const attemptDelay = opts.attemptDelayMs ?? 250;
  return new Promise((resolve) => {
    let settled = false;
    const untried: Candidate[] = [];
    const seen = new Set<string>();
    const running = new Set<Attempt<T>>();
    const timers: NodeJS.Timeout[] = [];
    let answers = 0; // resolution answers received (of 2)
    let waitingForV6 = true;
    let refusedReason: string | undefined;
    let lastError: { status: StatusCode; reason: string } | undefined;
    let lastFamily: 4 | 6 | undefined; // of the latest attempt: the next one alternates
    let nextAttemptAt = 0; // timer pending for the next attempt
    let nextTimer: NodeJS.Timeout | undefined;

    const finish = (o: ConnectOutcome<T>) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      if (nextTimer) clearTimeout(nextTimer);
      for (const a of running) a.cancel();
      running.clear();
      resolve(o);
    };
    const maybeFail = () => {
      if (settled || running.size > 0 || untried.length > 0 || answers < 2) return;
      if (lastError) finish({ ok: false, ...lastError });
      else if (refusedReason !== undefined) finish({ ok: false, status: Status.notAllowed, reason: refusedReason });
      else finish({ ok: false, status: Status.nameNotFound, reason: `${host} has no address` });
    };
    const add = (addresses: readonly string[], family: 4 | 6) => {
      const fresh: string[] = [];
      for (const a of addresses) {
        const bytes = parseIp(a);
        if (bytes === undefined || seen.has(a)) continue;
        seen.add(a);
        const v = deps.check(bytes);
        if (!v.allowed) {
          refusedReason ??= `${a}: ${v.reason}`;
          continue;
        }
        fresh.push(a);
      }
      // Merge keeping the alternation of what is still untried (§3, §4).
      const v6 = untried.filter((c) => c.family === 6).map((c) => c.address);
      const v4 = untried.filter((c) => c.family === 4).map((c) => c.address);
      (family === 6 ? v6 : v4).push(...fresh);
      untried.splice(0, untried.length, ...interleave(v6, v4, lastFamily === 6 ? 4 : 6));
    };
    const startNext = () => {
      if (settled) return;
      if (nextTimer) {
        clearTimeout(nextTimer);
        nextTimer = undefined;
      }
      if (waitingForV6 && answers < 2 && !untried.some((c) => c.family === 6)) return; // resolution delay
      const c = untried.shift();
      if (c === undefined) return maybeFail();
      lastFamily = c.family;
      const attempt = deps.connect(c.address, port, c.family);
      running.add(attempt);
      attempt.done.then(
        (value) => {
          running.delete(attempt);
          if (settled) {
            attempt.cancel();
            return;
          }
          finish({ ok: true, value, address: c.address });
        },
        (e: unknown) => {
          running.delete(attempt);
          const code = (e as { code?: string } | undefined)?.code;
          lastError = { status: statusFromErrorCode(code), reason: `${c.address}: ${e instanceof Error ? e.message : String(e)}` };
          // A failure starts the next attempt at once (§5).
          startNext();
          maybeFail();
        },
      );
      nextAttemptAt = Date.now() + attemptDelay;
      nextTimer = setTimeout(startNext, attemptDelay);
    };
    const onAnswer = (family: 4 | 6, addresses: string[]) => {
      answers++;
      add(addresses, family);
      if (family === 6) waitingForV6 = false;
      if (family === 4 && waitingForV6 && answers < 2) {
        timers.push(
          setTimeout(() => {
            waitingForV6 = false;
            if (running.size === 0) startNext();
          }, resolutionDelay),
        );
      }
      if (running.size === 0 && (nextTimer === undefined || Date.now() >= nextAttemptAt)) startNext();
      maybeFail();
    };

    timers.push(setTimeout(() => finish({ ok: false, status: Status.timedOut, reason: `no connection to ${host}:${port} within ${opts.timeoutMs} ms` }), opts.timeoutMs));
    const literal = parseIp(host);
    if (literal !== undefined) {
      answers = 2;
      waitingForV6 = false;
      const family = literal.length === 4 ? 4 : 6;
      add([host.replace(/^\[|\]$/g, '')], family);
      startNext();
      maybeFail();
      return;
    }
    for (const family of [6, 4] as const) {
      deps.resolve(host, family).then(
        (a) => onAnswer(family, a),
        () => onAnswer(family, []),
      );
    }
  });
}
