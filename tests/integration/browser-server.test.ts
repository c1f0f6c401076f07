// The browser-mode host: loopback only, token and Origin required, hostile
// frames answered with errors, static files confined to the renderer build,
// worker events relayed and worker crashes survivable. The worker here is a
// real child process running a small fake (tests/fixtures/fake-lab-worker.mjs).
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BRIDGE_MAX_FRAME_BYTES, BRIDGE_PATH, type BridgeFrame } from '../../common/ws-frames.js';
import { startBrowserServer, UNATTRIBUTED_FRAME_ID, type BrowserServer } from '../../hosts/browser-server.js';
import { spawnForkedWorker } from '../../hosts/node-worker.js';
import { rawRequest, type RawAnswer } from '../unit/raw-http.js';

const FAKE_WORKER = new URL('../fixtures/fake-lab-worker.mjs', import.meta.url);
const TOKEN = 'test-token-0123456789abcdefghij';

let sandbox: string;
let rendererDir: string;
let modelsDir: string;
let server: BrowserServer;
let origin: string;

beforeAll(async () => {
  sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-browser-server-'));
  rendererDir = path.join(sandbox, 'renderer');
  modelsDir = path.join(sandbox, 'models');
  await mkdir(path.join(rendererDir, 'assets', 'empty-dir'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>LeNet Lab</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(path.join(rendererDir, 'assets', 'style.css'), 'body{}');
  await writeFile(path.join(rendererDir, 'assets', 'tfjs.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await writeFile(path.join(sandbox, 'secret.txt'), 'outside the renderer');
  await symlink(path.join(sandbox, 'secret.txt'), path.join(rendererDir, 'assets', 'escape.txt'));
  server = await startBrowserServer({
    port: 0,
    rendererDir,
    token: TOKEN,
    spawnWorker: () => spawnForkedWorker({ LENET_LAB_MODELS_DIR: modelsDir, LENET_LAB_TRANSPORT: 'browser' }, { entry: FAKE_WORKER }),
  });
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await rm(sandbox, { recursive: true, force: true });
});

/** A raw GET: the path goes on the wire exactly as written (no URL normalisation). */
const get = (rawPath: string, headers: Record<string, string> = {}): Promise<RawAnswer> => rawRequest(server.port, rawPath, { headers });

const bridgeUrl = (token: string | null = TOKEN): string =>
  `ws://127.0.0.1:${server.port}${BRIDGE_PATH}${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** Opens a socket; resolves with it, or with the HTTP status the server refused the upgrade with. */
function connect(url: string, options: { origin?: string; headers?: Record<string, string> } = { origin: undefined }): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

/** A connected client that collects every frame and can await the answer to a request. */
class BridgeClient {
  readonly frames: BridgeFrame[] = [];
  private nextId = 1;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as BridgeFrame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<BridgeClient> {
    const socket = await connect(bridgeUrl(), { origin });
    if (typeof socket === 'number') throw new Error(`connection refused with HTTP ${socket}`);
    return new BridgeClient(socket);
  }

  async waitFor<T extends BridgeFrame>(match: (frame: BridgeFrame) => frame is T): Promise<T>;
  async waitFor(match: (frame: BridgeFrame) => boolean): Promise<BridgeFrame>;
  async waitFor(match: (frame: BridgeFrame) => boolean): Promise<BridgeFrame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  sendRaw(text: string | Buffer): void {
    this.socket.send(text);
  }

  async invoke(name: string, request: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, name, request }));
    const frame = await this.waitFor((f) => 'id' in f && f.id === id);
    return (frame as Extract<BridgeFrame, { id: number }>).result as never;
  }

  close(): void {
    this.socket.close();
  }
}

const answerTo = (id: number) => (frame: BridgeFrame): boolean => 'id' in frame && frame.id === id;

describe('network exposure', () => {
  it('listens on 127.0.0.1 only and prints a URL carrying the token', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
    // Every other address of this machine refuses the port.
    const others = Object.values(os.networkInterfaces()).flat()
      .filter((a): a is os.NetworkInterfaceInfo => !!a && a.address !== '127.0.0.1' && a.family === 'IPv4');
    for (const address of [...others.map((a) => a.address), '::1']) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: address, port: server.port }, () => { socket.destroy(); resolve('connected'); });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(outcome, `port reachable on ${address}`).not.toBe('connected');
    }
  });

  it('makes a random token per server when none is given', async () => {
    const a = await startBrowserServer({ rendererDir, spawnWorker: () => spawnForkedWorker({}, { entry: FAKE_WORKER }) });
    const b = await startBrowserServer({ rendererDir, spawnWorker: () => spawnForkedWorker({}, { entry: FAKE_WORKER }) });
    try {
      expect(a.token).toMatch(/^[\w-]{32}$/); // 24 random bytes, base64url
      expect(b.token).not.toBe(a.token);
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('the page', () => {
  it('is served only with the right token', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/index.html')).status).toBe(403);
    expect((await get('/?token=wrong')).status).toBe(403);
    expect((await get(`/?token=${TOKEN}x`)).status).toBe(403);
    const page = await get(`/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>LeNet Lab</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('carries the app CSP with connect-src limited to its own socket', async () => {
    const csp = (await get(`/?token=${TOKEN}`)).headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'"); // the app's one CSP (hosts/host-setup.ts), as on app://
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("'unsafe-eval'");
  });

  it("mirrors renderer/index.html's CSP, directive by directive", async () => {
    const html = await readFile(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta, 'renderer/index.html has a CSP meta tag').toBeTruthy();
    const directives = (policy: string) => new Map(policy.split(';').map((d) => d.trim()).filter(Boolean)
      .map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1).join(' ')]));
    const page = directives(meta!);
    const served = directives((await get(`/?token=${TOKEN}`)).headers['content-security-policy'] as string);
    // frame-ancestors only works as a header (browsers ignore it in a meta tag), so the header always has it.
    const headerOnly = ['frame-ancestors'];
    expect([...served.keys()].filter((name) => !page.has(name) && !headerOnly.includes(name))).toEqual([]);
    expect(served.get('frame-ancestors')).toBe("'none'");
    for (const [name, value] of page) {
      // The page allows any loopback socket; the server narrows that to its own port.
      if (name === 'connect-src') expect(served.get(name)).toBe(value.replace('ws://127.0.0.1:*', `ws://127.0.0.1:${server.port}`));
      else expect(served.get(name), name).toBe(value);
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get(`/?token=${TOKEN}`, { Host: `evil.example:${server.port}` })).status).toBe(421);
  });
});

describe('static files', () => {
  it('serves assets with their MIME types, wasm included', async () => {
    const cases: [string, string][] = [
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/style.css', 'text/css; charset=utf-8'],
      ['/assets/tfjs.wasm', 'application/wasm'],
    ];
    for (const [file, type] of cases) {
      const res = await get(file);
      expect(res.status, file).toBe(200);
      expect(res.headers['content-type'], file).toBe(type);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('never leaves the renderer folder, lists no folder, and 404s the rest', async () => {
    const refused = [
      '/../package.json',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%5csecret.txt',
      '/assets/escape.txt', // a symlink pointing outside
      '/assets%00/app.js',
      '/%',
      '/assets/',
      '/assets',
      '/assets/empty-dir',
      '/nothing-here.js',
      '//etc/passwd',
    ];
    for (const rawPath of refused) {
      const res = await get(rawPath);
      expect(res.status, rawPath).toBe(404);
      expect(res.body, rawPath).not.toContain('outside the renderer');
    }
  });

  it('answers only GET and HEAD', async () => {
    const { status } = await rawRequest(server.port, '/assets/app.js', { method: 'POST', body: 'x' });
    expect(status).toBe(405);
  });
});

describe('the socket handshake', () => {
  it('requires the exact token', async () => {
    expect(await connect(bridgeUrl(null), { origin })).toBe(401);
    expect(await connect(bridgeUrl('wrong'), { origin })).toBe(401);
    expect(await connect(bridgeUrl(TOKEN.slice(0, -1)), { origin })).toBe(401);
    expect(await connect(bridgeUrl(`${TOKEN}A`), { origin })).toBe(401);
    const accepted = await connect(bridgeUrl(), { origin });
    expect(accepted).toBeInstanceOf(WebSocket);
    (accepted as WebSocket).close();
  });

  it('requires its own Origin', async () => {
    expect(await connect(bridgeUrl(), {})).toBe(403); // no Origin header
    expect(await connect(bridgeUrl(), { origin: 'http://evil.example' })).toBe(403);
    expect(await connect(bridgeUrl(), { origin: `http://localhost:${server.port}` })).toBe(403);
    expect(await connect(bridgeUrl(), { origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await connect(bridgeUrl(), { origin: 'null' })).toBe(403);
  });
});

describe('frames', () => {
  it('answers a request through the host handler', async () => {
    const client = await BridgeClient.open();
    const info = await client.invoke('info', {});
    expect(info.ok).toBe(true);
    // The worker got the host's environment.
    expect((info as { value: { modelsDir: string; transport: string } }).value).toMatchObject({ modelsDir, transport: 'browser' });
    client.close();
  });

  it('closes an oversized frame with 1009 and stays up', async () => {
    const client = await BridgeClient.open();
    const closed = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    client.sendRaw(JSON.stringify({ id: 1, name: 'info', request: { pad: 'x'.repeat(BRIDGE_MAX_FRAME_BYTES) } }));
    expect(await closed).toBe(1009);
    const next = await BridgeClient.open();
    expect((await next.invoke('status', {})).ok).toBe(true);
    next.close();
  });

  it('answers malformed and hostile frames with errors and keeps serving', async () => {
    const client = await BridgeClient.open();
    const unattributed = ['{not json', '', 'null', '[]', '42', '"text"', '{"name":"info"}', '{"id":"1","name":"info"}',
      '{"id":1.5,"name":"info"}', '['.repeat(100_000), `{"id":${Number.MAX_SAFE_INTEGER + 2},"name":"info"}`];
    for (const text of unattributed) {
      const before = client.frames.length;
      client.sendRaw(text);
      const frame = await client.waitFor((f) => client.frames.indexOf(f) >= before);
      expect(frame, text.slice(0, 40)).toMatchObject({ id: UNATTRIBUTED_FRAME_ID, result: { ok: false, error: { code: 'invalid-request' } } });
    }
    client.sendRaw(Buffer.from([1, 2, 3])); // binary
    await client.waitFor((f) => client.frames.length > unattributed.length);
    expect(client.frames.at(-1)).toMatchObject({ id: UNATTRIBUTED_FRAME_ID, result: { ok: false } });

    const hostile: [string, unknown][] = [
      ['__proto__', {}],
      ['constructor', {}],
      ['toString', {}],
      ['hasOwnProperty', {}],
      ['no-such-channel', {}],
      ['train', { variant: 'resnet' }],
      ['train', { variant: 'modern', recipe: { learningRate: -1 } }],
      ['train', { variant: 'modern', recipe: { epochs: 0 } }],
      ['train', { variant: 'modern', extra: true }],
      ['train', JSON.parse('{"variant":"modern","__proto__":{"polluted":1}}')],
      ['openModel', { dir: '' }],
      ['saveModel', { name: '../../etc/passwd' }],
      ['saveModel', { name: 'x'.repeat(500) }],
      ['samples', { split: 'train', indices: [] }],
      ['samples', { split: 'train', indices: [-1] }],
      ['info', 'a string'],
      ['info', [1, 2]],
      ['info', { unexpected: 1 }],
    ];
    for (const [name, request] of hostile) {
      const result = await client.invoke(name, request);
      expect(result.ok, `${name} ${JSON.stringify(request)}`).toBe(false);
      expect((result as { error: { code: string } }).error.code).toBe('invalid-request');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // A malformed answer from the worker is an error too, not a relay.
    const csv = await client.invoke('historyCsv', {});
    expect(csv).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect((await client.invoke('status', {})).ok).toBe(true);
    client.close();
  });

  it('answers each request by its id, whatever the order of completion', async () => {
    const client = await BridgeClient.open();
    // The fake holds this answer until it has answered the next listModels.
    client.sendRaw(JSON.stringify({ id: 501, name: 'samples', request: { split: 'test', indices: [7] } }));
    client.sendRaw(JSON.stringify({ id: 502, name: 'listModels', request: {} }));
    const slow = await client.waitFor(answerTo(501));
    const ids = client.frames.filter((f) => 'id' in f).map((f) => (f as { id: number }).id);
    expect(ids).toEqual([502, 501]);
    expect(slow).toMatchObject({ result: { ok: true, value: { labels: [1] } } });
    client.close();
  });
});

describe('events and crashes', () => {
  it('relays well-formed worker events to every client and drops malformed ones', async () => {
    const a = await BridgeClient.open();
    const b = await BridgeClient.open();
    expect(await a.invoke('train', { variant: 'modern', limit: 100 })).toMatchObject({ ok: true, value: { runId: 'fake-run' } });
    for (const client of [a, b]) {
      await client.waitFor((f) => 'event' in f && (f.payload as { type: string; phase?: string }).phase === 'idle');
      const types = client.frames.filter((f) => 'event' in f).map((f) => (f as { payload: { type: string } }).payload.type);
      expect(types).toEqual(['state', 'batch', 'state']);
    }
    a.close();
    b.close();
  });

  it('reports a worker crash and restarts a fresh worker on request', async () => {
    const client = await BridgeClient.open();
    const before = await client.invoke('info', {});
    const oldPid = (before as { value: { versions: { pid: string } } }).value.versions.pid;

    const crashed = await client.invoke('saveModel', { name: 'crash now' });
    expect(crashed).toMatchObject({ ok: false, error: { code: 'crashed' } });
    const event = await client.waitFor((f) => 'event' in f && f.event === 'trainerCrashed');
    expect(event).toMatchObject({ event: 'trainerCrashed', payload: { exitCode: 3 } });
    expect((event as { payload: { message: string } }).payload.message).toContain('exit code 3');

    // Until restarted, requests fail with 'crashed' rather than hanging.
    expect(await client.invoke('status', {})).toMatchObject({ ok: false, error: { code: 'crashed' } });

    expect(await client.invoke('restartTrainer', {})).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    const after = await client.invoke('info', {});
    expect(after.ok).toBe(true);
    const newPid = (after as { value: { versions: { pid: string } } }).value.versions.pid;
    expect(newPid).not.toBe(oldPid);
    expect(() => process.kill(Number(oldPid), 0)).toThrow(); // the crashed one is gone
    client.close();
  });

  it('kills the worker when the server closes', async () => {
    const own = await startBrowserServer({ rendererDir, spawnWorker: () => spawnForkedWorker({}, { entry: FAKE_WORKER }), token: TOKEN });
    const socket = await connect(`ws://127.0.0.1:${own.port}${BRIDGE_PATH}?token=${TOKEN}`, { origin: `http://127.0.0.1:${own.port}` });
    if (typeof socket === 'number') throw new Error(`refused: ${socket}`);
    socket.send(JSON.stringify({ id: 1, name: 'info', request: {} }));
    const info = await new Promise<{ result: { value: { versions: { pid: string } } } }>((resolve) =>
      socket.once('message', (data) => resolve(JSON.parse(String(data)))));
    const pid = Number(info.result.value.versions.pid);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await own.close();
    expect(await closed).toBe(1001);
    await expect.poll(() => { try { process.kill(pid, 0); return 'alive'; } catch { return 'gone'; } }).toBe('gone');
  });
});

describe('spawnForkedWorker', () => {
  const exitOf = (port: ReturnType<typeof spawnForkedWorker>): Promise<number | null> =>
    new Promise((resolve) => port.onExit(resolve));

  it('ends a worker that ignores SIGTERM, and reports the exit once to each listener', async () => {
    const port = spawnForkedWorker({ FAKE_WORKER_IGNORE_SIGTERM: '1' }, { entry: FAKE_WORKER });
    const answered = new Promise<unknown>((resolve) => port.onMessage(resolve));
    port.send({ kind: 'invoke', id: 1, name: 'status', request: {} });
    expect(await answered).toEqual({ kind: 'result', id: 1, result: { ok: true, value: { phase: 'idle', runId: null } } });
    let calls = 0;
    port.onExit(() => calls++);
    const exited = exitOf(port);
    port.kill();
    port.kill(); // a second kill is harmless
    expect(await exited).toBeNull(); // ended by a signal
    expect(await exitOf(port)).toBeNull(); // a listener added after the end still hears of it
    expect(calls).toBe(1);
    port.send({ kind: 'invoke', id: 2, name: 'status', request: {} }); // sending to a dead worker does not throw
  });

  it('reports the exit code of a worker that exits by itself', async () => {
    const port = spawnForkedWorker({}, { entry: FAKE_WORKER });
    const exited = exitOf(port);
    port.send({ kind: 'invoke', id: 1, name: 'saveModel', request: { name: 'crash now' } });
    expect(await exited).toBe(3);
  });

  it('reports a worker script that cannot start as an exit', async () => {
    const port = spawnForkedWorker({}, { entry: path.join(os.tmpdir(), 'no-such-lenet-worker.js') });
    expect(await exitOf(port)).toBe(1);
  });
});

describe('hardening round 2', () => {
  it('the page needs the token however its path is spelled', async () => {
    // Every spelling that names the page, or is not plainly one file: without the token, never a 200.
    const expected: [string, number][] = [
      ['/', 403], ['/index.html', 403], ['/index.html/', 404], ['//', 404], ['/%2f', 404], ['/%2F', 404],
      ['/./index.html', 404], ['/index.html%00', 404], ['/assets/../index.html', 404], ['/%69ndex.html', 403],
      ['/index.html?token=wrong', 403], ['/index.html//', 404], ['/assets//app.js', 404], ['/%5cindex.html', 404],
    ];
    for (const [rawPath, status] of expected) {
      const res = await get(rawPath);
      expect(res.status, rawPath).toBe(status);
      expect(res.body, rawPath).not.toContain('<title>LeNet Lab</title>');
    }
    expect((await get(`/?token=${TOKEN}`)).status).toBe(200);
    expect((await get(`/index.html?token=${TOKEN}`)).status).toBe(200);
    expect((await get(`/%69ndex.html?token=${TOKEN}`)).status).toBe(200);
    expect((await get('/assets/app.js')).status).toBe(200);
  });

  it('drops a client that never reads once its unsent data passes the limit, and serves the others', async () => {
    const lines: string[] = [];
    const own = await startBrowserServer({ rendererDir, spawnWorker: () => spawnForkedWorker({}, { entry: FAKE_WORKER }), token: TOKEN, log: (l) => lines.push(l) });
    try {
      const socket = await connect(`ws://127.0.0.1:${own.port}${BRIDGE_PATH}?token=${TOKEN}`, { origin: `http://127.0.0.1:${own.port}` });
      if (typeof socket === 'number') throw new Error(`refused: ${socket}`);
      let answers = 0;
      socket.on('message', () => answers++);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      (socket as unknown as { _socket: net.Socket })._socket.pause(); // never read
      for (let id = 1; id <= 100; id++) socket.send(JSON.stringify({ id, name: 'samples', request: { split: 'test', indices: [9] } }));
      for (let i = 0; i < 400 && !lines.some((l) => l.startsWith('dropped a client')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(lines).toContain('dropped a client that left more than 33554432 bytes unread');
      (socket as unknown as { _socket: net.Socket })._socket.resume();
      await closed;
      expect(answers).toBeLessThan(100);
      // The server goes on for everyone else.
      const other = await connect(`ws://127.0.0.1:${own.port}${BRIDGE_PATH}?token=${TOKEN}`, { origin: `http://127.0.0.1:${own.port}` });
      expect(typeof other).not.toBe('number');
      (other as WebSocket).close();
    } finally {
      await own.close();
    }
  });

  it("one client's restart ends another client's run with the reason, for every client", async () => {
    const a = await BridgeClient.open();
    const b = await BridgeClient.open();
    expect(await a.invoke('train', { variant: 'lenet5', limit: 100 })).toMatchObject({ ok: true });
    await b.waitFor((f) => 'event' in f && (f.payload as { phase?: string }).phase === 'running');
    expect(await b.invoke('restartTrainer', {})).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    for (const client of [a, b]) {
      const end = await client.waitFor((f) => 'event' in f && (f.payload as { type: string }).type === 'error');
      expect(end).toEqual({
        event: 'trainerEvent',
        payload: { type: 'error', runId: 'long-run', message: 'The trainer was restarted (from this or another window), which ended this run; its unsaved training is lost.' },
      });
      await client.waitFor((f) => 'event' in f && (f.payload as { runId?: string; phase?: string }).runId === 'long-run' && (f.payload as { phase?: string }).phase === 'idle');
    }
    a.close();
    b.close();
  });
});
