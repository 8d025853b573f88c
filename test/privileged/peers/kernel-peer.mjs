// kernel-peer.mjs server|client ADDR PORT SEND_BYTES SEED [mptcp]: a kernel TCP peer (node:net)
// that sends SEND_BYTES of the seed's stream, half-closes, hashes everything it receives,
// and prints {"bytes":N,"sha256":"...","error":null} when both directions are done.
// A client retries while the port is not yet listening (the userspace listener starts late).
import net from 'node:net';
import { createHash } from 'node:crypto';
import { produce } from './stream.mjs';

const [mode, addr, portText, sendText, seedText] = process.argv.slice(2);
const port = Number(portText);
const total = Number(sendText);
const seed = Number(seedText);

function run(sock) {
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
      run(s).then(resolve);
    });
    srv.listen(port, addr, () => process.stderr.write('listening\n'));
  });
} else {
  result = await run(await connectWithRetry());
}
process.stdout.write(JSON.stringify(result) + '\n');
