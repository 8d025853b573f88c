/**
 * One SOCKS5 application connection on the client (RFC 1928, RFC 1929): method selection,
 * optional username/password, the CONNECT request, then the tunnel through the aggregator
 * and the relay. Bad input (wrong version, empty method list, bad auth message, unsupported
 * command or address type, invalid host name) is answered with the matching reply where the
 * protocol has one, counted, and the connection closed; nothing throws.
 */
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { encodeMethodChoice, encodeReply, encodeUserPassStatus, Method, parseGreeting, parseRequest, parseUserPass, Reply, type Socks5Error } from '../protocol/socks5.js';
import { socksReplyCode } from '../protocol/status.js';
import type { Target } from '../protocol/target.js';
import { relay } from '../util/relay.js';
import type { ClientCounters } from './counters.js';
import type { TunnelResult } from './tunnel.js';

export interface SocksDeps {
  auth: { username: string; password: string } | undefined;
  openTunnel(target: Target): Promise<TunnelResult>;
  counters: ClientCounters;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
}

const MAX_BUFFER = 1024;

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function serveSocks(socket: Socket, deps: SocksDeps): void {
  const c = deps.counters;
  let stage: 'greeting' | 'auth' | 'request' | 'tunnel' = 'greeting';
  let buf: Uint8Array = new Uint8Array(0);
  const timer = setTimeout(() => {
    c.inc('handshakeTimeout');
    socket.destroy();
  }, deps.handshakeTimeoutMs);
  const close = (reply?: Uint8Array) => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    if (reply !== undefined) socket.end(reply);
    else socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const refuse = (counter: Parameters<ClientCounters['inc']>[0], e: Socks5Error) => {
    c.inc(counter);
    close(e.reply !== undefined ? encodeReply(e.reply) : undefined);
  };
  const step = () => {
    for (;;) {
      if (stage === 'greeting') {
        const g = parseGreeting(buf);
        if (g.kind === 'need') return;
        if (g.kind === 'error') return refuse('socksBadGreeting', g.error);
        buf = buf.subarray(g.size);
        const want = deps.auth === undefined ? Method.noAuth : Method.userPass;
        if (!g.value.methods.includes(want)) {
          c.inc('socksAuthFailed');
          return close(encodeMethodChoice(Method.noAcceptable));
        }
        socket.write(encodeMethodChoice(want));
        stage = deps.auth === undefined ? 'request' : 'auth';
      } else if (stage === 'auth') {
        const a = parseUserPass(buf);
        if (a.kind === 'need') return;
        if (a.kind === 'error') return refuse('socksBadAuth', a.error);
        buf = buf.subarray(a.size);
        const ok = deps.auth !== undefined && safeEqual(a.value.username, deps.auth.username) && safeEqual(a.value.password, deps.auth.password);
        if (!ok) {
          c.inc('socksAuthFailed');
          return close(encodeUserPassStatus(false));
        }
        socket.write(encodeUserPassStatus(true));
        stage = 'request';
      } else if (stage === 'request') {
        const r = parseRequest(buf);
        if (r.kind === 'need') return;
        if (r.kind === 'error') return refuse(r.error.code === 'bad-command' ? 'socksUnsupportedCommand' : 'socksBadRequest', r.error);
        buf = buf.subarray(r.size);
        stage = 'tunnel';
        c.inc('socksRequests');
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.pause();
        if (buf.length > 0) socket.unshift(buf);
        void tunnel(r.value.target);
        return;
      } else return;
    }
  };
  const onData = (d: Buffer) => {
    if (buf.length + d.length > MAX_BUFFER) {
      c.inc('socksBadRequest');
      return close();
    }
    const merged = new Uint8Array(buf.length + d.length);
    merged.set(buf);
    merged.set(d, buf.length);
    buf = merged;
    step();
  };
  const tunnel = async (target: Target) => {
    const t = await deps.openTunnel(target);
    if (!t.ok) {
      c.inc('tunnelsFailed');
      return close(encodeReply(socksReplyCode(t.status)));
    }
    if (socket.destroyed) {
      t.stream.destroy();
      return;
    }
    c.inc('tunnelsOk');
    socket.write(encodeReply(Reply.succeeded));
    const r = await relay(socket, t.stream, deps.idleTimeoutMs, (d, n) => c.inc(d === 'aToB' ? 'bytesUp' : 'bytesDown', n));
    if (r.end === 'error') c.inc('relayErrors');
  };
  socket.on('error', () => undefined);
  socket.on('data', onData);
}
