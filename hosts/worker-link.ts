// The link between a host (Electron main, the browser-mode server) and the lab
// worker process that owns the engine: a LinkClient (common/link.ts) over the
// worker's process channel. The host decides how the worker is spawned
// (utilityProcess, child_process.fork); crash reports and restarts live here.
// Worker events enter the host here, so this is where they are validated, once.
import { parseEvent, type EventName, type InvokeName, type ResponseOf } from '../common/contract.js';
import { labError, type LabError, type Result } from '../common/errors.js';
import { LinkClient, type RequestFrame, type ServerFrame } from '../common/link.js';

export type ToWorker = RequestFrame;
export type FromWorker = ServerFrame;

/** A spawned worker, whatever the process kind. */
export interface WorkerPort {
  /** The worker's process id, where the process kind has one. */
  readonly pid?: number;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the process ends (exit code, or null when killed by a signal). */
  onExit(listener: (exitCode: number | null) => void): void;
  kill(): void;
}
export type SpawnWorker = () => WorkerPort;
export type EmitEvent = (name: EventName, payload: unknown) => void;

export interface WorkerClientOptions {
  /** A worker event that breaks the contract (the worker is trusted less than the contract). */
  onDroppedEvent?: (name: string, why: string) => void;
}

const exitDetail = (exitCode: number | null): string => (exitCode === null ? 'killed' : `exit code ${exitCode}`);
const crashedError = (exitCode: number | null): LabError =>
  labError(
    'crashed',
    `The trainer process stopped unexpectedly (${exitDetail(exitCode)}). Saved models are safe; restart the trainer to go on.`,
    { exitCode },
  );

/** Host-side client: forwards invokes, relays checked events, reports crashes, restarts. */
export class WorkerClient {
  private port: WorkerPort | null = null;
  private link: LinkClient | null = null;
  private crashedWith: LabError | null = null;
  private stopping = false;
  private activeRun: string | null = null;

  constructor(
    private readonly spawn: SpawnWorker,
    private readonly emit: EmitEvent,
    private readonly options: WorkerClientOptions = {},
  ) {}

  start(): void {
    this.crashedWith = null;
    const port = this.spawn();
    let exitCode: number | null = null;
    const link = new LinkClient(
      {
        send: (message) => port.send(message),
        onMessage: (listener) =>
          port.onMessage((message) => {
            if (message && typeof message === 'object') listener(message);
          }),
        onClose: (listener) =>
          port.onExit((code) => {
            exitCode = code;
            listener(exitDetail(code));
          }),
      },
      {
        onEvent: (name, payload) => {
          if (this.link !== link) return; // late words from a worker we replaced
          const checked = parseEvent(name, payload);
          if (!checked.ok) return this.options.onDroppedEvent?.(checked.name, checked.why);
          if (checked.name === 'trainerEvent') this.trackRun(checked.payload);
          this.emit(checked.name, checked.payload);
        },
        closedError: () => crashedError(exitCode),
      },
    );
    this.port = port;
    this.link = link;
    port.onExit((code) => {
      if (this.link !== link) return; // an old worker we replaced
      this.port = null;
      this.link = null;
      if (this.stopping) return;
      this.endActiveRun(`The trainer process stopped unexpectedly (${exitDetail(code)}), which ended this run.`);
      this.crashedWith = crashedError(code);
      this.emit('trainerCrashed', { message: this.crashedWith.message, exitCode: code });
    });
  }

  /** Follows the run the worker reports, so a restart or crash can end it for every client. */
  private trackRun(payload: unknown): void {
    const event = payload as { type?: unknown; runId?: unknown; phase?: unknown } | null;
    if (typeof event?.runId !== 'string') return;
    const ended = event.type === 'done' || event.type === 'error' || (event.type === 'state' && event.phase === 'idle');
    if (!ended) this.activeRun = event.runId;
    else if (this.activeRun === event.runId) this.activeRun = null;
  }

  private endActiveRun(message: string): void {
    const runId = this.activeRun;
    if (runId === null) return;
    this.activeRun = null;
    this.emit('trainerEvent', { type: 'error', runId, message });
    this.emit('trainerEvent', { type: 'state', runId, phase: 'idle' });
  }

  get running(): boolean {
    return this.port !== null;
  }

  invoke<K extends InvokeName>(name: K, request: unknown): Promise<Result<ResponseOf<K>>> {
    if (!this.link) {
      return Promise.resolve({ ok: false, error: this.crashedWith ?? labError('crashed', 'The trainer is not running.', { exitCode: null }) });
    }
    return this.link.invoke(name, request) as Promise<Result<ResponseOf<K>>>;
  }

  /** Kill whatever runs and start a fresh worker. Every client sees a run in progress end, and why. */
  restart(): void {
    const old = this.port;
    this.link?.close('restarted', labError('crashed', 'The trainer was restarted.', { restarted: true }));
    this.port = null;
    this.link = null;
    old?.kill();
    this.endActiveRun('The trainer was restarted (from this or another window), which ended this run; its unsaved training is lost.');
    this.start();
  }

  dispose(): void {
    this.stopping = true;
    this.port?.kill();
    this.port = null;
  }
}
