/**
 * The drivers' randomness: a `Random` (mptcp/core/sans-io.ts) backed by the operating
 * system's CSPRNG (node:crypto randomFillSync), drawn in blocks so a draw costs no system call.
 * MPTCP keys (RFC 8684 §3.1: their secrecy protects MP_JOIN and ADD_ADDR), MP_JOIN nonces, ISN
 * secrets and timestamp offsets come from here in production; the simulator injects a seeded
 * generator instead.
 */
import { randomFillSync } from 'node:crypto';
import type { Random } from '../core/sans-io.js';

const BLOCK_WORDS = 1024;

export class CryptoRandom implements Random {
  private readonly pool = new Uint32Array(BLOCK_WORDS);
  private next = BLOCK_WORDS;

  nextU32(): number {
    if (this.next === BLOCK_WORDS) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++];
  }

  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }
}
