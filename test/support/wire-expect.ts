/**
 * Assertions on the wire layer's typed results, shared by the wire tests.
 */
import { expect } from 'vitest';
import type { ParseResult, WireError, WireLayer } from '../../mptcp/wire/result.js';
import { WireEncodeError } from '../../mptcp/wire/result.js';

export const WIRE_LAYERS: readonly WireLayer[] = ['pcap', 'link', 'ipv4', 'ipv6', 'tcp', 'tcp-option', 'mptcp-option'];

/** The value of a successful parse; fails the test with the typed error otherwise. */
export function expectOk<T>(r: ParseResult<T>): T {
  if (!r.ok) {
    expect.fail(`expected ok, got ${r.error.layer}: ${r.error.field}: ${r.error.rule} (offset ${String(r.error.offset)})`);
  }
  return r.value;
}

/** The error of a failed parse, checked to be well formed (known layer, non-empty field and rule). */
export function expectErr<T>(r: ParseResult<T>, layer?: WireLayer, field?: string | RegExp): WireError {
  if (r.ok) expect.fail(`expected an error${field === undefined ? '' : ` on ${String(field)}`}, got ok: ${stringify(r.value)}`);
  const e = r.error;
  expectWellFormedError(e);
  if (layer !== undefined) expect(e.layer).toBe(layer);
  if (typeof field === 'string') expect(e.field).toBe(field);
  else if (field !== undefined) expect(e.field).toMatch(field);
  return e;
}

/** Known layer, non-empty field and rule, offset (when given) a non-negative integer. */
export function expectWellFormedError(e: WireError): void {
  expect(WIRE_LAYERS).toContain(e.layer);
  expect(typeof e.field === 'string' && e.field.length > 0).toBe(true);
  expect(typeof e.rule === 'string' && e.rule.length > 0).toBe(true);
  if (e.offset !== undefined) expect(Number.isInteger(e.offset) && e.offset >= 0).toBe(true);
}

/** Cheap, allocation-light version of the well-formedness check for fuzz loops. */
export function isWellFormedError(e: WireError, bufferLength: number): boolean {
  return (
    WIRE_LAYERS.includes(e.layer) &&
    typeof e.field === 'string' &&
    e.field.length > 0 &&
    typeof e.rule === 'string' &&
    e.rule.length > 0 &&
    (e.offset === undefined || (Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= bufferLength))
  );
}

/** `fn` throws a WireEncodeError (of `layer`, when given). */
export function expectEncodeError(fn: () => unknown, layer?: WireLayer): WireEncodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WireEncodeError);
    const w = e as WireEncodeError;
    if (layer !== undefined) expect(w.layer).toBe(layer);
    expect(w.field.length).toBeGreaterThan(0);
    return w;
  }
  return expect.fail('expected a WireEncodeError, nothing was thrown');
}

function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));
}
