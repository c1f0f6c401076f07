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

/** A started client over a stand-in worker, and what it emitted. */
function startedClient() {
  const worker = standIn();
  const emitted: [string, unknown][] = [];
  const client = new WorkerClient(() => worker.port, (name, payload) => emitted.push([name, payload]));
  client.start();
  return { worker, emitted, client };
}

/** Straight to the client's run tracking (the contract's check of each event is tested elsewhere). */
const trackerOf = (client: WorkerClient) => (client as unknown as { trackRun(p: unknown): void }).trackRun.bind(client);

describe('the worker client', () => {
  it('answers a request before any worker started with "not running"', async () => {
    const client = new WorkerClient(() => standIn().port, () => {});
    expect(await client.invoke('status', {})).toEqual({ ok: false, error: { code: 'crashed', message: 'The trainer is not running.', params: { exitCode: null } } });
  });

  it('a crash ends the run in progress, even after another run\'s end was reported', () => {
    const { worker, emitted } = startedClient();
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

  it.each([
    ['its done', { type: 'done', runId: 'run-a', reason: 'completed' }],
    ['its error', { type: 'error', runId: 'run-a', message: 'x' }],
    ['its idle state', { type: 'state', runId: 'run-a', phase: 'idle' }],
  ])('a run that reported %s is over: a crash then ends no run', (_, end) => {
    const { worker, emitted, client } = startedClient();
    const track = trackerOf(client);
    track({ type: 'state', runId: 'run-a', phase: 'running' });
    track({ type: 'state', runId: 'run-a', phase: 'paused' });
    track({ type: 'batch' }); // no run id: not a run's event
    track(end);
    worker.exit(1);
    expect(emitted.map(([name]) => name)).toEqual(['trainerCrashed']);
  });

  it('a paused run is still in progress: a crash ends it', () => {
    const { worker, emitted, client } = startedClient();
    const track = trackerOf(client);
    track({ type: 'state', runId: 'run-a', phase: 'running' });
    track({ type: 'state', runId: 'run-a', phase: 'paused' });
    worker.exit(null);
    expect(emitted.map(([name, payload]) => [name, (payload as { type?: string }).type])).toEqual([['trainerEvent', 'error'], ['trainerEvent', 'state'], ['trainerCrashed', undefined]]);
    // Killed by a signal: no exit code, and the words say so.
    expect(emitted[2]![1]).toEqual({ message: 'The trainer process stopped unexpectedly (killed). Saved models are safe; restart the trainer to go on.', exitCode: null });
  });
});
