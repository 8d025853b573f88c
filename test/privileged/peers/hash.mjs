// hash.mjs: reads stdin, prints {"bytes":N,"sha256":"..."}.
import { createHash } from 'node:crypto';
const h = createHash('sha256');
let n = 0;
process.stdin.on('data', (d) => {
  h.update(d);
  n += d.length;
});
process.stdin.on('end', () => process.stdout.write(JSON.stringify({ bytes: n, sha256: h.digest('hex') }) + '\n'));
