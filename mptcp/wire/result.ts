/**
 * Typed results for every parser in the wire layer.
 *
 * Parsers never throw on input: they return either `{ ok: true, value }` or
 * `{ ok: false, error }`, where the error names the layer, the field and the rule that the
 * bytes broke (for MPTCP, the RFC 8684 section). Callers count and refuse; nothing unwinds.
 * Emitters, which only ever see our own representations, throw `WireEncodeError` when handed
 * something that cannot be put on the wire: that is a programming error, not bad input.
 */

/** Which codec produced an error; used as a metrics label later, so the set is closed. */
export type WireLayer =
  | 'pcap'
  | 'link'
  | 'ipv4'
  | 'ipv6'
  | 'tcp'
  | 'tcp-option'
  | 'mptcp-option';

export interface WireError {
  readonly layer: WireLayer;
  /** The field that is wrong, e.g. "length", "dataOffset", "MP_JOIN.length". */
  readonly field: string;
  /** The rule broken, in words a person can act on (cites the RFC where one applies). */
  readonly rule: string;
  /** Byte offset of the offending field within the buffer given to the parser, if known. */
  readonly offset?: number;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(
  layer: WireLayer,
  field: string,
  rule: string,
  offset?: number,
): ParseResult<T> {
  return { ok: false, error: offset === undefined ? { layer, field, rule } : { layer, field, rule, offset } };
}

export function formatWireError(e: WireError): string {
  const at = e.offset === undefined ? '' : ` at byte ${e.offset}`;
  return `${e.layer}: ${e.field}${at}: ${e.rule}`;
}

/** Thrown by emitters for representations that cannot be encoded (a bug in the caller). */
export class WireEncodeError extends Error {
  constructor(
    readonly layer: WireLayer,
    readonly field: string,
    rule: string,
  ) {
    super(`${layer}: cannot encode ${field}: ${rule}`);
    this.name = 'WireEncodeError';
  }
}
