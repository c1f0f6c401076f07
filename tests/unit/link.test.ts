// The one link (common/link.ts) over an in-memory port pair, and the worker
// link built on it (hosts/worker-link.ts), where worker events enter a host and
// are checked, once.
import { describe, expect, it } from 'vitest';
import type { EventName } from '../../common/channels.js';
import { LinkClient, serveLink, type Port, type RequestFrame, type ServerFrame } from '../../common/link.js';
import type { Result } from '../../common/errors.js';
import { WorkerClient, type FromWorker, type ToWorker, type WorkerPort } from '../../hosts/worker-link.js';

/** Two ports joined back to back; close() ends both sides once. */
function pipe() {
  const toServer: ((frame: RequestFrame) => void)[] = [];
  const toClient: ((frame: ServerFrame) => void)[] = [];
  const closers: ((reason: string) => void)[] = [];
  const sent: RequestFrame[] = [];
  const client: Port<ServerFrame, RequestFrame> = {
    send: (frame) => {
      sent.push(frame);
      queueMicrotask(() => toServer.forEach((l) => l(structuredClone(frame))));
    },
    onMessage: (l) => void toClient.push(l),
    onClose: (l) => void closers.push(l),
  };
  const server: Port<RequestFrame, ServerFrame> = {
    send: (frame) => queueMicrotask(() => toClient.forEach((l) => l(structuredClone(frame)))),
    onMessage: (l) => void toServer.push(l),
    onClose: (l) => void closers.push(l),
  };
  return { client, server, sent, close: (reason: string) => closers.splice(0).forEach((l) => l(reason)) };
}

const closedError = (reason: string) => ({ code: 'crashed' as const, params: { reason }, message: `gone: ${reason}` });

describe('LinkClient and serveLink', () => {
  it('pair answers with requests by id, whatever order they finish in', async () => {
    const { client, server } = pipe();
    const release: (() => void)[] = [];
    serveLink(
      server,
      (name) => new Promise<Result<unknown>>((resolve) => release.push(() => resolve({ ok: true, value: name }))),
    );
    const link = new LinkClient(client, { onEvent: () => {}, closedError });
    const first = link.invoke('info', {});
    const second = link.invoke('status', {});
    await expect.poll(() => release.length).toBe(2);
    release[1]!();
    release[0]!();
    expect(await Promise.all([first, second])).toEqual([
      { ok: true, value: 'info' },
      { ok: true, value: 'status' },
    ]);
  });

  it('turn a throwing handler into an internal error Result', async () => {
    const { client, server } = pipe();
    serveLink(server, async () => {
      throw new Error('boom');
    });
    const link = new LinkClient(client, { onEvent: () => {}, closedError });
    expect(await link.invoke('info', {})).toEqual({
      ok: false,
      error: { code: 'internal', params: { channel: 'info', detail: 'boom' }, message: 'info: boom' },
    });
  });

  it('answer busy past the in-flight limit (the limit itself is accepted)', async () => {
    const { client, server } = pipe();
    const release: (() => void)[] = [];
    serveLink(server, () => new Promise((resolve) => release.push(() => resolve({ ok: true, value: null }))), {
      maxInFlight: 2,
    });
    const link = new LinkClient(client, { onEvent: () => {}, closedError });
    const answers = [link.invoke('info', {}), link.invoke('info', {}), link.invoke('info', {})];
    expect(await answers[2]).toEqual({
      ok: false,
      error: { code: 'busy', params: { limit: 2 }, message: 'more than 2 requests are waiting; try again' },
    });
    release.forEach((r) => r());
    expect(await Promise.all(answers.slice(0, 2))).toEqual([
      { ok: true, value: null },
      { ok: true, value: null },
    ]);
  });

  it('ignore frames that are not requests', async () => {
    const { server } = pipe();
    const seen: string[] = [];
    let deliver: (frame: unknown) => void = () => {};
    serveLink(
      { ...server, onMessage: (l) => (deliver = l as never) },
      async (name) => (seen.push(name), { ok: true, value: null }),
    );
    for (const junk of [null, 'x', { kind: 'result', id: 1 }, { kind: 'invoke', id: '1', name: 'info' }]) deliver(junk);
    deliver({ kind: 'invoke', id: 1, name: 'info', request: {} });
    await expect.poll(() => seen).toEqual(['info']);
  });

  it('settle pending and later requests with the closed error once the port closes, and only once', async () => {
    const { client, close } = pipe();
    const link = new LinkClient(client, { onEvent: () => {}, closedError });
    const pending = link.invoke('info', {});
    close('host went away');
    expect(await pending).toEqual({ ok: false, error: closedError('host went away') });
    expect(await link.invoke('status', {})).toEqual({ ok: false, error: closedError('host went away') });
    expect(link.closed).toBe('host went away');
    link.close('again');
    expect(link.closed).toBe('host went away');
  });

  it('deliver events to the client, and nothing after it closed', async () => {
    const { client } = pipe();
    let deliver: (frame: ServerFrame) => void = () => {};
    const events: [EventName, unknown][] = [];
    const link = new LinkClient(
      { ...client, onMessage: (l) => (deliver = l) },
      { onEvent: (name, payload) => events.push([name, payload]), closedError },
    );
    deliver({ kind: 'event', name: 'trainerCrashed', payload: { message: 'x', exitCode: 1 } });
    link.close('done');
    deliver({ kind: 'event', name: 'trainerCrashed', payload: { message: 'y', exitCode: 2 } });
    expect(events).toEqual([['trainerCrashed', { message: 'x', exitCode: 1 }]]);
  });
});

/** A worker port driven by the test. */
function fakeWorker() {
  const listeners: ((message: FromWorker) => void)[] = [];
  const exits: ((code: number | null) => void)[] = [];
  const posted: ToWorker[] = [];
  const port: WorkerPort = {
    send: (message) => void posted.push(message),
    onMessage: (l) => void listeners.push(l),
    onExit: (l) => void exits.push(l),
    kill: () => exits.splice(0).forEach((l) => l(null)),
  };
  return {
    port,
    posted,
    say: (m: unknown) => listeners.forEach((l) => l(m as FromWorker)),
    exit: (c: number | null) => exits.splice(0).forEach((l) => l(c)),
  };
}

describe('WorkerClient: where worker events enter a host', () => {
  it('relays events that match the contract and drops the rest, saying why', () => {
    const worker = fakeWorker();
    const emitted: [string, unknown][] = [];
    const dropped: string[] = [];
    const client = new WorkerClient(
      () => worker.port,
      (name, payload) => emitted.push([name, payload]),
      {
        onDroppedEvent: (name, why) => dropped.push(`${name}: ${why}`),
      },
    );
    client.start();
    const state = { type: 'state', runId: 'r', phase: 'paused' };
    worker.say({ kind: 'event', name: 'trainerEvent', payload: state });
    worker.say({ kind: 'event', name: 'trainerEvent', payload: { ...state, phase: 'flying' } });
    worker.say({ kind: 'event', name: 'trainerEvent', payload: { ...state, extra: 1 } });
    worker.say({ kind: 'event', name: 'menuCommand', payload: { command: 'navigate', view: 'settings' } });
    worker.say({ kind: 'event', name: 'nonsense', payload: {} });
    worker.say(null);
    expect(emitted).toEqual([['trainerEvent', state]]);
    expect(dropped).toHaveLength(4);
    expect(dropped[3]).toBe('nonsense: unknown event');
  });

  it('a crash answers pending requests with code crashed and the exit code as a param', async () => {
    const worker = fakeWorker();
    const emitted: [string, unknown][] = [];
    const client = new WorkerClient(
      () => worker.port,
      (name, payload) => emitted.push([name, payload]),
    );
    client.start();
    const pending = client.invoke('status', {});
    worker.exit(139);
    expect(await pending).toMatchObject({ ok: false, error: { code: 'crashed', params: { exitCode: 139 } } });
    expect(emitted).toEqual([['trainerCrashed', { message: expect.stringMatching(/exit code 139/), exitCode: 139 }]]);
    expect(await client.invoke('status', {})).toMatchObject({
      ok: false,
      error: { code: 'crashed', params: { exitCode: 139 } },
    });
  });

  it('a restart answers what was pending as restarted, not as a crash', async () => {
    const workers = [fakeWorker(), fakeWorker()];
    let spawned = 0;
    const emitted: string[] = [];
    const client = new WorkerClient(
      () => workers[spawned++]!.port,
      (name) => emitted.push(name),
    );
    client.start();
    const pending = client.invoke('evaluate', {});
    client.restart();
    expect(await pending).toMatchObject({
      ok: false,
      error: { code: 'crashed', params: { restarted: true }, message: 'The trainer was restarted.' },
    });
    expect(emitted).toEqual([]);
    expect(workers[1]!.posted).toEqual([]);
  });
});
