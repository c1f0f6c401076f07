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

/** A client whose spawn hands out a new stand-in worker each time, with what each was sent and whether it was killed. */
function restartableClient(options: { onDroppedEvent?: (name: string, why: string) => void } = {}) {
  const workers: { say: (m: FromWorker) => void; exit: (code: number | null) => void; sent: unknown[]; killed: number }[] = [];
  const emitted: [string, unknown][] = [];
  const client = new WorkerClient(() => {
    const worker = standIn();
    const record = { ...worker, sent: [] as unknown[], killed: 0 };
    worker.port.send = (m) => void record.sent.push(m);
    worker.port.kill = () => void record.killed++;
    workers.push(record);
    return worker.port;
  }, (name, payload) => emitted.push([name, payload]), options);
  client.start();
  return { workers, emitted, client };
}

describe('restart and dispose', () => {
  it('a restart answers what the old worker still owed, ends the run in progress, kills the old worker and starts a new one', async () => {
    const { workers, emitted, client } = restartableClient();
    expect(client.running).toBe(true);
    workers[0]!.say({ kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'run-a', phase: 'running' } });
    const owed = client.invoke('status', {});
    expect(workers[0]!.sent).toEqual([{ kind: 'invoke', id: 1, name: 'status', request: {} }]);
    emitted.length = 0;
    client.restart();
    expect(await owed).toEqual({ ok: false, error: { code: 'crashed', message: 'The trainer was restarted.', params: { restarted: true } } });
    expect(workers).toHaveLength(2);
    expect(workers[0]!.killed).toBe(1);
    expect(workers[1]!.killed).toBe(0);
    expect(emitted).toEqual([
      ['trainerEvent', { type: 'error', runId: 'run-a', message: 'The trainer was restarted (from this or another window), which ended this run; its unsaved training is lost.' }],
      ['trainerEvent', { type: 'state', runId: 'run-a', phase: 'idle' }],
    ]);
    emitted.length = 0;
    // The old worker's last words and its exit reach no one; the new worker is the one asked.
    workers[0]!.say({ kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'run-a', phase: 'running' } });
    workers[0]!.exit(null);
    expect(emitted).toEqual([]);
    expect(client.running).toBe(true);
    const asked = client.invoke('status', {});
    expect(workers[1]!.sent).toEqual([{ kind: 'invoke', id: 1, name: 'status', request: {} }]);
    workers[1]!.say({ kind: 'result', id: 1, result: { ok: true, value: { phase: 'idle', runId: null } } });
    expect(await asked).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    // No run was in progress after the restart: the new worker's crash ends none.
    workers[1]!.exit(3);
    expect(emitted.map(([name]) => name)).toEqual(['trainerCrashed']);
  });

  it('a restart with no run in progress ends none', () => {
    const { emitted, client } = restartableClient();
    client.restart();
    expect(emitted).toEqual([]);
  });

  it('after a crash, requests are answered with the crash; a restart clears it', async () => {
    const { workers, client } = restartableClient();
    workers[0]!.exit(7);
    expect(client.running).toBe(false);
    const crashed = { ok: false, error: { code: 'crashed', message: 'The trainer process stopped unexpectedly (exit code 7). Saved models are safe; restart the trainer to go on.', params: { exitCode: 7 } } };
    expect(await client.invoke('status', {})).toEqual(crashed);
    client.restart();
    expect(client.running).toBe(true);
    const asked = client.invoke('status', {});
    workers[1]!.exit(null);
    // Owed when it died: the crash, with its own exit.
    expect(await asked).toMatchObject({ ok: false, error: { code: 'crashed', params: { exitCode: null } } });
  });

  it('dispose kills the worker, whose exit is then no crash, and ends no run', async () => {
    const { workers, emitted, client } = restartableClient();
    workers[0]!.say({ kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'run-a', phase: 'running' } });
    emitted.length = 0;
    client.dispose();
    expect(workers[0]!.killed).toBe(1);
    expect(client.running).toBe(false);
    workers[0]!.exit(null);
    expect(emitted).toEqual([]);
    expect(await client.invoke('status', {})).toEqual({ ok: false, error: { code: 'crashed', message: 'The trainer is not running.', params: { exitCode: null } } });
  });

  it('with no one to tell, a worker event that breaks the contract is dropped quietly; dispose twice, or after a crash, is harmless', () => {
    const { workers, emitted, client } = restartableClient();
    expect(() => workers[0]!.say({ kind: 'event', name: 'trainerEvent', payload: { type: 'no such event' } })).not.toThrow();
    expect(emitted).toEqual([]);
    workers[0]!.exit(1);
    expect(() => client.dispose()).not.toThrow();
    expect(() => client.dispose()).not.toThrow();
    expect(workers[0]!.killed).toBe(0);
  });

  it('a worker event that breaks the contract is dropped and said; one that keeps it is relayed; a non-object is ignored', () => {
    const dropped: [string, string][] = [];
    const { workers, emitted } = restartableClient({ onDroppedEvent: (name, why) => dropped.push([name, why]) });
    workers[0]!.say({ kind: 'event', name: 'trainerEvent', payload: { type: 'no such event' } });
    workers[0]!.say('noise' as never);
    workers[0]!.say(null as never);
    expect(emitted).toEqual([]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]![0]).toBe('trainerEvent');
    expect(dropped[0]![1].length).toBeGreaterThan(0);
    workers[0]!.say({ kind: 'event', name: 'modelChanged', payload: { name: 'm', dir: '', variant: 'linear', dataset: 'MNIST', backend: 'cpu', testAccuracy: null, savedAt: '', builtin: false, unsaved: true } });
    expect(emitted.map(([name]) => name)).toEqual(['modelChanged']);
  });
});
