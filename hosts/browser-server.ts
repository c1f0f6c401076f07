// Browser mode: serves the built renderer on 127.0.0.1 and implements the lab
// contract over a WebSocket, against the same worker the desktop app uses.
// Anything on the machine can reach a loopback port, so the page and the
// socket both require a random token, and the socket also requires our own
// Origin (a web page elsewhere cannot forge it).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { contentTypeFor } from './content-types.js';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { EventName } from '../common/channels.js';
import { labError, type LabError } from '../common/errors.js';
import { serveLink, type RequestFrame, type ServerFrame } from '../common/link.js';
import { BRIDGE_MAX_FRAME_BYTES, BRIDGE_PATH, UNATTRIBUTED_FRAME_ID, type BridgeFrame } from '../common/ws-frames.js';
import { createHostHandler } from './host-handler.js';
import { contentSecurityPolicy, isInside, resolveStaticPath } from './host-setup.js';
import { WorkerClient, type SpawnWorker } from './worker-link.js';

export interface BrowserServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** The built renderer (dist/renderer/), holding index.html. */
  rendererDir: string;
  spawnWorker: SpawnWorker;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
  /** Diagnostics, one line each (the CLI sends them to stderr). */
  log?: (line: string) => void;
}

export interface BrowserServer {
  /** http://127.0.0.1:PORT/?token=TOKEN — the page to open. */
  url: string;
  port: number;
  /** The address the socket is bound to (always 127.0.0.1). */
  host: string;
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
export { UNATTRIBUTED_FRAME_ID };
/** Requests one connection may have in flight; more are answered 'busy'. */
const MAX_IN_FLIGHT_PER_CLIENT = 256;
/** Past this much unsent data a slow client misses live weight/gradient events (the next ones replace them). */
const DROPPABLE_EVENT_BACKLOG_BYTES = 8 * 1024 * 1024;
/** Past this much unsent data a client is dropped: one that never reads cannot grow the server without limit. */
export const MAX_CLIENT_BACKLOG_BYTES = 32 * 1024 * 1024;

/** Constant-time token check; hashing first makes the lengths equal. */
function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

const errorFrame = (id: number, error: LabError): BridgeFrame => ({ id, result: { ok: false, error } });

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (token.length < 16) throw new Error('browser server: the token must be at least 16 characters');
  const log = options.log ?? (() => {});
  const rendererRoot = await realpath(path.resolve(options.rendererDir));
  const indexFile = path.join(rendererRoot, 'index.html');
  await stat(indexFile).catch(() => {
    throw new Error(`browser server: ${indexFile} is missing; build the renderer first (npm run build)`);
  });
  const indexReal = await realpath(indexFile);

  const clients = new Set<WebSocket>();
  // Worker events were checked where they entered this host (WorkerClient); here they only fan out.
  const broadcast = (event: EventName, payload: unknown): void => {
    const droppable = event === 'trainerEvent' && isDroppable(payload);
    let text: string | null = null;
    for (const socket of clients) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (droppable && socket.bufferedAmount > DROPPABLE_EVENT_BACKLOG_BYTES) continue;
      text ??= JSON.stringify({ event, payload } satisfies BridgeFrame);
      sendBounded(socket, text);
    }
  };

  function sendBounded(socket: WebSocket, text: string): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount + Buffer.byteLength(text) > MAX_CLIENT_BACKLOG_BYTES) {
      log(`dropped a client that left more than ${MAX_CLIENT_BACKLOG_BYTES} bytes unread`);
      socket.terminate();
      return;
    }
    socket.send(text);
  }

  const worker = new WorkerClient(options.spawnWorker, broadcast, {
    onDroppedEvent: (name) => log(`dropped a malformed "${name}" event from the trainer`),
  });
  worker.start();
  const handle = createHostHandler(worker);

  let port = 0; // known once listening; every check below runs after that
  const origin = (): string => `http://${HOST}:${port}`;
  const hostHeaderOk = (host: string | undefined): boolean => host === `${HOST}:${port}`;

  const server = http.createServer((req, res) => {
    serveStatic(req, res).catch((error: unknown) => {
      log(`static: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  const securityHeaders = (): Record<string, string> => ({
    // The app's one CSP, with connect-src widened to our own socket.
    'Content-Security-Policy': contentSecurityPolicy(`ws://${HOST}:${port}`),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  });

  function sendText(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
    res.end(`${text}\n`);
  }

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // A page elsewhere that rebinds its DNS name to 127.0.0.1 still sends its own Host.
    if (!hostHeaderOk(req.headers.host)) return sendText(res, 421, 'Misdirected request: use the URL printed by the server');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const request = parseRequestPath(req.url ?? '/');
    if (!request) return sendText(res, 404, 'Not found');
    const { pathname, query } = request;
    if (pathname === BRIDGE_PATH) return sendText(res, 426, 'Upgrade required', { Upgrade: 'websocket' });

    const file = pathname === '/' ? indexFile : await resolveInside(rendererRoot, pathname);
    if (!file) return sendText(res, 404, 'Not found');
    // The page carries the token's power: whatever the spelling that reached it, it needs the token.
    const isPage = file === indexFile || file.toLowerCase() === indexReal.toLowerCase(); // case-blind file systems too
    if (isPage && !tokenMatches(token, query.get('token'))) {
      log(`refused the page without a valid token from ${req.socket.remoteAddress ?? '?'}`);
      return sendText(res, 403, 'Forbidden: open the full URL the server printed, token included');
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return sendText(res, 404, 'Not found');

    const type = contentTypeFor(file);
    res.writeHead(200, {
      ...securityHeaders(),
      'Content-Type': type,
      'Content-Length': String(info.size),
      // The page carries the token; keep it out of caches. Hashed assets may stay.
      'Cache-Control': isPage ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  const wss = new WebSocketServer({
    server,
    path: BRIDGE_PATH,
    maxPayload: BRIDGE_MAX_FRAME_BYTES,
    perMessageDeflate: false, // no compression: no decompression bombs, no CPU spent on big weight frames
    verifyClient: ({ origin: givenOrigin, req }, done) => {
      const url = new URL(req.url ?? '/', origin());
      if (!hostHeaderOk(req.headers.host)) {
        log('refused a socket with a foreign Host header');
        return done(false, 421, 'Misdirected request');
      }
      if (givenOrigin !== origin()) {
        log(`refused a socket from origin ${givenOrigin ? JSON.stringify(givenOrigin.slice(0, 100)) : '(none)'}`);
        return done(false, 403, 'Forbidden origin');
      }
      if (!tokenMatches(token, url.searchParams.get('token'))) {
        log('refused a socket without a valid token');
        return done(false, 401, 'Missing or wrong token');
      }
      done(true);
    },
  });

  wss.on('connection', (socket) => {
    clients.add(socket);
    socket.on('error', (error) => log(`socket: ${error.message}`)); // ws closes it (1009 for oversize)
    const sendFrame = (frame: BridgeFrame): void => {
      sendBounded(socket, JSON.stringify(frame));
    };
    // The socket as a link port: JSON text frames in, link frames out; a frame that is not a request is
    // answered here, with the id it gave (or UNATTRIBUTED_FRAME_ID), and never reaches the link.
    serveLink(
      {
        send: (frame: ServerFrame) =>
          sendFrame(frame.kind === 'result' ? { id: frame.id, result: frame.result } : { event: frame.name, payload: frame.payload }),
        onMessage: (listener) =>
          socket.on('message', (data: RawData, isBinary: boolean) => {
            const frame = parseRequestFrame(data, isBinary);
            if (!frame.ok) return sendFrame(errorFrame(frame.id, frame.error));
            listener({ kind: 'invoke', id: frame.id, name: frame.name as RequestFrame['name'], request: frame.request });
          }),
        onClose: (listener) =>
          socket.on('close', () => {
            clients.delete(socket);
            listener('socket closed');
          }),
      },
      (name, request) => handle(name, request),
      { maxInFlight: MAX_IN_FLIGHT_PER_CLIENT },
    );
  });
  wss.on('error', (error) => log(`socket server: ${error.message}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: HOST, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    worker.dispose();
    throw error;
  });
  const bound = server.address() as AddressInfo;
  port = bound.port;
  server.on('error', (error) => log(`http: ${error.message}`));

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      worker.dispose();
      for (const socket of clients) socket.close(1001, 'server shutting down');
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
      // Sockets that ignore the close handshake are cut after a moment.
      setTimeout(() => {
        for (const socket of clients) socket.terminate();
      }, 500).unref();
    });
    return closing;
  };

  return { url: `${origin()}/?token=${token}`, port, host: bound.address, token, close };
}

/** Weight snapshots and gradient norms are superseded by the next ones, so a backed-up client may skip them. */
function isDroppable(payload: unknown): boolean {
  const type = (payload as { type?: unknown }).type;
  return type === 'weights' || type === 'gradients';
}

type ParsedFrame =
  | { ok: true; id: number; name: string; request: unknown }
  | { ok: false; id: number; error: LabError };

function parseRequestFrame(data: RawData, isBinary: boolean): ParsedFrame {
  const invalid = (id: number, message: string, issue: string): ParsedFrame => ({ ok: false, id, error: labError('invalid-request', message, { channel: null, issue }) });
  if (isBinary) return invalid(UNATTRIBUTED_FRAME_ID, 'binary frames are not accepted; send JSON text', 'binary-frame');
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(UNATTRIBUTED_FRAME_ID, 'the frame is not valid JSON', 'not-json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(UNATTRIBUTED_FRAME_ID, 'a request frame is an object {id, name, request}', 'not-an-object');
  }
  const { id, name, request } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return invalid(UNATTRIBUTED_FRAME_ID, 'the frame has no integer "id"', 'no-id');
  if (typeof name !== 'string') return invalid(id, 'the frame has no string "name"', 'no-name');
  return { ok: true, id, name, request };
}

/**
 * The decoded path and query of a request target, or null for any spelling that is not plainly one file:
 * empty segments (`//`, a trailing `/`), encoded slashes or backslashes, dot segments, control characters.
 * Only `/` itself may end in a slash.
 */
export function parseRequestPath(target: string): { pathname: string; query: URLSearchParams } | null {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  if (!rawPath.startsWith('/') || /%(2f|5c)/i.test(rawPath)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (pathname === '/') return { pathname, query };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(pathname)) return null;
  const segments = pathname.slice(1).split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return null;
  return { pathname, query };
}

/** The file a URL path names inside root, or null when it would leave root (.., symlinks, NUL). */
async function resolveInside(root: string, pathname: string): Promise<string | null> {
  const resolved = resolveStaticPath(root, pathname);
  if (!resolved.ok) return null;
  const real = await realpath(resolved.file).catch(() => null);
  if (!real || !isInside(root, real)) return null;
  return real;
}
