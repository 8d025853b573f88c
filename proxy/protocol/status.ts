/**
 * Outcome of a proxied connection request, as the aggregator reports it in a REPLY frame,
 * and how the client tells the application: a SOCKS5 reply code (RFC 1928 §6) or an HTTP
 * status (RFC 9110 §15) with a one-line reason.
 */

export const Status = {
  ok: 0,
  generalFailure: 1,
  notAllowed: 2,
  networkUnreachable: 3,
  hostUnreachable: 4,
  connectionRefused: 5,
  timedOut: 6,
  commandNotSupported: 7,
  addressTypeNotSupported: 8,
  /** The aggregator's per-client connection limit is reached. */
  limitReached: 9,
  /** The name does not resolve (NXDOMAIN or no address). */
  nameNotFound: 10,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

const ALL = new Set<number>(Object.values(Status));
export function isStatusCode(n: number): n is StatusCode {
  return ALL.has(n);
}

/** RFC 1928 §6 REP field. */
export function socksReplyCode(s: StatusCode): number {
  switch (s) {
    case Status.limitReached:
      return 0x01; // general SOCKS server failure
    case Status.nameNotFound:
      return 0x04; // host unreachable
    default:
      return s;
  }
}

/** HTTP status for a failed tunnel or request: 403 policy, 504 timeout, 502 otherwise. */
export function httpStatus(s: StatusCode): number {
  switch (s) {
    case Status.notAllowed:
      return 403;
    case Status.timedOut:
      return 504;
    default:
      return 502;
  }
}

export function statusName(s: StatusCode): string {
  return Object.entries(Status).find(([, v]) => v === s)?.[0] ?? `status ${s}`;
}

/** Maps a Node socket error code from connecting to the destination to a status. */
export function statusFromErrorCode(code: string | undefined): StatusCode {
  switch (code) {
    case 'ECONNREFUSED':
      return Status.connectionRefused;
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return Status.networkUnreachable;
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
    case 'EADDRNOTAVAIL':
      return Status.hostUnreachable;
    case 'ETIMEDOUT':
      return Status.timedOut;
    case 'ENOTFOUND':
    case 'ENODATA':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return Status.nameNotFound;
    default:
      return Status.generalFailure;
  }
}
