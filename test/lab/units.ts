/**
 * Units for the lab's topology files and API: rates ("50mbit", "1.5gbit", "800kbit", a bare
 * number = Mbit/s), durations ("10ms", "1.5s", "250us", a bare number = ms), sizes ("64kb",
 * "2mb" in bytes with k = 1024, a bare number = bytes) and percentages ("1%", "0.5", a bare
 * number = percent). Parsers throw a LabConfigError naming the field and the accepted forms.
 */

export class LabConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabConfigError';
  }
}

export type Quantity = string | number;

function split(field: string, value: Quantity): [number, string] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new LabConfigError(`${field}: ${value} is not a finite non-negative number`);
    return [value, ''];
  }
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-z%/]*)\s*$/i.exec(value);
  if (m === null) throw new LabConfigError(`${field}: cannot read "${value}"`);
  return [Number(m[1]), m[2].toLowerCase()];
}

const RATE_UNITS: Record<string, number> = { '': 1e6, bit: 1, bps: 1, kbit: 1e3, kbps: 1e3, mbit: 1e6, mbps: 1e6, gbit: 1e9, gbps: 1e9 };
const TIME_UNITS: Record<string, number> = { '': 1, us: 1e-3, ms: 1, s: 1000 };
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, k: 1024, mb: 1024 * 1024, m: 1024 * 1024, gb: 1024 ** 3, g: 1024 ** 3 };

/** Bits per second; "unlimited" (or 0) is Infinity. */
export function parseRate(field: string, value: Quantity): number {
  if (value === 'unlimited') return Infinity;
  const [n, unit] = split(field, value);
  const f = RATE_UNITS[unit];
  if (f === undefined) throw new LabConfigError(`${field}: unknown rate unit "${unit}" (bit, kbit, mbit, gbit; a bare number is Mbit/s)`);
  return n === 0 ? Infinity : n * f;
}

/** Milliseconds. */
export function parseDuration(field: string, value: Quantity): number {
  const [n, unit] = split(field, value);
  const f = TIME_UNITS[unit];
  if (f === undefined) throw new LabConfigError(`${field}: unknown time unit "${unit}" (us, ms, s; a bare number is ms)`);
  return n * f;
}

/** Bytes; "unlimited" is Infinity. */
export function parseSize(field: string, value: Quantity): number {
  if (value === 'unlimited') return Infinity;
  const [n, unit] = split(field, value);
  const f = SIZE_UNITS[unit];
  if (f === undefined) throw new LabConfigError(`${field}: unknown size unit "${unit}" (b, kb, mb, gb; a bare number is bytes)`);
  return Math.round(n * f);
}

/** A probability in [0, 1] from a percentage ("1%" or 1 both mean 0.01). */
export function parsePercent(field: string, value: Quantity): number {
  const [n, unit] = split(field, value);
  if (unit !== '' && unit !== '%') throw new LabConfigError(`${field}: "${value}" is not a percentage`);
  if (n > 100) throw new LabConfigError(`${field}: ${n}% is more than 100%`);
  return n / 100;
}

/** "50 Mbit/s", "800 kbit/s", "unlimited". */
export function formatRate(bitsPerSec: number): string {
  if (!Number.isFinite(bitsPerSec)) return 'unlimited';
  if (bitsPerSec >= 1e9) return `${+(bitsPerSec / 1e9).toFixed(3)} Gbit/s`;
  if (bitsPerSec >= 1e6) return `${+(bitsPerSec / 1e6).toFixed(3)} Mbit/s`;
  return `${+(bitsPerSec / 1e3).toFixed(3)} kbit/s`;
}
