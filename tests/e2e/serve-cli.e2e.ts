// `npm run serve` as a user runs it: the compiled CLI prints the URL as its
// first stdout line, the URL opens the app, and Ctrl-C shuts it down cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness.js';

const CLI = path.join(REPO_ROOT, 'dist', 'hosts', 'serve-cli.js');
let sandbox: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing. Run "npm run build" first.`);
  sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-serve-cli-'));
});
afterAll(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

function runCli(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null>; firstLine: Promise<string | null> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LENET_LAB_MODELS_DIR: path.join(sandbox, 'models') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string | null>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(null));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit, firstLine };
}

describe('npm run serve', () => {
  it('prints the tokened URL first, serves the app there, and stops cleanly on Ctrl-C', async () => {
    const run = runCli(['--port', '0']);
    const first = await run.firstLine;
    expect(first, run.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    const url = new URL(first!);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toMatch(/<!doctype html>/i);
    expect((await fetch(`${url.origin}/`)).status).toBe(403);

    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toContain('shutting down');
    // The port is free again: nothing was left listening.
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer().once('error', reject).listen(Number(url.port), '127.0.0.1', () => probe.close(() => resolve()));
    });
  });

  it('rejects a bad --port with a message and exit code 1, printing no URL', async () => {
    for (const port of ['abc', '-1', '70000', '1.5']) {
      const run = runCli(['--port', port]);
      expect(await run.firstLine).toBeNull();
      expect(await run.exit).not.toBe(0);
      expect(run.stderr()).toContain(`"${port}" is not a port`);
    }
  });

  it('says so when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = runCli(['--port', String(port)]);
      expect(await run.firstLine).toBeNull();
      expect(await run.exit).toBe(1);
      expect(run.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });
});
