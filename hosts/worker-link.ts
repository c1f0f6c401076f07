// The link between a host (Electron main, the browser-mode server) and the lab
// worker process that owns the engine. The host decides how the worker is
// spawned (utilityProcess, child_process.fork); everything else is shared here.
import type { EventName, InvokeName, LabError, ResponseOf, Result } from '../common/contract.js';

export type ToWorker = { kind: 'invoke'; id: number; name: InvokeName; request: unknown };
export type FromWorker =
  | { kind: 'result'; id: number; result: Result<unknown> }
  | { kind: 'event'; name: EventName; payload: unknown };

/** A spawned worker, whatever the process kind. */
export interface WorkerPort {
  /** The worker's process id, where the process kind has one. */
  readonly pid?: number;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the process ends; `expected` is true after kill(). */
  onExit(listener: (exitCode: number | null) => void): void;
  kill(): void;
}
export type SpawnWorker = () => WorkerPort;
export type EmitEvent = (name: EventName, payload: unknown) => void;

const crashedError = (detail: string): LabError => ({
  code: 'crashed',
  message: `The trainer process stopped unexpectedly (${detail}). Saved models are safe; restart the trainer to go on.`,
});

/** Host-side client: forwards invokes, relays events, reports crashes, restarts. */
export class WorkerClient {
  private port: WorkerPort | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private crashed: string | null = null;
  private stopping = false;
  private activeRun: string | null = null;

  constructor(private readonly spawn: SpawnWorker, private readonly emit: EmitEvent) {}

  start(): void {
    this.crashed = null;
    const port = this.spawn();
    this.port = port;
    port.onMessage((message) => {
      if (this.port !== port) return; // late words from a worker we replaced
      if (message.kind === 'result') {
        const settle = this.pending.get(message.id);
        this.pending.delete(message.id);
        settle?.(message.result);
      } else if (message.kind === 'event') {
        if (message.name === 'trainerEvent') this.trackRun(message.payload);
        this.emit(message.name, message.payload);
      }
    });
    port.onExit((exitCode) => {
      if (this.port !== port) return; // an old worker we replaced
      this.port = null;
      const detail = exitCode === null ? 'killed' : `exit code ${exitCode}`;
      for (const settle of this.pending.values()) settle({ ok: false, error: crashedError(detail) });
      this.pending.clear();
      if (this.stopping) return;
      this.endActiveRun(`The trainer process stopped unexpectedly (${detail}), which ended this run.`);
      this.crashed = detail;
      this.emit('trainerCrashed', { message: crashedError(detail).message, exitCode });
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
    if (!this.port) {
      const error = this.crashed ? crashedError(this.crashed) : { code: 'crashed' as const, message: 'The trainer is not running.' };
      return Promise.resolve({ ok: false, error });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: Result<unknown>) => void);
      this.port!.send({ kind: 'invoke', id, name, request });
    });
  }

  /** Kill whatever runs and start a fresh worker. Every client sees a run in progress end, and why. */
  restart(): void {
    const old = this.port;
    this.port = null;
    old?.kill();
    this.endActiveRun('The trainer was restarted (from this or another window), which ended this run; its unsaved training is lost.');
    for (const settle of this.pending.values()) settle({ ok: false, error: { code: 'crashed', message: 'The trainer was restarted.' } });
    this.pending.clear();
    this.start();
  }

  dispose(): void {
    this.stopping = true;
    this.port?.kill();
    this.port = null;
  }
}
