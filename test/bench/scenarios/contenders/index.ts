/**
 * The contenders: every module in this folder (except this one) that exports `contender` is one.
 * Adding a contender is adding one file here; the runner runs every available one in every
 * scenario of the same session. Order: by file name.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Contender } from '../contender.js';

export async function loadContenders(): Promise<Contender[]> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.endsWith(`.test${ext}`) && !f.endsWith(`.d.ts`) && f !== `index${ext}`)
    .sort();
  const out: Contender[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(`${dir}/${f}`).href)) as { contender?: Contender };
    if (mod.contender !== undefined) out.push(mod.contender);
  }
  return out;
}
