// gen.mjs BYTES SEED: writes BYTES of the seed's test stream to stdout.
import { once } from 'node:events';
import { produce } from './stream.mjs';
const [total, seed] = process.argv.slice(2).map(Number);
await produce(total, seed, (chunk) => {
  const ok = process.stdout.write(chunk);
  if (!ok) return false;
  return true;
});
process.stdout.end();
await once(process.stdout, 'finish');
