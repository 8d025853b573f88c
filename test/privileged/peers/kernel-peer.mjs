// kernel-peer.mjs server|client ADDR PORT SEND_BYTES SEED [mptcp]: a kernel TCP peer (node:net)
// that sends SEND_BYTES of the seed's stream, half-closes, hashes everything it receives,
// and prints {"bytes":N,"sha256":"...","error":null} when both directions are done.
// A client retries while the port is not yet listening (the userspace listener starts late).
import net from 'node:net';
import { exchange } from './stream.mjs';

const [mode, addr, portText, sendText, seedText] = process.argv.slice(2);
const port = Number(portText);
const total = Number(sendText);
const seed = Number(seedText);

async function connectWithRetry() {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const s = net.connect({ host: addr, port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let result;
if (mode === 'server') {
  result = await new Promise((resolve) => {
    const srv = net.createServer((s) => {
      srv.close();
      exchange(s, total, seed).then(resolve);
    });
    srv.listen(port, addr, () => process.stderr.write('listening\n'));
  });
} else {
  result = await exchange(await connectWithRetry(), total, seed);
}
process.stdout.write(JSON.stringify(result) + '\n');
