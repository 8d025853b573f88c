/**
 * DSS mapping queues (mptcp/connection/mappings.ts): lookup by subflow sequence, DATA_FIN not
 * occupying a subflow byte, out-of-order insertion, contradictions, trimming.
 */
import { describe, expect, it } from 'vitest';
import { MAPPING_DATA_FIN, MappingQueue } from '../../../mptcp/connection/mappings.js';

describe('MappingQueue', () => {
  it('finds the mapping covering a subflow byte, and none outside', () => {
    const q = new MappingQueue();
    q.push(1, 100, 1000);
    q.push(1001, 5000, 500);
    expect(q.find(1)).toBe(0);
    expect(q.find(1000)).toBe(0);
    expect(q.find(1001)).toBe(1);
    expect(q.find(1500)).toBe(1);
    expect(q.find(1501)).toBe(-1);
    expect(q.find(0)).toBe(-1);
  });

  it('a DATA_FIN counts in the data-level length but covers no subflow byte', () => {
    const q = new MappingQueue();
    q.push(1, 1, 11, 0, MAPPING_DATA_FIN);
    expect(q.subflowLength(0)).toBe(10);
    expect(q.find(10)).toBe(0);
    expect(q.find(11)).toBe(-1);
  });

  it('keeps ssn order when mappings arrive out of order, repeats are accepted, contradictions refused', () => {
    const q = new MappingQueue();
    expect(q.insert(2001, 3001, 1000, 0)).toBe(true);
    expect(q.insert(1, 1001, 1000, 0)).toBe(true);
    expect(q.insert(1001, 2001, 1000, 0)).toBe(true);
    expect(q.insert(1001, 2001, 1000, 0)).toBe(true); // the same mapping on another segment
    expect(q.count).toBe(3);
    expect([q.ssnAt(0), q.ssnAt(1), q.ssnAt(2)]).toEqual([1, 1001, 2001]);
    expect(q.insert(1001, 9999, 1000, 0)).toBe(false); // same bytes, another DSN
  });

  it('trims mappings that end at or before a sequence number', () => {
    const q = new MappingQueue();
    for (let i = 0; i < 200; i++) q.push(1 + i * 10, 1 + i * 10, 10);
    q.trimBefore(1001);
    expect(q.count).toBe(100);
    expect(q.find(1001)).toBeGreaterThanOrEqual(0);
    expect(q.find(999)).toBe(-1);
    q.trimBefore(10_000);
    expect(q.count).toBe(0);
  });
});
