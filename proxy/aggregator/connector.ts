/**
 * The aggregator's real-network side of Happy Eyeballs: name resolution per family through
 * the system resolver (so /etc/hosts and nsswitch apply) and cancellable TCP connects with
 * half-open allowed (the relay forwards each direction's FIN separately).
 */
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';
import type { Attempt } from './happy-eyeballs.js';

export async function resolveFamily(name: string, family: 4 | 6): Promise<string[]> {
  const r = await lookup(name, { family, all: true });
  return r.map((a) => a.address);
}

export function connectTcp(address: string, port: number): Attempt<Socket> {
  const s = new Socket({ allowHalfOpen: true });
  const done = new Promise<Socket>((resolve, reject) => {
    s.once('connect', () => {
      s.removeListener('error', reject);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', reject);
  });
  s.connect(port, address);
  return { done, cancel: () => s.destroy() };
}
