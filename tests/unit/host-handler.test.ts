// The one dispatch every host uses (hosts/host-handler.ts), with a stand-in worker client: what it refuses
// itself (word for word), what it answers itself with each capability present or absent, and what it
// forwards, checking the worker's answer against the contract.
import { describe, expect, it, vi } from 'vitest';
import { createHostHandler } from '../../hosts/host-handler.js';
import type { WorkerClient } from '../../hosts/worker-link.js';

function stand(answers: Record<string, unknown> = {}) {
  const calls: [string, unknown][] = [];
  let restarts = 0;
  const client = {
    invoke: async (name: string, request: unknown) => {
      calls.push([name, request]);
      return answers[name] ?? { ok: true, value: { phase: 'idle', runId: null } };
    },
    restart: () => void restarts++,
  } as unknown as WorkerClient;
  return { client, calls, restarts: () => restarts };
}

const SAVE = { kind: 'csv', suggestedName: 'epochs.csv', base64: 'YWJj' };

describe('the host handler', () => {
  it('refuses an unknown channel with its name (cut to 60 characters), and never asks the worker', async () => {
    const { client, calls } = stand();
    const handle = createHostHandler(client);
    expect(await handle('nope', {})).toEqual({
      ok: false, error: { code: 'invalid-request', message: 'unknown channel "nope"', params: { channel: 'nope', field: null, issue: 'unknown-channel' } },
    });
    const long = 'x'.repeat(100);
    expect(await handle(long, {})).toMatchObject({ ok: false, error: { message: `unknown channel "${'x'.repeat(60)}"`, params: { channel: 'x'.repeat(60) } } });
    expect(await handle(42 as unknown as string, {})).toMatchObject({ ok: false, error: { message: 'unknown channel "42"' } });
    // A known channel with a bad request is refused by the contract, also before the worker.
    expect(await handle('status', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(calls).toEqual([]);
  });

  it('restarts the trainer itself and says idle', async () => {
    const s = stand();
    expect(await createHostHandler(s.client)('restartTrainer', {})).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    expect(s.restarts()).toBe(1);
    expect(s.calls).toEqual([]);
  });

  it('system languages: the capability\'s first 32, or none without it', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `x-${i}`);
    expect(await createHostHandler(stand().client, { systemLanguages: () => many })('systemLanguages', {})).toEqual({ ok: true, value: many.slice(0, 32) });
    expect(await createHostHandler(stand().client)('systemLanguages', {})).toEqual({ ok: true, value: [] });
  });

  it('set language: handed to the capability, if any; the answer is empty either way', async () => {
    const setLanguage = vi.fn();
    expect(await createHostHandler(stand().client, { setLanguage })('setLanguage', { locale: 'zh-CN' })).toEqual({ ok: true, value: {} });
    expect(setLanguage).toHaveBeenCalledWith('zh-CN');
    expect(await createHostHandler(stand().client)('setLanguage', { locale: 'en' })).toEqual({ ok: true, value: {} });
  });

  it('save file: unsupported without a dialog; with one, its answer', async () => {
    expect(await createHostHandler(stand().client)('saveFile', SAVE)).toEqual({
      ok: false, error: { code: 'unsupported', message: 'This host has no save dialog; the page downloads the file itself.', params: { channel: 'saveFile' } },
    });
    const saveFile = vi.fn(async () => ({ ok: true as const, value: { saved: true, fileName: 'epochs.csv' } }));
    expect(await createHostHandler(stand().client, { saveFile })('saveFile', SAVE)).toEqual({ ok: true, value: { saved: true, fileName: 'epochs.csv' } });
    expect(saveFile).toHaveBeenCalledWith(SAVE);
  });

  it('open model dialog: unsupported without a picker; cancelled is null; a folder is opened by the worker', async () => {
    expect(await createHostHandler(stand().client)('openModelDialog', {})).toEqual({
      ok: false, error: { code: 'unsupported', message: 'This window has no folder picker; choose a model from the list instead.', params: { channel: 'openModelDialog' } },
    });
    const cancelled = stand();
    expect(await createHostHandler(cancelled.client, { pickModelFolder: async () => null })('openModelDialog', {})).toEqual({ ok: true, value: null });
    expect(cancelled.calls).toEqual([]);
    const summary = { ok: true, value: { name: 'm' } };
    const picked = stand({ openModel: summary });
    expect(await createHostHandler(picked.client, { pickModelFolder: async () => '/models/m' })('openModelDialog', {})).toBe(summary);
    expect(picked.calls).toEqual([['openModel', { dir: '/models/m' }]]);
  });

  it('forwards the rest, parsed; a malformed answer from the worker becomes an internal error, a refusal passes through', async () => {
    const good = stand({ status: { ok: true, value: { phase: 'running', runId: 'r' } } });
    expect(await createHostHandler(good.client)('status', {})).toEqual({ ok: true, value: { phase: 'running', runId: 'r' } });
    expect(good.calls).toEqual([['status', {}]]);
    const bad = stand({ status: { ok: true, value: { phase: 'flying', runId: 'r' } } });
    expect(await createHostHandler(bad.client)('status', {})).toEqual({
      ok: false, error: { code: 'internal', message: 'status: the trainer sent a malformed answer', params: { channel: 'status' } },
    });
    const refusal = { ok: false, error: { code: 'busy', message: 'no', params: {} } };
    expect(await createHostHandler(stand({ saveModel: refusal }).client)('saveModel', { name: 'a' })).toBe(refusal);
  });
});
