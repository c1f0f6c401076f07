// The browser-mode server with an in-process worker stand-in: what it sends, to whom, with which headers,
// and what it logs, fast enough for the mutation runs (the integration file runs a forked fake worker).
// Expectations are literal values, not the server's own constants.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBrowserServer, type BrowserServer } from '../../hosts/browser-server.js';
import type { FromWorker, ToWorker, WorkerPort } from '../../hosts/worker-link.js';
import { rawRequest, type RawAnswer } from './raw-http.js';

const TOKEN = 'unit-token-0123456789abcdef';
const MiB = 1024 * 1024;

/** A worker stand-in: answers requests as `answer` says (or holds them), pushes events, exits when told. */
class ScriptedWorker implements WorkerPort {
  readonly pid = 4242;
  killed = 0;
  readonly received: ToWorker[] = [];
  private readonly listeners: ((m: FromWorker) => void)[] = [];
  private readonly exitListeners: ((code: number | null) => void)[] = [];
  held: (() => void)[] = [];
  hold = false;

  send(message: ToWorker): void {
    this.received.push(message);
    if (message.kind !== 'invoke') return;
    const reply = (): void => this.say({ kind: 'result', id: message.id, result: { ok: true, value: answerFor(message.name, message.request) } });
    if (this.hold) this.held.push(reply);
    else queueMicrotask(reply);
  }
  onMessage(listener: (m: FromWorker) => void): void {
    this.listeners.push(listener);
  }
  onExit(listener: (code: number | null) => void): void {
    this.exitListeners.push(listener);
  }
  kill(): void {
    this.killed++;
  }
  say(message: FromWorker): void {
    for (const l of this.listeners) l(message);
  }
  event(name: string, payload: unknown): void {
    this.say({ kind: 'event', name, payload } as FromWorker);
  }
  exit(code: number | null): void {
    for (const l of this.exitListeners) l(code);
  }
}

function answerFor(name: string, request: unknown): unknown {
  if (name === 'status') return { phase: 'idle', runId: null };
  if (name === 'samples') {
    const big = (request as { indices: number[] }).indices[0] === 9;
    return { images: big ? 'A'.repeat(MiB) : Buffer.alloc(784).toString('base64'), labels: [1], rows: 28, cols: 28 };
  }
  if (name === 'listModels') return [];
  throw new Error(`the scripted worker has no answer for ${name}`);
}

let sandbox: string;
let rendererDir: string;
let workers: ScriptedWorker[];
let logs: string[];
let server: BrowserServer;
let origin: string;
const open: WebSocket[] = [];

beforeAll(async () => {
  sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-server-unit-'));
  rendererDir = path.join(sandbox, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>LeNet Lab</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  workers = [];
  logs = [];
  server = await startBrowserServer({
    rendererDir, token: TOKEN, log: (line) => logs.push(line),
    spawnWorker: () => {
      const w = new ScriptedWorker();
      workers.push(w);
      return w;
    },
  });
  origin = `http://127.0.0.1:${server.port}`;
});

afterEach(() => {
  for (const s of open.splice(0)) s.terminate();
  logs.length = 0;
});

afterAll(async () => {
  await server?.close();
  await rm(sandbox, { recursive: true, force: true });
});

const worker = (): ScriptedWorker => workers.at(-1)!;

const request = (rawPath: string, method = 'GET', headers: Record<string, string> = {}, port = server.port): Promise<RawAnswer> =>
  rawRequest(port, rawPath, { method, headers });

/** A client whose frames are collected; `paused` stops reading, so the server's unsent data piles up. */
class Client {
  readonly frames: { id?: number; event?: string; payload?: { type?: string }; result?: { ok: boolean; error?: { code: string; params?: Record<string, unknown> } } }[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(): Promise<Client> {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/bridge?token=${TOKEN}`, { origin });
    open.push(socket);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new Client(socket);
  }
  send(name: string, req: unknown): number {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, name, request: req }));
    return id;
  }
  /** The first frame matching, waiting at most 5 s for it (a frame the server never sends fails the test, not hangs it). */
  async waitFor(match: (f: Client['frames'][number]) => boolean): Promise<Client['frames'][number]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such frame within 5 s; got ${JSON.stringify(this.frames.map((f) => f.id ?? f.payload?.type))}`);
      await new Promise<void>((w) => {
        const timer = setTimeout(w, left);
        this.waiters.push(() => { clearTimeout(timer); w(); });
      });
    }
  }
  pause(): void {
    (this.socket as unknown as { _socket: net.Socket })._socket.pause();
  }
  resume(): void {
    (this.socket as unknown as { _socket: net.Socket })._socket.resume();
  }
}

const eventOf = (type: string) => (f: Client['frames'][number]): boolean => f.event === 'trainerEvent' && f.payload?.type === type;
const gradients = { type: 'gradients', runId: 'r', epoch: 1, batch: 1, step: 1, norms: [{ layer: 'C1', norm: 0.5 }] };
const weights = { type: 'weights', runId: 'r', epoch: 1, batch: 1, step: 1, tensors: [] };
const batch = { type: 'batch', runId: 'r', epoch: 1, batch: 2, batchesPerEpoch: 9, loss: 2, accuracy: 0.1, imagesPerSecond: 1, step: 2 };

/** A slow client with `mebibytes` of answers waiting unread at the server, and a reading client that asked after it. */
async function backlog(mebibytes: number): Promise<{ slow: Client; fast: Client }> {
  const slow = await Client.open();
  const fast = await Client.open();
  slow.pause();
  for (let i = 0; i < mebibytes; i++) slow.send('samples', { split: 'test', indices: [9] });
  // Answers go out in order of arrival: once the reading client has its answer, the slow one's are queued.
  const id = fast.send('status', {});
  await fast.waitFor((f) => f.id === id);
  return { slow, fast };
}

describe('live events and slow clients', () => {
  it('skips weight and gradient events for a client more than 8 MiB behind, but never a batch event', async () => {
    const { slow, fast } = await backlog(20);
    worker().event('trainerEvent', gradients);
    worker().event('trainerEvent', weights);
    worker().event('trainerEvent', batch);
    for (const type of ['gradients', 'weights', 'batch']) await fast.waitFor(eventOf(type));
    slow.resume();
    await slow.waitFor(eventOf('batch'));
    expect(slow.frames.filter((f) => f.id !== undefined)).toHaveLength(20); // every answer arrives
    expect(slow.frames.some(eventOf('gradients'))).toBe(false);
    expect(slow.frames.some(eventOf('weights'))).toBe(false);
  });

  it('still sends them to a client less than 8 MiB behind', async () => {
    const { slow } = await backlog(2);
    worker().event('trainerEvent', gradients);
    worker().event('trainerEvent', batch);
    slow.resume();
    await slow.waitFor(eventOf('batch'));
    expect(slow.frames.some(eventOf('gradients'))).toBe(true);
  });

  it('relays other events to every open client, and only well-formed ones', async () => {
    const a = await Client.open();
    const b = await Client.open();
    worker().event('trainerEvent', { type: 'no-such-event', runId: 'r' });
    worker().event('trainerEvent', batch);
    for (const c of [a, b]) await c.waitFor(eventOf('batch'));
    for (const c of [a, b]) expect(c.frames.filter((f) => f.event)).toHaveLength(1);
    expect(logs).toContain('dropped a malformed "trainerEvent" event from the trainer');
  });

  it('drops a client over 32 MiB behind and says so, and serves the others', async () => {
    const { slow, fast } = await backlog(40);
    const closed = new Promise((resolve) => slow.socket.once('close', resolve));
    slow.resume();
    await closed;
    expect(logs).toContain('dropped a client that left more than 33554432 bytes unread');
    const id = fast.send('status', {});
    expect(await fast.waitFor((f) => f.id === id)).toMatchObject({ result: { ok: true } });
  });
});

describe('requests in flight', () => {
  it('answers 256 waiting requests of one client, and the 257th busy', async () => {
    const c = await Client.open();
    worker().hold = true;
    try {
      const ids = Array.from({ length: 257 }, () => c.send('status', {}));
      const last = await c.waitFor((f) => f.id === ids[256]);
      expect(last).toMatchObject({ result: { ok: false, error: { code: 'busy', params: { limit: 256 } } } });
      expect(c.frames.filter((f) => f.id !== undefined)).toHaveLength(1);
      for (const reply of worker().held.splice(0)) reply();
      await c.waitFor((f) => f.id === ids[255]);
      expect(c.frames.filter((f) => f.result?.ok)).toHaveLength(256);
    } finally {
      worker().hold = false;
    }
  });
});

describe('malformed frames', () => {
  // issue: what was wrong; id: the frame's own id where it had one, else -1 (unattributed).
  const cases: [string | Buffer, number, string][] = [
    [Buffer.from([1, 2, 3]), -1, 'binary-frame'],
    ['{not json', -1, 'not-json'],
    ['null', -1, 'not-an-object'],
    ['[1]', -1, 'not-an-object'],
    ['"text"', -1, 'not-an-object'],
    ['{"name":"status"}', -1, 'no-id'],
    ['{"id":1.5,"name":"status"}', -1, 'no-id'],
    ['{"id":"7","name":"status"}', -1, 'no-id'],
    ['{"id":7}', 7, 'no-name'],
    ['{"id":8,"name":5}', 8, 'no-name'],
  ];
  it.each(cases)('%s is answered invalid-request (id %i, %s)', async (frame, id, issue) => {
    const c = await Client.open();
    c.socket.send(frame);
    const answer = await c.waitFor((f) => f.id !== undefined);
    expect(answer).toEqual({ id, result: { ok: false, error: expect.objectContaining({ code: 'invalid-request', params: { channel: null, issue } }) } });
  });

  it('takes a request split over several fragments', async () => {
    const c = await Client.open();
    const text = JSON.stringify({ id: 3, name: 'status', request: {} });
    c.socket.send(text.slice(0, 10), { fin: false });
    c.socket.send(text.slice(10), { fin: true });
    expect(await c.waitFor((f) => f.id === 3)).toMatchObject({ result: { ok: true, value: { phase: 'idle' } } });
  });
});

// The headers every answer carries, page or error alike.
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

describe('static answers', () => {
  it('carries the security headers on every answer, errors included', async () => {
    const answers = [
      await request(`/?token=${TOKEN}`), await request('/assets/app.js'), await request('/'), await request('/nothing'),
      await request('/assets/app.js', 'POST'), await request('/bridge'), await request('/', 'GET', { Host: 'evil.example' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 403, 404, 405, 426, 421]);
    for (const a of answers) {
      expect(a.headers).toMatchObject(SECURITY_HEADERS);
      expect(a.headers['content-security-policy']).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    }
    for (const a of answers.slice(2)) expect(a.headers).toMatchObject({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  });

  it('says how to reach the socket, which methods it takes, and why it refused', async () => {
    const upgrade = await request('/bridge');
    expect(upgrade.headers['upgrade']).toBe('websocket');
    expect(upgrade.body).toBe('Upgrade required\n');
    const post = await request('/assets/app.js', 'PUT');
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect(post.body).toBe('Method not allowed\n');
    expect((await request('/nothing')).body).toBe('Not found\n');
    expect((await request('/')).body).toBe('Forbidden: open the full URL the server printed, token included\n');
    expect((await request('/', 'GET', { Host: `localhost:${server.port}` })).body).toBe('Misdirected request: use the URL printed by the server\n');
  });

  it('sizes files, keeps the page out of caches but not the assets, and answers HEAD without a body', async () => {
    const page = await request(`/?token=${TOKEN}`);
    expect(page.headers).toMatchObject({ 'content-length': '39', 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' });
    const asset = await request('/assets/app.js');
    expect(asset.headers).toMatchObject({ 'content-length': '18', 'cache-control': 'no-cache' });
    expect(asset.body).toBe('console.log("app")');
    const head = await request('/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('18');
    expect(head.body).toBe('');
    expect((await request(`/index.html?token=${TOKEN}`, 'HEAD')).status).toBe(200);
  });

  it('logs each refusal in a line of its own', async () => {
    await request('/');
    expect(logs).toEqual(['refused the page without a valid token from 127.0.0.1']);
  });
});

describe('the socket handshake, logged', () => {
  const refused = (url: string, options: { origin?: string; headers?: Record<string, string> }): Promise<number> => new Promise((resolve) => {
    const socket = new WebSocket(url, options);
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => resolve(101));
    socket.once('error', () => undefined);
  });

  it('says which check refused it', async () => {
    const url = `ws://127.0.0.1:${server.port}/bridge`;
    expect(await refused(`${url}?token=${TOKEN}`, { origin, headers: { Host: 'evil.example' } })).toBe(421);
    expect(await refused(`${url}?token=${TOKEN}`, {})).toBe(403);
    expect(await refused(`${url}?token=${TOKEN}`, { origin: `http://evil.example/${'x'.repeat(200)}` })).toBe(403);
    expect(await refused(`${url}?token=nope`, { origin })).toBe(401);
    expect(logs).toEqual([
      'refused a socket with a foreign Host header',
      'refused a socket from origin (none)',
      `refused a socket from origin ${JSON.stringify(`http://evil.example/${'x'.repeat(200)}`.slice(0, 100))}`,
      'refused a socket without a valid token',
    ]);
  });
});

describe('starting and closing', () => {
  const spawn = (): WorkerPort => new ScriptedWorker();

  it('takes a token of 16 characters and refuses one of 15', async () => {
    await expect(startBrowserServer({ rendererDir, spawnWorker: spawn, token: 'x'.repeat(15) })).rejects.toThrow('the token must be at least 16 characters');
    const ok = await startBrowserServer({ rendererDir, spawnWorker: spawn, token: 'x'.repeat(16) });
    expect(ok.token).toBe('x'.repeat(16));
    expect(ok.url).toBe(`http://127.0.0.1:${ok.port}/?token=${'x'.repeat(16)}`);
    await ok.close();
  });

  it('refuses a renderer folder without index.html, naming the file', async () => {
    const empty = path.join(sandbox, 'empty');
    await mkdir(empty, { recursive: true });
    await expect(startBrowserServer({ rendererDir: empty, spawnWorker: spawn, token: TOKEN }))
      .rejects.toThrow(`${path.join(empty, 'index.html')} is missing; build the renderer first (npm run build)`);
  });

  it('ends its worker when the port is taken', async () => {
    const mine: ScriptedWorker[] = [];
    await expect(startBrowserServer({
      rendererDir, token: TOKEN, port: server.port,
      spawnWorker: () => {
        const w = new ScriptedWorker();
        mine.push(w);
        return w;
      },
    })).rejects.toThrow(/EADDRINUSE/);
    expect(mine.map((w) => w.killed)).toEqual([1]);
  });

  it('closes its clients with 1001, ends its worker once, and stops listening', async () => {
    const mine: ScriptedWorker[] = [];
    const own = await startBrowserServer({
      rendererDir, token: TOKEN, spawnWorker: () => {
        const w = new ScriptedWorker();
        mine.push(w);
        return w;
      },
    });
    const socket = new WebSocket(`ws://127.0.0.1:${own.port}/bridge?token=${TOKEN}`, { origin: `http://127.0.0.1:${own.port}` });
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) => socket.once('close', (code, reason) => resolve([code, String(reason)])));
    const first = own.close();
    expect(own.close()).toBe(first);
    await first;
    expect(await closed).toEqual([1001, 'server shutting down']);
    expect(mine.map((w) => w.killed)).toEqual([1]);
    await expect(request('/', 'GET', {}, own.port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
