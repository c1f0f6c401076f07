// The host's side of the worker link (hosts/worker-link.ts) with a stand-in worker process: a request before
// the worker runs, and which run a crash ends when the worker reported the end of another.
import { describe, expect, it } from 'vitest';
import { WorkerClient, type FromWorker, type WorkerPort } from '../../hosts/worker-link.js';

function standIn() {
  let onMessage: (m: FromWorker) => void = () => {};
  const exits: ((code: number | null) => void)[] = [];
  const port: WorkerPort = {
    send: () => {},
    onMessage: (l) => void (onMessage = l),
    onExit: (l) => void exits.push(l),
    kill: () => {},
  };
  return { port, say: (m: FromWorker) => onMessage(m), exit: (code: number | null) => exits.forEach((l) => l(code)) };
}

describe('the worker client', () => {
  it('answers a request before any worker started with "not running"', async () => {
    const client = new WorkerClient(() => standIn().port, () => {});
    expect(await client.invoke('status', {})).toEqual({ ok: false, error: { code: 'crashed', message: 'The trainer is not running.', params: { exitCode: null } } });
  });

  it('a crash ends the run in progress, even after another run\'s end was reported', () => {
    const worker = standIn();
    const emitted: [string, unknown][] = [];
    const client = new WorkerClient(() => worker.port, (name, payload) => emitted.push([name, payload]));
    client.start();
    const event = (payload: object) => worker.say({ kind: 'event', name: 'trainerEvent', payload });
    event({ type: 'state', runId: 'run-a', phase: 'running' });
    event({ type: 'error', runId: 'run-b', message: 'another run failed' });
    emitted.length = 0;
    worker.exit(1);
    expect(emitted).toEqual([
      ['trainerEvent', { type: 'error', runId: 'run-a', message: 'The trainer process stopped unexpectedly (exit code 1), which ended this run.' }],
      ['trainerEvent', { type: 'state', runId: 'run-a', phase: 'idle' }],
      ['trainerCrashed', { message: 'The trainer process stopped unexpectedly (exit code 1). Saved models are safe; restart the trainer to go on.', exitCode: 1 }],
    ]);
  });
});
