// Entry of the lab worker process. Electron starts it with utilityProcess.fork
// (messages on process.parentPort); Node hosts with child_process.fork
// (process.send). A native crash here cannot take the window down.
// The worker is the serving end of the link (common/link.ts).
import { errorMessage, failure } from '../common/errors.js';
import { recordRuntimeThreads } from '../engine/training/runtime-threads.js';
import { serveLink, type RequestFrame, type ServerFrame } from '../common/link.js';
import { appVersion, assetsDir } from './app-paths.js';
import { defaultModelsDir } from './host-setup.js';
import { createLabService } from './lab-service.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) process.on('disconnect', () => process.exit(0));

// Before the lab service starts any thread: the ones here now are V8's and Node's own (runtime-threads.ts).
recordRuntimeThreads();

// Requests that arrive while the engine starts wait for it.
const service = createLabService({
  modelsDir: process.env.LENET_LAB_MODELS_DIR || defaultModelsDir(),
  assetsDir: assetsDir(),
  transport: process.env.LENET_LAB_TRANSPORT === 'electron' ? 'electron' : 'browser',
  backend: process.env.LENET_LAB_BACKEND || undefined,
  appVersion: appVersion(),
  warmUp: true,
  emit: (name, payload) => send({ kind: 'event', name, payload }),
});
service.catch((e: unknown) => process.stderr.write(`lenet-lab worker: The trainer could not start: ${errorMessage(e)}\n`));

function send(message: ServerFrame): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

serveLink(
  {
    send,
    onMessage: (listener) => {
      if (parentPort) parentPort.on('message', (event) => listener(event.data as RequestFrame));
      else process.on('message', (message) => listener(message as RequestFrame));
    },
    onClose: () => {}, // the worker ends with its channel
  },
  async (name, request) => {
    let ready;
    try {
      ready = await service;
    } catch (e) {
      // The engine could not start (no backend at all): answer every request with why.
      return failure('internal', `The trainer could not start: ${errorMessage(e)}`, { detail: errorMessage(e) });
    }
    return ready.handle(name, request);
  },
);
