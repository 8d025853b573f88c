/**
 * The quantities the YAML configuration writes as text: rates ("20mbit", "2.5MB/s"), sizes
 * ("30GB", "1.5GiB") and durations ("25s", "2m"), plus the "did you mean" helper for typos.
 * Pure functions: each returns the number in base units (bit/s, bytes, seconds) or, for text
 * it cannot read, a message saying what is allowed; never a throw.
 */

const RATE_BITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
const DURATION_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

export const RATE_HELP = 'a rate like 20mbit, 500kbit, 1gbit (bit/s), 2.5MB/s or 800KiB/s (bytes/s), or a number of bit/s';
export const SIZE_HELP = 'a size like 30GB (10^9 bytes), 1.5GiB (2^30 bytes), 500MB, or a number of bytes';
export const DURATION_HELP = 'a duration like 500ms, 25s, 2m, 1h, or a number of seconds';

const NUMBER_AND_UNIT = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z/]*)$/;

function split(v: unknown): { n: number; unit: string } | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? { n: v, unit: '' } : undefined;
  if (typeof v !== 'string') return undefined;
  const m = NUMBER_AND_UNIT.exec(v.trim());
  return m ? { n: Number(m[1]), unit: m[2] } : undefined;
}

/** Bits per second. Bit units ("mbit", "Mbps") are case-insensitive; byte rates need a capital B and "/s". */
export function parseRate(v: unknown): number | string {
  const s = split(v);
  if (s === undefined) return `expected ${RATE_HELP}`;
  if (s.unit === '') return s.n;
  const bytes = /^([kKmMgGtT]i?)?B\/s$/.exec(s.unit);
  if (bytes) {
    const factor = SIZE_BYTES[`${(bytes[1] ?? '').toLowerCase()}b`];
    if (factor !== undefined) return s.n * factor * 8;
  }
  const bits = RATE_BITS[s.unit.toLowerCase().replace(/\/s$/, '')];
  if (bits !== undefined && !s.unit.includes('B')) return s.n * bits;
  return `unknown rate unit '${s.unit}' (expected ${RATE_HELP})`;
}

/** Bytes: decimal units (kB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB); case-insensitive. */
export function parseSize(v: unknown): number | string {
  const s = split(v);
  if (s === undefined) return `expected ${SIZE_HELP}`;
  if (s.unit === '') return s.n;
  const factor = SIZE_BYTES[s.unit.toLowerCase()];
  return factor !== undefined ? s.n * factor : `unknown size unit '${s.unit}' (expected ${SIZE_HELP})`;
}

/** Seconds. */
export function parseDuration(v: unknown): number | string {
  const s = split(v);
  if (s === undefined) return `expected ${DURATION_HELP}`;
  if (s.unit === '') return s.n;
  const factor = DURATION_SECONDS[s.unit];
  return factor !== undefined ? s.n * factor : `unknown duration unit '${s.unit}' (expected ${DURATION_HELP})`;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** The candidate nearest to `word` when it is close enough to be a typo of it (a third of its letters, at least one). */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  const allowed = Math.max(1, Math.floor(Math.max(word.length, 3) / 3));
  return best !== undefined && best !== word && bestDistance <= allowed ? best : undefined;
}

/** A value as a message quotes it: strings in single quotes, lists and maps by kind. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v === 'object' ? 'a map' : typeof v;
}
