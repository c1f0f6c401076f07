// Main-side IPC (main/ipc.ts) and the preload (preload/preload.ts) wired
// together through an in-memory stand-in for Electron's IPC, so the channel
// names, the sender gate and the event relay are tested end to end.
import { EventEmitter } from 'node:events';
import type { BrowserWindow, IpcMainInvokeEvent, WebContents } from 'electron';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostHandler } from '../../hosts/host-handler.js';
import { answerInvoke, createEventRelay, registerInvokeHandlers, windowSenderGate, type InvokeRegistrar } from '../../main/ipc.js';
import {
  EVENT_NAMES,
  INVOKE_NAMES,
  eventChannelId,
  eventListenerName,
  invokeChannelId,
  type LabApi,
  type Result,
} from '../../common/contract.js';

// The preload calls contextBridge.exposeInMainWorld on import; capture what it exposes.
const exposed = vi.hoisted(() => ({ key: '', api: null as unknown }));
const rendererIpc = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => Object.assign(exposed, { key, api }) },
  ipcRenderer: {
    invoke: (...args: unknown[]) => (rendererIpc.current as { invoke: (...a: unknown[]) => unknown }).invoke(...args),
    on: (...args: unknown[]) => (rendererIpc.current as { on: (...a: unknown[]) => unknown }).on(...args),
    removeListener: (...args: unknown[]) => (rendererIpc.current as { removeListener: (...a: unknown[]) => unknown }).removeListener(...args),
  },
}));

type Listener = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

/** ipcMain + ipcRenderer + one window's webContents, in memory. */
class FakeIpc implements InvokeRegistrar {
  readonly handlers = new Map<string, Listener>();
  readonly renderer = new EventEmitter();
  senderFrameUrl = 'app://lenet-lab/index.html';
  fromSubframe = false;
  readonly mainFrame = { get url() { return fake.senderFrameUrl; } };
  readonly subFrame = { url: 'app://lenet-lab/index.html' };
  readonly contents = {
    mainFrame: this.mainFrame,
    isDestroyed: () => false,
    send: (channel: string, payload: unknown) => this.renderer.emit(channel, { sender: 'IpcRendererEvent, must not leak' }, structuredClone(payload)),
  };
  readonly window = { isDestroyed: () => false, webContents: this.contents };

  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** ipcRenderer.invoke as seen from the page. */
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const event = { sender: this.contents, senderFrame: this.fromSubframe ? this.subFrame : this.mainFrame } as unknown as IpcMainInvokeEvent;
    return structuredClone(await handler(event, ...structuredClone(args)));
  }
  on(channel: string, listener: (...args: unknown[]) => void): void {
    this.renderer.on(channel, listener);
  }
  removeListener(channel: string, listener: (...args: unknown[]) => void): void {
    this.renderer.removeListener(channel, listener);
  }
}
const fake = new FakeIpc();

let lab: LabApi;
const calls: [string, unknown][] = [];
const results: [string, Result<unknown>][] = [];
const handler: HostHandler = async (name, payload) => {
  calls.push([name, payload]);
  if (name === 'explode') throw new Error('boom');
  return { ok: true, value: { echoed: name } };
};

beforeAll(async () => {
  rendererIpc.current = fake;
  registerInvokeHandlers(fake, {
    handler,
    gate: windowSenderGate(() => fake.window as unknown as BrowserWindow),
    onResult: (name, result) => results.push([name, result]),
  });
  await import('../../preload/preload.js');
  lab = exposed.api as LabApi;
});

describe('preload API', () => {
  it('is exposed as window.lab with exactly one function per invoke and event name', () => {
    expect(exposed.key).toBe('lab');
    const expected = [...INVOKE_NAMES, ...EVENT_NAMES.map((name) => eventListenerName(name))].sort();
    expect(Object.keys(lab).sort()).toEqual(expected);
    for (const value of Object.values(lab)) expect(typeof value).toBe('function');
    expect(Object.isFrozen(lab)).toBe(true);
    expect(JSON.stringify(Object.keys(lab))).not.toMatch(/ipc|invoke:|send/i);
  });

  it('every invoke name reaches the host handler through its own channel', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual(INVOKE_NAMES.map((name) => invokeChannelId(name)).sort());
    for (const name of INVOKE_NAMES) {
      calls.length = 0;
      const call = lab[name] as (request: unknown) => Promise<Result<unknown>>;
      await expect(call({ probe: name })).resolves.toEqual({ ok: true, value: { echoed: name } });
      expect(calls).toEqual([[name, { probe: name }]]);
    }
    expect(results.map(([name]) => name)).toEqual(expect.arrayContaining(INVOKE_NAMES));
  });

  it('events reach listeners as the payload alone, and unsubscribing stops them', () => {
    for (const name of EVENT_NAMES) {
      const seen: unknown[][] = [];
      const subscribe = lab[eventListenerName(name)] as (listener: (...args: unknown[]) => void) => () => void;
      const unsubscribe = subscribe((...args) => seen.push(args));
      fake.contents.send(eventChannelId(name), { n: 1 });
      unsubscribe();
      fake.contents.send(eventChannelId(name), { n: 2 });
      expect(seen, name).toEqual([[{ n: 1 }]]);
    }
    expect(() => (lab.onTrainerEvent as (listener: unknown) => void)('not a function')).toThrow(TypeError);
  });

  it('a missing main handler becomes an error Result, not a rejection', async () => {
    const saved = fake.handlers.get(invokeChannelId('status'))!;
    fake.handlers.delete(invokeChannelId('status'));
    await expect(lab.status({})).resolves.toMatchObject({ ok: false, error: { code: 'internal' } });
    fake.handlers.set(invokeChannelId('status'), saved);
  });
});

describe('sender gate', () => {
  it('refuses subframes and pages that are not ours, before the handler runs', async () => {
    calls.length = 0;
    fake.fromSubframe = true;
    await expect(lab.info({})).resolves.toMatchObject({ ok: false, error: { code: 'bad-sender' } });
    fake.fromSubframe = false;
    fake.senderFrameUrl = 'https://evil.example/';
    await expect(lab.info({})).resolves.toMatchObject({ ok: false, error: { code: 'bad-sender' } });
    fake.senderFrameUrl = 'app://lenet-lab/index.html';
    expect(calls).toEqual([]);
    await expect(lab.info({})).resolves.toMatchObject({ ok: true });
  });

  it('refuses other web contents, a destroyed window and a disposed frame', () => {
    const gate = windowSenderGate(() => fake.window as unknown as BrowserWindow);
    const otherContents = { mainFrame: fake.mainFrame };
    expect(gate({ sender: otherContents, senderFrame: fake.mainFrame } as unknown as IpcMainInvokeEvent)).toMatchObject({ ok: false });
    expect(gate({ sender: fake.contents, senderFrame: null } as unknown as IpcMainInvokeEvent)).toMatchObject({ ok: false });
    const disposed = { get url(): string { throw new Error('Render frame was disposed'); } };
    expect(gate({ sender: fake.contents, senderFrame: disposed } as unknown as IpcMainInvokeEvent)).toMatchObject({ ok: false, error: { code: 'bad-sender' } });
    const gone = windowSenderGate(() => null);
    expect(gone({ sender: fake.contents, senderFrame: fake.mainFrame } as unknown as IpcMainInvokeEvent)).toMatchObject({ ok: false });
  });

  it('a throwing handler or listener still answers with a Result', async () => {
    const event = {} as IpcMainInvokeEvent;
    const result = await answerInvoke('info', event, {}, {
      handler: async () => { throw new Error('boom'); },
      gate: () => ({ ok: true }),
      onResult: () => { throw new Error('listener broke'); },
    });
    expect(result).toEqual({ ok: false, error: { code: 'internal', params: { channel: 'info', detail: 'boom' }, message: 'info: boom' } });
  });
});

describe('event relay', () => {
  it('sends events on their channel, as they are (WorkerClient checked them where they entered the host)', () => {
    const sent: [string, unknown][] = [];
    const contents = { isDestroyed: () => false, send: (channel: string, payload: unknown) => sent.push([channel, payload]) };
    const relay = createEventRelay(() => contents as unknown as WebContents);
    relay('trainerEvent', { type: 'state', runId: 'r', phase: 'paused' });
    relay('menuCommand', { command: 'navigate', view: 'draw' });
    relay('trainerCrashed', { message: 'gone', exitCode: null });
    expect(sent).toEqual([
      [eventChannelId('trainerEvent'), { type: 'state', runId: 'r', phase: 'paused' }],
      [eventChannelId('menuCommand'), { command: 'navigate', view: 'draw' }],
      [eventChannelId('trainerCrashed'), { message: 'gone', exitCode: null }],
    ]);
  });

  it('does nothing when the window is gone', () => {
    const relay = createEventRelay(() => null);
    expect(() => relay('trainerCrashed', { message: 'x', exitCode: 1 })).not.toThrow();
  });
});
