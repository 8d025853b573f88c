/**
 * The HTTP proxy side of the client on Node's HTTP/1.1 server (llhttp parses; limits on head
 * size and time): CONNECT tunnels (RFC 9110 §9.3.6), absolute-form plain http:// requests
 * forwarded with hop-by-hop fields removed both ways (RFC 9110 §7.6.1) and client keep-alive,
 * optional Proxy-Authorization Basic (407 with Proxy-Authenticate, RFC 9110 §11.7), the PAC
 * file at /proxy.pac. Failures become 400, 403, 407, 431, 502 or 504 with a one-line reason.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { endToEndHeaders, parseAbsoluteForm, parseBasicCredentials, parseConnectAuthority } from '../protocol/http-proxy-head.js';
import { httpStatus, statusName } from '../protocol/status.js';
import type { Target } from '../protocol/target.js';
import { relay } from '../util/relay.js';
import type { ClientCounters } from './counters.js';
import { safeEqual } from './socks-session.js';
import type { TunnelResult } from './tunnel.js';

export interface HttpProxyDeps {
  auth: { username: string; password: string } | undefined;
  openTunnel(target: Target): Promise<TunnelResult>;
  counters: ClientCounters;
  maxHeaderBytes: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  /** Whether the listener also speaks SOCKS5 (the PAC file then offers both). */
  socksToo: boolean;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway', 504: 'Gateway Timeout' };

function rawResponse(status: number, reason: string, extra: string[] = []): string {
  const body = `${reason}\n`;
  return [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...extra, '', body].join('\r\n');
}

function pacFile(hostPort: string, socksToo: boolean): string {
  const proxies = socksToo ? `PROXY ${hostPort}; SOCKS5 ${hostPort}` : `PROXY ${hostPort}`;
  return [
    '// mptcp-proxy: everything but local names and loopback goes through the multipath proxy.',
    'function FindProxyForURL(url, host) {',
    '  if (isPlainHostName(host) || host === "localhost" || shExpMatch(host, "127.*") || host === "::1") return "DIRECT";',
    `  return "${proxies}";`,
    '}',
    '',
  ].join('\n');
}

export function createHttpProxy(deps: HttpProxyDeps): Server {
  const c = deps.counters;
  const server = createServer({ maxHeaderSize: deps.maxHeaderBytes, requestTimeout: 0, headersTimeout: deps.handshakeTimeoutMs, keepAliveTimeout: 5000 });

  const authorized = (req: IncomingMessage): boolean => {
    if (deps.auth === undefined) return true;
    const cred = parseBasicCredentials(req.headers['proxy-authorization']);
    return cred !== undefined && safeEqual(cred.username, deps.auth.username) && safeEqual(cred.password, deps.auth.password);
  };
  const plain = (res: ServerResponse, status: number, reason: string, headers: Record<string, string> = {}) => {
    if (res.headersSent) return void res.destroy();
    const body = `${reason}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    c.inc('httpRequests');
    const url = req.url ?? '';
    if (url.startsWith('/')) {
      if (req.method === 'GET' && (url === '/proxy.pac' || url.startsWith('/proxy.pac?'))) {
        c.inc('pacServed');
        const local = req.socket.localAddress ?? '127.0.0.1';
        const hostPort = req.headers.host ?? (local.includes(':') ? `[${local}]:${req.socket.localPort}` : `${local}:${req.socket.localPort}`);
        res.writeHead(200, { 'Content-Type': 'application/x-ns-proxy-autoconfig' });
        return void res.end(pacFile(hostPort, deps.socksToo));
      }
      c.inc('httpBadRequest');
      return plain(res, 400, 'this is a proxy: send absolute-form requests (http://host/path) or CONNECT; the PAC file is at /proxy.pac');
    }
    if (!authorized(req)) {
      c.inc('httpAuthFailed');
      return plain(res, 407, 'proxy authentication required', { 'Proxy-Authenticate': 'Basic realm="mptcp-proxy"' });
    }
    const t = parseAbsoluteForm(url);
    if ('code' in t) {
      c.inc('httpBadRequest');
      return plain(res, 400, t.message);
    }
    void forward(req, res, t.target, t.path, t.host);
  });

  const forward = async (req: IncomingMessage, res: ServerResponse, target: Target, path: string, host: string) => {
    req.pause();
    const tunnel = await deps.openTunnel(target);
    if (!tunnel.ok) {
      c.inc('tunnelsFailed');
      return plain(res, httpStatus(tunnel.status), `${statusName(tunnel.status)}: ${tunnel.reason}`);
    }
    c.inc('tunnelsOk');
    const stream: Duplex = tunnel.stream;
    const headers = endToEndHeaders(req.rawHeaders).filter(([n]) => n.toLowerCase() !== 'host');
    const flat = ['Host', host, ...headers.flat()];
    const up = httpRequest({ method: req.method, path, headers: flat, setHost: false, createConnection: () => stream });
    up.on('error', (e) => {
      c.inc('relayErrors');
      plain(res, 502, `upstream: ${e.message}`);
    });
    up.on('response', (upRes) => {
      const h = endToEndHeaders(upRes.rawHeaders);
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, h.flat());
      upRes.on('data', (d: Buffer) => c.inc('bytesDown', d.length));
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.on('data', (d: Buffer) => c.inc('bytesUp', d.length));
    req.pipe(up);
    req.resume();
  };

  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    c.inc('httpConnect');
    socket.on('error', () => undefined);
    if (!authorized(req)) {
      c.inc('httpAuthFailed');
      return void socket.end(rawResponse(407, 'proxy authentication required', ['Proxy-Authenticate: Basic realm="mptcp-proxy"']));
    }
    const target = parseConnectAuthority(req.url ?? '');
    if ('code' in target) {
      c.inc('httpBadRequest');
      return void socket.end(rawResponse(400, target.message));
    }
    void (async () => {
      const tunnel = await deps.openTunnel(target);
      if (!tunnel.ok) {
        c.inc('tunnelsFailed');
        return void socket.end(rawResponse(httpStatus(tunnel.status), `${statusName(tunnel.status)}: ${tunnel.reason}`));
      }
      if (socket.destroyed) return void tunnel.stream.destroy();
      c.inc('tunnelsOk');
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) tunnel.stream.write(head);
      const r = await relay(socket, tunnel.stream, deps.idleTimeoutMs, (d, n) => c.inc(d === 'aToB' ? 'bytesUp' : 'bytesDown', n));
      if (r.end === 'error') c.inc('relayErrors');
    })();
  });

  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    c.inc('httpBadRequest');
    socket.on('error', () => undefined);
    socket.end(rawResponse(501, 'Upgrade through plain-http proxying is not supported; use CONNECT'));
  });

  // Node reports a parse error again for each later piece of a connection already answered:
  // one bad request is counted (and answered) once.
  const refused = new WeakSet<Duplex>();
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (refused.has(socket)) return void socket.destroy();
    refused.add(socket);
    c.inc('httpBadRequest');
    socket.on('error', () => undefined);
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADERS_TIMEOUT' ? 408 : 400;
    socket.end(rawResponse(status, `bad request: ${err.code ?? err.message}`));
  });
  return server;
}
