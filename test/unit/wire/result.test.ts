/**
 * Typed results (mptcp/wire/result.ts).
 */
import { describe, expect, it } from 'vitest';
import { fail, formatWireError, ok, WireEncodeError } from '../../../mptcp/wire/result.js';

describe('ok / fail', () => {
  it('ok wraps a value', () => {
    expect(ok(5)).toStrictEqual({ ok: true, value: 5 });
  });
  it('fail carries layer, field, rule and (only when given) offset', () => {
    expect(fail('tcp', 'dataOffset', 'too small', 12)).toStrictEqual({
      ok: false,
      error: { layer: 'tcp', field: 'dataOffset', rule: 'too small', offset: 12 },
    });
    const r = fail('ipv4', 'version', 'must be 4');
    expect(r).toStrictEqual({ ok: false, error: { layer: 'ipv4', field: 'version', rule: 'must be 4' } });
    expect(!r.ok && 'offset' in r.error).toBe(false);
  });
  it('formatWireError names layer, field, offset and rule', () => {
    expect(formatWireError({ layer: 'mptcp-option', field: 'DSS.length', rule: 'bad', offset: 3 })).toBe('mptcp-option: DSS.length at byte 3: bad');
    expect(formatWireError({ layer: 'ipv6', field: 'version', rule: 'must be 6' })).toBe('ipv6: version: must be 6');
  });
});

describe('WireEncodeError', () => {
  it('is an Error with layer and field', () => {
    const e = new WireEncodeError('tcp-option', 'MSS', 'too big');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('WireEncodeError');
    expect([e.layer, e.field]).toEqual(['tcp-option', 'MSS']);
    expect(e.message).toBe('tcp-option: cannot encode MSS: too big');
  });
});
