/**
 * The contract between the sans-IO stack and whatever moves its packets and keeps its time:
 * the deterministic simulator (mptcp/sim) in tests, the raw-socket driver (mptcp/driver) in
 * production. Modeled on quinn-proto: handle -> poll -> pollTimeout.
 *
 * Time is a Number of milliseconds (fractions allowed), from an origin the caller chooses;
 * the stack never reads a clock. Randomness comes through `Random`, never Math.random.
 */

/** A host's whole network stack as seen from below: IP packets in, IP packets out, one deadline. */
export interface PacketEndpoint {
  /**
   * A full IPv4 or IPv6 packet (header included) arrived at `now`. The endpoint must not keep
   * a reference to `packet` after returning (the caller reuses the buffer).
   */
  handlePacket(now: number, packet: Uint8Array): void;
  /**
   * Writes the next full IP packet to send into `out` (at least `MAX_PACKET` bytes) and returns
   * its length, or 0 when there is nothing to send now. Call until it returns 0.
   */
  pollTransmit(now: number, out: Uint8Array): number;
  /** The earliest time at which handleTimeout must be called, or Infinity. */
  pollTimeout(): number;
  /** Runs the timers due at `now` (which is >= the last pollTimeout()). */
  handleTimeout(now: number): void;
}

/** Largest packet pollTransmit may write (IPv4 total length limit). */
export const MAX_PACKET = 65535;

/** Seeded randomness, injected everywhere below the drivers. */
export interface Random {
  /** Uniform unsigned 32-bit integer. */
  nextU32(): number;
  /** Uniform in [0, 1). */
  nextFloat(): number;
}

/**
 * xoshiro128** (Blackman and Vigna): small, fast, good statistical quality, and
 * reproducible from a 32-bit seed (expanded with splitmix32). Not for keys: production keys
 * and nonces come from the driver's CSPRNG (node:crypto).
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
