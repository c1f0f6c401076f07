// What both hosts (Electron's main process and the browser-mode server) set up
// the same way: the lab worker's environment, the early-death fallback ladder,
// the models folder, where static files may come from, and the one CSP.
import os from 'node:os';
import path from 'node:path';
import type { SpawnWorker, ToWorker, FromWorker, WorkerPort } from './worker-link.js';

/** engine/backends/wasm-threads.ts's WASM_THREADS_ENV (hosts set it without loading the engine). */
export const WASM_THREADS_ENV = 'LENET_LAB_WASM_THREADS';
/** engine/backends/ladder.ts reads the backend to use from this variable. */
export const BACKEND_ENV = 'LENET_LAB_BACKEND';
/** Set by the fallback ladder: why the worker runs on a lesser backend (the worker says so in its backend note). */
export const FALLBACK_NOTE_ENV = 'LENET_LAB_FALLBACK_NOTE';

/**
 * Variables the parent must not hand down: they change how Node or Electron runs the worker
 * (a test runner's loaders, a debugger, coverage, an unpacked asar), not what the lab does.
 */
const DROPPED_ENV = new Set([
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_V8_COVERAGE',
  'NODE_INSPECT_RESUME_ON_START',
  'ELECTRON_RUN_AS_NODE',
  'ELECTRON_NO_ASAR',
  'ELECTRON_NO_ATTACH_CONSOLE',
]);
/** LENET_LAB_* settings a user (or a test) may set on the app; the rest are the host's to decide. */
const USER_SETTINGS = new Set([BACKEND_ENV, 'LENET_LAB_MNIST_DIR', WASM_THREADS_ENV]);

/** The parent's environment minus what must not reach the worker. */
export function inheritedEnv(parentEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value === undefined || DROPPED_ENV.has(name)) continue;
    if (name.startsWith('LENET_LAB_') && !USER_SETTINGS.has(name)) continue;
    env[name] = value;
  }
  return env;
}

export interface WorkerConfig {
  modelsDir: string;
  assetsDir: string;
  transport: 'electron' | 'browser';
  /** MNIST's IDX files when the host ships them (packaged app); the user's LENET_LAB_MNIST_DIR wins. */
  mnistDir?: string | null;
}

/** The worker's whole environment: inherited (filtered), plus the LENET_LAB_* configuration. */
export function workerEnv(parentEnv: NodeJS.ProcessEnv, config: WorkerConfig): Record<string, string> {
  const env = inheritedEnv(parentEnv);
  env.LENET_LAB_MODELS_DIR = config.modelsDir;
  env.LENET_LAB_ASSETS_DIR = config.assetsDir;
  env.LENET_LAB_TRANSPORT = config.transport;
  if (config.mnistDir && !env.LENET_LAB_MNIST_DIR) env.LENET_LAB_MNIST_DIR = config.mnistDir;
  return env;
}

/** Where saved models go when nothing says otherwise (the CLI, the browser server, a bare worker). */
export const defaultModelsDir = (home: string = os.homedir()): string => path.join(home, '.lenet-lab', 'models');

/** The backends a worker falls back to, in order, when it dies before its first message. */
export const FALLBACK_BACKENDS = ['wasm', 'cpu'] as const;

/**
 * Wraps a spawner in the early-death ladder. A worker that dies before its first message (a native
 * crash while loading tfjs-node, say) is replaced at once by one on the wasm backend, then the cpu
 * one; the requests it was sent are sent again, so callers see one worker that started late. The
 * rung reached is kept for later restarts. `log` hears each step, and the worker is told why
 * (FALLBACK_NOTE_ENV), so its backend note says so in the window.
 */
export function fallbackSpawner(
  spawnWith: (extraEnv: Record<string, string>) => WorkerPort,
  log: (line: string) => void = () => {},
): SpawnWorker {
  let rung = 0; // 0: as configured; n: FALLBACK_BACKENDS[n - 1]
  let note = '';
  const extraEnv = (): Record<string, string> =>
    rung === 0 ? {} : { [BACKEND_ENV]: FALLBACK_BACKENDS[rung - 1]!, [FALLBACK_NOTE_ENV]: note };

  return () => {
    const messageListeners: ((message: FromWorker) => void)[] = [];
    const exitListeners: ((exitCode: number | null) => void)[] = [];
    const unanswered: ToWorker[] = [];
    let spoke = false;
    let killed = false;
    let current: WorkerPort;

    const attach = (port: WorkerPort): void => {
      current = port;
      port.onMessage((message) => {
        if (current !== port) return;
        spoke = true;
        unanswered.length = 0;
        for (const listener of messageListeners) listener(message);
      });
      port.onExit((code) => {
        if (current !== port) return;
        if (!spoke && !killed && code !== 0 && rung < FALLBACK_BACKENDS.length) {
          const from = rung === 0 ? 'its configured backend' : `the ${FALLBACK_BACKENDS[rung - 1]} backend`;
          rung++;
          note = `The trainer stopped while starting on ${from} (${code === null ? 'killed' : `exit code ${code}`}); it runs on the ${FALLBACK_BACKENDS[rung - 1]} backend instead.`;
          log(note);
          attach(spawnWith(extraEnv()));
          for (const message of unanswered) current.send(message);
          return;
        }
        for (const listener of exitListeners.splice(0)) listener(code);
      });
    };
    attach(spawnWith(extraEnv()));

    return {
      get pid() {
        return current.pid;
      },
      send(message) {
        if (!spoke) unanswered.push(message);
        current.send(message);
      },
      onMessage(listener) {
        messageListeners.push(listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill() {
        killed = true;
        current.kill();
      },
    };
  };
}

export type StaticPath = { ok: true; file: string } | { ok: false; why: 'malformed' | 'refused' };

/**
 * The one rule for serving a static file, used by app:// (main/app-protocol.ts) and the browser
 * server: the raw URL path ('/' is the entry page) is split on '/', each segment percent-decoded,
 * and must name a file inside root. A segment that could climb out or name something odd (empty,
 * '.', '..', dot files, encoded slashes or backslashes, ':' for drive letters and NTFS streams,
 * NUL and control characters) is refused; the joined path is checked to be inside root as a last
 * line of defence. Symlinks are the caller's to resolve (both hosts do, then check with isInside).
 */
export function resolveStaticPath(root: string, rawPathname: string): StaticPath {
  const raw = rawPathname === '/' || rawPathname === '' ? ['index.html'] : rawPathname.replace(/^\//, '').split('/');
  const segments: string[] = [];
  for (const part of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, why: 'malformed' };
    }
    if (segment === '' || segment.startsWith('.') || /[/\\:]/.test(segment) || hasControlCharacter(segment)) {
      return { ok: false, why: 'refused' };
    }
    segments.push(segment);
  }
  const absoluteRoot = path.resolve(root);
  const file = path.resolve(absoluteRoot, ...segments);
  return isInside(absoluteRoot, file) ? { ok: true, file } : { ok: false, why: 'refused' };
}

/** NUL and the other C0 control characters (U+0000 to U+001F). */
const hasControlCharacter = (text: string): boolean => [...text].some((ch) => ch.charCodeAt(0) < 0x20);

/** True when file lies strictly inside root (both absolute). */
export function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * The app's one Content-Security-Policy: scripts only from the app itself plus WebAssembly
 * compilation for tfjs's wasm backend, no eval, no plugins, no frames, no <base>, no form posts.
 * renderer/index.html carries the same policy in its meta tag (tests/unit/host-setup.test.ts checks).
 * Kept as one literal so Electronegativity's CSP evaluator reads the real policy. Its only remark is that
 * script-src 'self' could be abused through JSONP or user uploads on the same origin; the app serves
 * nothing but our own build output (no JSONP, no uploads), and tests/integration/electronegativity.test.ts re-runs
 * the evaluator on this policy and allows that one remark and nothing else.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"; // eng-disable CSP_GLOBAL_CHECK -- the app serves only our own bundled scripts (see the comment above)

/** The policy with connect-src widened to one more source (the browser server's own socket). */
export function contentSecurityPolicy(extraConnectSource?: string): string {
  if (!extraConnectSource) return CONTENT_SECURITY_POLICY;
  return CONTENT_SECURITY_POLICY.replace("connect-src 'self'", `connect-src 'self' ${extraConnectSource}`);
}
