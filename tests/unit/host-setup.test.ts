// One host setup for Electron's main process and the browser-mode server
// (hosts/host-setup.ts): the worker's environment, the early-death ladder,
// the models folder, the static-file path rule and the one CSP.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WASM_THREADS_ENV as ENGINE_WASM_THREADS_ENV } from '../../engine/backends/wasm-threads.js';
import {
  CONTENT_SECURITY_POLICY,
  contentSecurityPolicy,
  defaultModelsDir,
  fallbackSpawner,
  inheritedEnv,
  isInside,
  resolveStaticPath,
  WASM_THREADS_ENV,
  workerEnv,
} from '../../hosts/host-setup.js';
import type { FromWorker, ToWorker, WorkerPort } from '../../hosts/worker-link.js';
import { appLayout, trainerEnv } from '../../main/trainer-process.js';

describe('the worker environment', () => {
  const dropped = [
    'NODE_OPTIONS',
    'NODE_EXTRA_CA_CERTS',
    'NODE_V8_COVERAGE',
    'NODE_INSPECT_RESUME_ON_START',
    'ELECTRON_RUN_AS_NODE',
    'ELECTRON_NO_ASAR',
    'ELECTRON_NO_ATTACH_CONSOLE',
  ];

  it.each(dropped)('drops %s, alone', (name) => {
    expect(inheritedEnv({ PATH: '/bin', [name]: '1' })).toEqual({ PATH: '/bin' });
  });

  it('does not hand down a variable that is declared but unset, even as a key', () => {
    expect(Object.keys(inheritedEnv({ PATH: '/bin', UNSET: undefined }))).toEqual(['PATH']);
  });

  it("keeps the user's LENET_LAB settings and drops the host's own", () => {
    const env = inheritedEnv({
      LENET_LAB_BACKEND: 'cpu',
      LENET_LAB_MNIST_DIR: '/m',
      LENET_LAB_WASM_THREADS: '2',
      LENET_LAB_MODELS_DIR: '/x',
      LENET_LAB_TRANSPORT: 'electron',
      LENET_LAB_ASSETS_DIR: '/a',
      LENET_LAB_FALLBACK_NOTE: 'n',
      UNSET: undefined,
    });
    expect(env).toEqual({ LENET_LAB_BACKEND: 'cpu', LENET_LAB_MNIST_DIR: '/m', LENET_LAB_WASM_THREADS: '2' });
    expect(WASM_THREADS_ENV).toBe(ENGINE_WASM_THREADS_ENV);
  });

  it('is the same for both hosts but for the transport and the folders', () => {
    const parent = { PATH: '/bin', NODE_OPTIONS: '--require x', ELECTRON_NO_ASAR: '1', LENET_LAB_BACKEND: 'wasm' };
    const layout = appLayout({ isPackaged: false, appPath: '/repo', resourcesPath: '/r', userDataPath: '/u' });
    const electron = trainerEnv(layout, parent);
    const browser = workerEnv(parent, {
      modelsDir: layout.modelsDir,
      assetsDir: layout.assetsDir,
      transport: 'browser',
    });
    expect({ ...electron, LENET_LAB_TRANSPORT: 'browser' }).toEqual(browser);
    expect(browser).toEqual({
      PATH: '/bin',
      LENET_LAB_BACKEND: 'wasm',
      LENET_LAB_MODELS_DIR: path.join('/u', 'models'),
      LENET_LAB_ASSETS_DIR: path.join('/repo', 'assets'),
      LENET_LAB_TRANSPORT: 'browser',
    });
  });

  it('puts saved models under ~/.lenet-lab/models by default', () => {
    expect(defaultModelsDir('/home/ada')).toBe(path.join('/home/ada', '.lenet-lab', 'models'));
  });
});

/** Workers that die or speak on command. */
function fakeSpawns() {
  const spawned: {
    env: Record<string, string>;
    posted: ToWorker[];
    say(m: FromWorker): void;
    exit(c: number | null): void;
    killed: boolean;
  }[] = [];
  const spawnWith = (env: Record<string, string>): WorkerPort => {
    const messages: ((m: FromWorker) => void)[] = [];
    const exits: ((c: number | null) => void)[] = [];
    const entry = {
      env,
      posted: [] as ToWorker[],
      killed: false,
      say: (m: FromWorker) => messages.forEach((l) => l(m)),
      exit: (c: number | null) => exits.splice(0).forEach((l) => l(c)),
    };
    spawned.push(entry);
    return {
      send: (m) => void entry.posted.push(m),
      onMessage: (l) => void messages.push(l),
      onExit: (l) => void exits.push(l),
      kill: () => {
        entry.killed = true;
        entry.exit(null);
      },
    };
  };
  return { spawned, spawnWith };
}

describe('the early-death ladder', () => {
  const status: ToWorker = { kind: 'invoke', id: 1, name: 'status', request: {} };

  it('goes configured → wasm → cpu, then reports the exit', () => {
    const { spawned, spawnWith } = fakeSpawns();
    const lines: string[] = [];
    const port = fallbackSpawner(spawnWith, (line) => lines.push(line))();
    const exits: (number | null)[] = [];
    port.onExit((code) => exits.push(code));
    port.send(status);
    spawned[0]!.exit(3);
    spawned[1]!.exit(null);
    expect(spawned.map((s) => s.env.LENET_LAB_BACKEND)).toEqual([undefined, 'wasm', 'cpu']);
    expect(spawned.map((s) => s.posted)).toEqual([[status], [status], [status]]);
    expect(lines).toEqual([
      expect.stringMatching(/configured backend \(exit code 3\).*wasm backend instead/),
      expect.stringMatching(/wasm backend \(killed\).*cpu backend instead/),
    ]);
    expect(spawned[2]!.env.LENET_LAB_FALLBACK_NOTE).toBe(lines[1]);
    expect(exits).toEqual([]);
    spawned[2]!.exit(5);
    expect(exits).toEqual([5]);
  });

  it('does not step down after the worker spoke, after a clean exit, or after kill()', () => {
    for (const end of ['spoke', 'clean', 'killed'] as const) {
      const { spawned, spawnWith } = fakeSpawns();
      const port = fallbackSpawner(spawnWith)();
      const exits: (number | null)[] = [];
      port.onExit((code) => exits.push(code));
      if (end === 'spoke') spawned[0]!.say({ kind: 'event', name: 'trainerCrashed', payload: {} });
      if (end === 'killed') port.kill();
      else spawned[0]!.exit(end === 'clean' ? 0 : 139);
      expect(spawned, end).toHaveLength(1);
      expect(exits, end).toEqual([end === 'killed' ? null : end === 'clean' ? 0 : 139]);
    }
  });

  it('ignores a replaced worker: its late words reach no one and do not count as the new one speaking', () => {
    const { spawned, spawnWith } = fakeSpawns();
    const port = fallbackSpawner(spawnWith)();
    const heard: FromWorker[] = [];
    const exits: (number | null)[] = [];
    port.onMessage((m) => heard.push(m));
    port.onExit((c) => exits.push(c));
    spawned[0]!.exit(1);
    spawned[0]!.say({ kind: 'event', name: 'trainerCrashed', payload: {} });
    expect(heard).toEqual([]);
    // The new worker has not spoken: it too may step down.
    spawned[1]!.exit(2);
    expect(spawned).toHaveLength(3);
    expect(exits).toEqual([]);
  });

  it('starts later workers on the rung it reached', () => {
    const { spawned, spawnWith } = fakeSpawns();
    const spawn = fallbackSpawner(spawnWith);
    spawn();
    spawned[0]!.exit(1);
    spawned[1]!.say({ kind: 'result', id: 1, result: { ok: true, value: null } });
    spawn();
    expect(spawned[2]!.env.LENET_LAB_BACKEND).toBe('wasm');
  });
});

describe('isInside, the static-file rule\'s last line of defence', () => {
  const root = path.resolve('/srv/app');
  it.each([
    [path.join(root, 'index.html'), true],
    [path.join(root, 'a', 'b.js'), true],
    [path.join(root, 'a..'), true],
    [root, false],
    [path.resolve(root, '..', 'other'), false],
    [path.resolve('/srv/appx'), false],
    [path.resolve('/etc/passwd'), false],
  ])('%s → %s', (file, inside) => {
    expect(isInside(root, file)).toBe(inside);
  });
});

describe('the static-file path rule', () => {
  const root = path.resolve('/srv/app');
  it.each([
    ['/', path.join(root, 'index.html')],
    ['/index.html', path.join(root, 'index.html')],
    ['/assets/index-1.js', path.join(root, 'assets', 'index-1.js')],
    ['/assets/a%20b.css', path.join(root, 'assets', 'a b.css')],
  ])('serves %s', (url, file) => {
    expect(resolveStaticPath(root, url)).toEqual({ ok: true, file });
  });

  it.each([
    '/..',
    '/../etc/passwd',
    '/assets/../../x',
    '/%2e%2e/x',
    '/a%2Fb',
    '/a%5Cb',
    '/C:x',
    '/.env',
    '/assets/',
    '//x',
    '/a%00b',
    '/a%1fb',
    '/./index.html',
  ])('refuses %s', (url) => {
    expect(resolveStaticPath(root, url)).toEqual({ ok: false, why: 'refused' });
  });

  it('calls broken percent-encoding malformed', () => {
    expect(resolveStaticPath(root, '/%E0%A4%A')).toEqual({ ok: false, why: 'malformed' });
  });
});

describe('the one CSP', () => {
  it('is this policy, directive by directive', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; " +
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(contentSecurityPolicy('ws://127.0.0.1:5178')).toContain("connect-src 'self' ws://127.0.0.1:5178;");
    expect(contentSecurityPolicy()).toBe(CONTENT_SECURITY_POLICY);
  });

  it("is renderer/index.html's meta policy (which allows any loopback socket and cannot hold frame-ancestors)", () => {
    const html = readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(contentSecurityPolicy('ws://127.0.0.1:*').replace("; frame-ancestors 'none'", ''));
  });
});
