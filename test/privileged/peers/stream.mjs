// Deterministic test data: the AES-128-CTR keystream of a seed (fast, incompressible,
// reproducible), and a streaming sha256 of it. Shared by gen.mjs and kernel-peer.mjs.
import { createCipheriv, createHash } from 'node:crypto';

export function keystream(seed) {
  const key = createHash('sha256').update(`mptcp-proxy test stream ${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

/** Calls write(chunk) with `total` bytes of the seed's stream, honouring backpressure. */
export async function produce(total, seed, write) {
  const c = keystream(seed);
  const zeros = Buffer.alloc(256 * 1024);
  let left = total;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    const chunk = c.update(zeros.subarray(0, n));
    left -= n;
    if (!write(chunk)) await new Promise((r) => setImmediate(r));
  }
}

export function expectedDigest(total, seed) {
  const c = keystream(seed);
  const h = createHash('sha256');
  const zeros = Buffer.alloc(1 << 20);
  for (let left = total; left > 0; left -= zeros.length) h.update(c.update(zeros.subarray(0, Math.min(left, zeros.length))));
  return h.digest('hex');
}

/**
 * Sends `total` bytes of the seed's stream on a duplex `sock`, half-closes, hashes what comes
 * back; resolves with {bytes, sha256, error} once both directions are done (or on error).
 */
export function exchange(sock, total, seed) {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let n = 0;
    let sent = false;
    let received = false;
    const done = () => sent && received && resolve({ bytes: n, sha256: h.digest('hex'), error: null });
    sock.on('data', (d) => {
      h.update(d);
      n += d.length;
    });
    sock.on('end', () => {
      received = true;
      done();
    });
    sock.on('error', (e) => resolve({ bytes: n, sha256: null, error: `${e.code} ${e.message}` }));
    produce(total, seed, (chunk) => sock.write(chunk)).then(() => {
      sock.end();
      sent = true;
      done();
    });
  });
}
