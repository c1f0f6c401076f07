// Entry of the lab worker process. Electron starts it with utilityProcess.fork
// (messages on process.parentPort); Node hosts with child_process.fork
// (process.send). A native crash here cannot take the window down.
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../common/errors.js';
import type { FromWorker, ToWorker } from './worker-link.js';
import { appVersion, assetsDir } from './app-paths.js';
import { createLabService } from './lab-service.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const send = (message: FromWorker): void => {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
};
const onMessage = (listener: (message: ToWorker) => void): void => {
  if (parentPort) parentPort.on('message', (event) => listener(event.data as ToWorker));
  else process.on('message', (message) => listener(message as ToWorker));
};


// Requests that arrive while the engine starts wait for it.
const queue: ToWorker[] = [];
let handle: ((message: ToWorker) => void) | null = null;
onMessage((message) => (handle ? handle(message) : queue.push(message)));
if (!parentPort) process.on('disconnect', () => process.exit(0));

try {
  const service = await createLabService({
    modelsDir: process.env.LENET_LAB_MODELS_DIR ?? path.join(os.homedir(), '.lenet-lab', 'models'),
    assetsDir: assetsDir(),
    transport: process.env.LENET_LAB_TRANSPORT === 'electron' ? 'electron' : 'browser',
    backend: process.env.LENET_LAB_BACKEND || undefined,
    appVersion: appVersion(),
    emit: (name, payload) => send({ kind: 'event', name, payload }),
  });
  handle = (message) => {
    if (message?.kind !== 'invoke' || typeof message.id !== 'number') return;
    void service.handle(message.name, message.request).then((result) => send({ kind: 'result', id: message.id, result }));
  };
  for (const message of queue.splice(0)) handle(message);
} catch (e) {
  // The engine could not start (no backend at all): answer every request with why.
  const error = { code: 'internal' as const, message: `The trainer could not start: ${errorMessage(e)}` };
  process.stderr.write(`lenet-lab worker: ${error.message}\n`);
  handle = (message) => send({ kind: 'result', id: message.id, result: { ok: false, error } });
  for (const message of queue.splice(0)) handle(message);
}
