// Each defence alone. The browser-mode socket needs the right Host, the right Origin and the right token:
// every combination is tried, so a check that is loosened or dropped fails the row where it is the only
// thing wrong (with the other two right, nothing else would refuse). The page likewise for Host and token.
// And a backslash ..\ path is refused on every OS, wherever a path comes from outside.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BRIDGE_PATH } from '../../common/ws-frames.js';
import { startBrowserServer, type BrowserServer } from '../../hosts/browser-server.js';
import { spawnForkedWorker } from '../../hosts/node-worker.js';
import { isUserError } from '../../common/errors.js';
import { initBackend } from '../../engine/backends/ladder.js';
import { getVariant } from '../../common/network/variants.js';
import { loadModel, saveModel } from '../../engine/io/model-store.js';

const FAKE_WORKER = new URL('../fixtures/fake-lab-worker.mjs', import.meta.url);
const TOKEN = 'oracle-token-0123456789abcdefghij';

let sandbox: string;
let server: BrowserServer;
beforeAll(async () => {
  sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-security-'));
  const rendererDir = path.join(sandbox, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>LeNet Lab</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(path.join(sandbox, 'secret.txt'), 'outside the renderer');
  server = await startBrowserServer({
    port: 0, rendererDir, token: TOKEN,
    spawnWorker: () => spawnForkedWorker({ LENET_LAB_MODELS_DIR: path.join(sandbox, 'models'), LENET_LAB_TRANSPORT: 'browser' }, { entry: FAKE_WORKER }),
  });
});
afterAll(async () => {
  await server?.close();
  await rm(sandbox, { recursive: true, force: true });
});

const right = () => ({ host: `127.0.0.1:${server.port}`, origin: `http://127.0.0.1:${server.port}`, token: TOKEN });
const wrong = () => ({ host: `evil.example:${server.port}`, origin: 'http://evil.example', token: `${TOKEN.slice(0, -1)}X` });

/** Opens the socket with these three; resolves with 'open' or the HTTP status of the refusal. */
function handshake(host: string, origin: string, token: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`, { origin, headers: { Host: host } });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (e) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(e);
    });
  });
}

/** GET with a raw path and Host header; resolves with the status. */
function page(rawPath: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: rawPath, headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the socket handshake, one defence at a time', () => {
  // [host, origin, token] right (R) or wrong (W) → expected answer
  const table: [string, 'open' | number][] = [
    ['RRR', 'open'],
    ['WRR', 421], // Host alone wrong
    ['RWR', 403], // Origin alone wrong
    ['RRW', 401], // token alone wrong
    ['WWR', 421], ['WRW', 421], ['RWW', 403], ['WWW', 421],
  ];
  it.each(table)('%s → %s', async (pattern, expected) => {
    const pick = (i: number, key: 'host' | 'origin' | 'token') => (pattern[i] === 'R' ? right() : wrong())[key];
    expect(await handshake(pick(0, 'host'), pick(1, 'origin'), pick(2, 'token'))).toBe(expected);
  });
  it('refuses a Host of the right name on another port, and localhost for 127.0.0.1', async () => {
    const { origin, token } = right();
    expect(await handshake(`127.0.0.1:${server.port + 1}`, origin, token)).toBe(421);
    expect(await handshake(`localhost:${server.port}`, origin, token)).toBe(421);
    expect(await handshake('127.0.0.1', origin, token)).toBe(421);
  });
});

describe('the page, one defence at a time', () => {
  it('needs the right Host and the right token, each alone', async () => {
    const { host, token } = right();
    expect(await page(`/?token=${token}`, host)).toBe(200);
    expect(await page(`/?token=${token}`, wrong().host)).toBe(421); // Host alone wrong
    expect(await page(`/?token=${wrong().token}`, host)).toBe(403); // token alone wrong
    expect(await page('/', host)).toBe(403);
    expect(await page('/index.html', host)).toBe(403);
    expect(await page('/assets/app.js', host)).toBe(200); // assets carry no secret
    expect(await page('/assets/app.js', wrong().host)).toBe(421);
  });

  it('never serves a file outside the renderer through backslash or encoded ..\\ paths', async () => {
    const { host } = right();
    for (const raw of ['/assets/..\\..\\secret.txt', '/..\\secret.txt', '/assets/..%5c..%5csecret.txt', '/%5c..%5c..%5csecret.txt',
      '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e%5c%2e%2e%5csecret.txt']) {
      expect([404, 400], raw).toContain(await page(raw, host));
    }
  });
});

describe('model folders: a backslash ..\\ weights path is refused on every OS', () => {
  it.each(['..\\weights.bin', 'sub\\weights.bin', '..\\..\\etc\\passwd', 'C:\\weights.bin', '\\\\server\\share\\weights.bin', '../weights.bin', '/etc/passwd', '..', '.'])(
    'weights path %s', async (weightsPath) => {
      await initBackend('wasm');
      const dir = path.join(sandbox, `model-${Math.random().toString(36).slice(2)}`);
      const model = getVariant('modern').build(1);
      await saveModel(model, dir, {
        formatVersion: 1, name: 'm', variant: 'modern', dataset: 'MNIST', recipe: { ...getVariant('modern').recipe }, history: { epochs: [] },
        backend: 'wasm', savedAt: '2026-01-01T00:00:00.000Z', testAccuracy: null, seed: 1,
      });
      model.dispose();
      // Valid weights sit wherever the path could lead, so only the check can refuse it: next to the folder
      // (where ..\ leads on Windows), and on POSIX in a file whose name holds the backslashes literally.
      const weights = await readFile(path.join(dir, 'weights.bin'));
      await writeFile(path.join(sandbox, 'weights.bin'), weights);
      if (process.platform !== 'win32' && !weightsPath.includes('/') && weightsPath !== '.' && weightsPath !== '..') {
        await writeFile(path.join(dir, weightsPath), weights);
      }
      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
      json.weightsManifest[0].paths = [weightsPath];
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      const outcome = await loadModel(dir).then((m) => (m.model.dispose(), 'loaded'), (e: unknown) => (isUserError(e) ? e.code : String(e)));
      expect(outcome).toBe('bad-file');
    });
});
