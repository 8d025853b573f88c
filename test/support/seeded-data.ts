/**
 * Deterministic test data for the simulator suites: incompressible bytes from a seed, and a
 * log-uniform draw (RTTs and rates spread over orders of magnitude).
 */
import { SeededRandom, type Random } from '../../mptcp/core/sans-io.js';

/** `n` bytes of the seed's xoshiro stream. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const r = new SeededRandom(seed);
  for (let i = 0; i < n; i += 4) {
    const v = r.nextU32();
    out[i] = v;
    if (i + 1 < n) out[i + 1] = v >>> 8;
    if (i + 2 < n) out[i + 2] = v >>> 16;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

/** Uniform in log space between `lo` and `hi`. */
export function logUniform(r: Random, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + r.nextFloat() * (Math.log(hi) - Math.log(lo)));
}
