// The browser-mode server's first defence for static paths, alone: parseRequestPath against a literal table
// (the realpath check behind it would otherwise hide a hole in it), and the page's token rule where the page's
// file is a symlink, so that the name and the file differ.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequestPath, startBrowserServer, type BrowserServer } from '../../hosts/browser-server.js';
import type { WorkerPort } from '../../hosts/worker-link.js';
import { rawRequest } from './raw-http.js';

describe('parseRequestPath', () => {
  // [request target, decoded path or null (refused), query as a string]
  const cases: [string, string | null, string][] = [
    ['/', '/', ''],
    ['/?token=abc', '/', 'token=abc'],
    ['/assets/app.js?x=1&y=2', '/assets/app.js', 'x=1&y=2'],
    ['/assets/app.js', '/assets/app.js', ''],
    ['/a%20b.js', '/a b.js', ''],
    ['/.well', '/.well', ''],
    ['/..a/b.', '/..a/b.', ''],
    ['/a/b/c.txt', '/a/b/c.txt', ''],
    ['', null, ''],
    ['?token=abc', null, ''],
    ['assets/app.js', null, ''],
    ['/assets%2fapp.js', null, ''],
    ['/assets%2Fapp.js', null, ''],
    ['/assets%5capp.js', null, ''],
    ['/assets%5Capp.js', null, ''],
    ['/a\\b', null, ''],
    ['/a%5', null, ''],
    ['/%', null, ''],
    ['/a%00b', null, ''],
    ['/a%0ab', null, ''],
    ['/a%1fb', null, ''],
    ['/a%7fb', null, ''],
    ['//a', null, ''],
    ['/a//b', null, ''],
    ['/a/', null, ''],
    ['/.', null, ''],
    ['/..', null, ''],
    ['/a/./b', null, ''],
    ['/a/../b', null, ''],
    ['/%2e%2e/b', null, ''],
    ['/a/%2E', null, ''],
  ];
  it.each(cases)('%j → %j', (target, pathname, query) => {
    const parsed = parseRequestPath(target);
    if (pathname === null) return expect(parsed).toBeNull();
    expect(parsed?.pathname).toBe(pathname);
    expect(parsed?.query.toString()).toBe(query);
  });
});

describe('the page behind a symlink', () => {
  const TOKEN = 'paths-token-0123456789abcdef';
  let sandbox: string;
  let server: BrowserServer;
  const status = async (target: string): Promise<number> => (await rawRequest(server.port, target)).status;

  beforeAll(async () => {
    sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-server-paths-'));
    const renderer = path.join(sandbox, 'renderer');
    await mkdir(path.join(renderer, 'assets'), { recursive: true });
    await writeFile(path.join(renderer, 'page.html'), '<!doctype html><title>LeNet Lab</title>');
    await symlink('page.html', path.join(renderer, 'index.html'));
    await writeFile(path.join(renderer, 'assets', 'app.js'), '');
    const idle: WorkerPort = { send: () => undefined, onMessage: () => undefined, onExit: () => undefined, kill: () => undefined };
    server = await startBrowserServer({ rendererDir: renderer, token: TOKEN, spawnWorker: () => idle });
  });
  afterAll(async () => {
    await server?.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  it('needs the token by its link, by its file and at /', async () => {
    for (const target of ['/', '/index.html', '/page.html']) {
      expect(await status(target), target).toBe(403);
      expect(await status(`${target}?token=${TOKEN}`), target).toBe(200);
    }
    expect(await status('/assets/app.js')).toBe(200);
  });

  it('answers a folder 404, with the same words as a missing file', async () => {
    const answer = await rawRequest(server.port, '/assets');
    const body = `${answer.status} ${answer.body}`;
    expect(body).toBe('404 Not found\n');
  });
});
