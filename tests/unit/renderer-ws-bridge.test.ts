// The browser-mode transport of the renderer (renderer/src/bridge/ws-bridge.ts)
// against a real loopback WebSocket server: request ids pair answers with
// requests, events reach every listener (the host checked them where they
// entered it: tests/unit/link.test.ts), and a closed socket fails pending and
// later requests instead of hanging.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createWsBridge } from '../../renderer/src/bridge/ws-bridge.js';
import type { BridgeRequestFrame } from '../../common/ws-frames.js';

let server: WebSocketServer | null = null;

beforeAll(() => {
  // Node 20 has no global WebSocket; the bridge uses the browser API, which `ws` implements.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
});

afterEach(async () => {
  if (server) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server!.close(resolve));
    server = null;
  }
});

async function startServer(onFrame: (socket: WebSocket, frame: BridgeRequestFrame) => void) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const sockets: WebSocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => onFrame(socket, JSON.parse(String(data)) as BridgeRequestFrame));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/bridge?token=t`, sockets };
}

describe('ws-bridge', () => {
  it('pairs answers with requests by id, whatever order they come back in', async () => {
    const held: [WebSocket, BridgeRequestFrame][] = [];
    const { url } = await startServer((socket, frame) => {
      held.push([socket, frame]);
      if (held.length === 2) {
        // Answer the second request first.
        for (const [s, f] of held.reverse()) {
          s.send(JSON.stringify({ id: f.id, result: { ok: true, value: { phase: 'idle', runId: `answer-to-${f.name}` } } }));
        }
      }
    });
    const { api } = createWsBridge(url);
    const [pause, stop] = await Promise.all([api.pause({}), api.stop({})]);
    expect(pause).toEqual({ ok: true, value: { phase: 'idle', runId: 'answer-to-pause' } });
    expect(stop).toEqual({ ok: true, value: { phase: 'idle', runId: 'answer-to-stop' } });
    expect(held.map(([, f]) => f.request)).toEqual([{}, {}]);
    expect(new Set(held.map(([, f]) => f.id)).size).toBe(2);
  });

  it('passes host errors through as results', async () => {
    const { url } = await startServer((socket, frame) => {
      socket.send(JSON.stringify({ id: frame.id, result: { ok: false, error: { code: 'busy', message: 'a run is in progress' } } }));
    });
    const { api } = createWsBridge(url);
    expect(await api.openModel({ dir: '/x' })).toEqual({ ok: false, error: { code: 'busy', message: 'a run is in progress' } });
  });

  it('delivers events to every listener and skips frames that are not JSON', async () => {
    const { url, sockets } = await startServer(() => {});
    const { api } = createWsBridge(url);
    const seen: unknown[] = [];
    const seenToo: unknown[] = [];
    api.onTrainerEvent((event) => seen.push(event));
    const off = api.onTrainerEvent((event) => seenToo.push(event));
    const crashes: unknown[] = [];
    api.onTrainerCrashed((payload) => crashes.push(payload));
    await expect.poll(() => sockets.length).toBe(1);
    const socket = sockets[0]!;
    const state = { type: 'state', runId: 'r1', phase: 'running' };
    socket.send(JSON.stringify({ event: 'trainerEvent', payload: state }));
    socket.send('not json');
    socket.send('null');
    socket.send(JSON.stringify({ event: 'trainerCrashed', payload: { message: 'gone', exitCode: 3 } }));
    await expect.poll(() => crashes.length).toBe(1);
    expect(seen).toEqual([state]);
    expect(seenToo).toEqual([state]);
    expect(crashes).toEqual([{ message: 'gone', exitCode: 3 }]);
    off();
    socket.send(JSON.stringify({ event: 'trainerEvent', payload: state }));
    await expect.poll(() => seen.length).toBe(2);
    expect(seenToo).toHaveLength(1);
  });

  it('fails pending and later requests once the socket closes, and says so once', async () => {
    const { url, sockets } = await startServer(() => {});
    const bridge = createWsBridge(url);
    const reasons: string[] = [];
    bridge.onClosed((reason) => reasons.push(reason));
    const pending = bridge.api.info({});
    await expect.poll(() => sockets.length).toBe(1);
    sockets[0]!.close(1001, 'server going away');
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/not reachable/);
    const later = await bridge.api.status({});
    expect(later.ok).toBe(false);
    expect(reasons).toEqual(['server going away']);
  });

  it('fails requests when the host cannot be reached at all', async () => {
    const bridge = createWsBridge('ws://127.0.0.1:1/bridge?token=t');
    const result = await bridge.api.listModels({});
    expect(result.ok).toBe(false);
  });
});
