// SpawnWorker for Node hosts (the browser-mode server, tests): the lab worker
// runs in a child_process.fork of dist/hosts/worker-entry.js and talks over
// the IPC channel. Electron uses utilityProcess instead (main/).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inheritedEnv } from './host-setup.js';
import type { FromWorker, ToWorker, WorkerPort } from './worker-link.js';

export interface ForkedWorkerOptions {
  /** The worker script; defaults to the compiled worker-entry.js next to this module. */
  entry?: string | URL;
}

/** How long a worker gets to exit after SIGTERM before it is killed outright. */
const KILL_GRACE_MS = 2000;

export function spawnForkedWorker(env: Record<string, string>, options: ForkedWorkerOptions = {}): WorkerPort {
  const entry = options.entry ?? new URL('./worker-entry.js', import.meta.url);
  const child = fork(entry instanceof URL ? fileURLToPath(entry) : entry, [], {
    // The same inherited environment as Electron's trainer: no NODE_OPTIONS, no Electron switches.
    env: { ...inheritedEnv(process.env), ...env },
    // The host's own flags (a test runner's loaders, --inspect) are not the worker's business.
    execArgv: [],
    serialization: 'advanced',
    // The worker's console goes to our stderr: the serve CLI's stdout carries only the URL.
    stdio: ['ignore', 2, 2, 'ipc'],
  });

  const exitListeners: ((exitCode: number | null) => void)[] = [];
  let exited = false;
  let exitCode: number | null = null;
  const finish = (code: number | null): void => {
    if (exited) return;
    exited = true;
    exitCode = code;
    for (const listener of exitListeners.splice(0)) listener(code);
  };
  child.once('exit', (code) => finish(code));
  // 'error' without 'exit' means the process never started (or could not be signalled).
  child.on('error', () => {
    if (child.exitCode === null && child.signalCode === null && child.pid === undefined) finish(null);
  });

  return {
    pid: child.pid,
    send(message: ToWorker): void {
      if (!child.connected) return; // exiting: the exit listener settles what is pending
      child.send(message, (error) => {
        if (error) child.kill('SIGKILL'); // a broken channel is a dead worker
      });
    },
    onMessage(listener: (message: FromWorker) => void): void {
      child.on('message', (message) => listener(message as FromWorker));
    },
    onExit(listener: (exitCode: number | null) => void): void {
      if (exited) queueMicrotask(() => listener(exitCode));
      else exitListeners.push(listener);
    },
    kill(): void {
      if (exited) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
      force.unref();
    },
  };
}
