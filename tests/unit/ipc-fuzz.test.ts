// Every IPC channel, fuzzed through the real validation layer: createHostHandler
// (zod against the contract) in front of a WorkerClient whose worker is an
// in-memory fake that answers valid responses, and the sender check in front
// of that. Whatever the payload: a typed Result comes back, nothing throws or
// rejects, and the worker never sees a request the contract would refuse. What the contract
// accepts comes from the hand-written oracle in contract-oracle.ts, never from the schemas themselves.
import type { IpcMainInvokeEvent } from 'electron';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHostHandler } from '../../hosts/host-handler.js';
import { WorkerClient, type FromWorker, type ToWorker, type WorkerPort } from '../../hosts/worker-link.js';
import { answerInvoke } from '../../main/ipc.js';
import { checkSender } from '../../main/security.js';
import {
  ErrorCode,
  INVOKE_NAMES,
  invokeChannels,
  type InvokeName,
  type ModelSummary,
  type ResponseOf,
  type Result,
} from '../../common/contract.js';
import { contractAccepts } from './contract-oracle.js';

const RUNS_PER_CHANNEL = 500;
/**
 * One seed per run, printed on failure; CI pins it (LENET_LAB_FUZZ_SEED) so a red build is reproducible. A rare
 * disagreement on `samples`/`train` seen under load after the big merge is still being chased (see the issue note).
 */
const FUZZ_SEED = process.env.LENET_LAB_FUZZ_SEED ? Number(process.env.LENET_LAB_FUZZ_SEED) : 20261206;

const summary: ModelSummary = {
  name: 'lenet5 2025-01-01 10-00', dir: '/models/lenet5', variant: 'lenet5', dataset: 'MNIST', backend: 'cpu',
  testAccuracy: 0.99, savedAt: '2025-01-01T10:00:00.000Z', builtin: false, unsaved: false,
};
const status = { phase: 'idle' as const, runId: null };

/** What the fake worker answers: one valid response per channel. */
const RESPONSES: { [K in InvokeName]: ResponseOf<K> } = {
  info: {
    appVersion: '0.1.0', transport: 'electron', backend: 'cpu', backendNote: '', versions: { 'tfjs-core': '4.22.0' },
    dataset: { name: 'MNIST', dir: '/mnist', trainCount: 60000, testCount: 10000 }, modelsDir: '/models', canOpenDialogs: true,
  },
  train: { runId: 'run-1' },
  pause: status,
  resume: status,
  stop: status,
  status,
  currentModel: { summary, tensors: [{ name: 'c1/kernel', shape: [5, 5, 1, 6], data: 'AAAA' }] },
  samples: { images: 'AAAA', labels: [7], rows: 28, cols: 28 },
  evaluate: { accuracy: 0.99, loss: 0.03, count: 1, confusion: [[1]], mistakes: [], predictions: [7], backend: 'cpu' },
  saveModel: summary,
  listModels: [summary],
  openModel: summary,
  openModelDialog: summary,
  historyCsv: 'epoch,trainLoss\n1,0.5\n',
  restartTrainer: status,
  modelHistory: { name: 'm', variant: 'modern', recorded: true, epochs: [], batches: [{ step: 1, epoch: 1, batch: 1, loss: null, accuracy: 0.5 }], gradientLayers: ['C1'], gradients: [{ step: 1, epoch: 1, batch: 1, norms: [0.1] }] },
  modelSnapshots: { name: 'm', variant: 'modern', snapshots: [{ step: 1, epoch: 1, batch: 1, tensors: [{ name: 'C1/kernel', shape: [1], data: 'AAAAAA==' }] }] },
  exportModel: { fileName: 'm.lenetlab', mimeType: 'application/octet-stream', base64: 'AAAA' },
  importModel: summary,
  exportCsv: { fileName: 'm-epochs.csv', text: 'epoch\n' },
  recoveryInfo: null,
  restoreRecovery: summary,
  discardRecovery: null,
  saveFile: { saved: true, fileName: 'loss.png' },
  systemLanguages: ['zh-CN', 'en-US'],
  setLanguage: {},
};

/** Valid requests per channel: the seeds that near-miss payloads are mutated from. */
const VALID_REQUESTS: { [K in InvokeName]: unknown[] } = {
  info: [{}],
  train: [
    { variant: 'lenet5' },
    { variant: 'modern', recipe: { learningRate: 0.001, optimizer: 'adam', batchSize: 64, epochs: 2 }, limit: 1000, testLimit: 200, seed: 7 },
    { variant: 'seed', dataset: { kind: 'folder', dir: '/data/fashion' }, recipe: { momentum: 0.5, lrDecay: 0.9 } },
  ],
  pause: [{}],
  resume: [{}],
  stop: [{}],
  status: [{}],
  currentModel: [{}],
  samples: [{ split: 'test', indices: [0, 1, 2] }, { split: 'train', indices: [59999], dataset: { kind: 'mnist' } }],
  evaluate: [{}, { limit: 500 }],
  saveModel: [{ name: 'my model (v2).final' }],
  listModels: [{}],
  openModel: [{ dir: '/home/student/models/lenet5' }],
  openModelDialog: [{}],
  historyCsv: [{}],
  restartTrainer: [{}],
  modelHistory: [{}, { dir: '/home/student/models/modern' }],
  modelSnapshots: [{}, { dir: '/home/student/models/lenet5' }],
  exportModel: [{}, { dir: '/home/student/models/seed' }],
  importModel: [{ base64: 'TEVORVRMQUI=' }, { base64: 'AAAA', fileName: 'mine.lenetlab', name: 'from Ana' }],
  exportCsv: [{ kind: 'batches' }, { kind: 'mistakes' }],
  recoveryInfo: [{}],
  restoreRecovery: [{}],
  discardRecovery: [{}],
  saveFile: [{ kind: 'png', suggestedName: 'loss chart.png', base64: 'iVBORw0KGgo=' }, { kind: 'csv', suggestedName: 'm-batches.csv', base64: 'QQ==' }],
  systemLanguages: [{}],
  setLanguage: [{ locale: 'zh-CN' }, { locale: 'en' }],
};

/** The fake worker: records every request it receives and answers each with its channel's valid response. */
function fakeWorkerSpawner(received: ToWorker[]) {
  return (): WorkerPort => {
    let listener: ((message: FromWorker) => void) | null = null;
    let alive = true;
    return {
      send(message) {
        received.push(structuredClone(message));
        const value = RESPONSES[message.name];
        queueMicrotask(() => {
          if (alive) listener?.({ kind: 'result', id: message.id, result: { ok: true, value: structuredClone(value) } });
        });
      },
      onMessage(l) {
        listener = l;
      },
      onExit() {},
      kill() {
        alive = false;
      },
    };
  };
}

const hostileValues = fc.oneof(
  fc.constantFrom(
    // eslint-disable-next-line no-loss-of-precision -- 1e309 is Infinity spelt as a literal, on purpose
    NaN, Infinity, -Infinity, -1, 0, -0, 0.5, 1e309, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, 10_000_001,
    '', ' ', 'x'.repeat(5000), '../../etc/passwd', 'C:\\Windows', '\u0000', '<script>', '__proto__', 'constructor',
    null, undefined, true, false, [], {}, [[]], { kind: 'http', url: 'https://evil.example/' }, { valueOf: 1 },
  ),
  fc.anything({ maxDepth: 2 }),
);

/** Every path to a value inside a JSON-ish object. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, v]) => paths(v, [...prefix, key]))];
}

type Mutation = { kind: 'set' | 'delete' | 'add'; pathIndex: number; key: string; value: unknown };

function mutate(seed: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(seed) as Record<string | number, unknown>;
  const all = paths(copy);
  const target = all[mutation.pathIndex % all.length]!;
  if (target.length === 0) {
    // The request itself: replace it, or give it an extra key.
    if (mutation.kind === 'set') return mutation.value;
    if (mutation.kind === 'add') return { ...copy, [mutation.key]: mutation.value };
    return copy;
  }
  let parent: Record<string | number, unknown> = copy;
  for (const key of target.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = target[target.length - 1]!;
  if (mutation.kind === 'delete') delete parent[last];
  else if (mutation.kind === 'set') parent[last] = mutation.value;
  else {
    const holder = parent[last];
    if (holder && typeof holder === 'object' && !Array.isArray(holder)) (holder as Record<string, unknown>)[mutation.key] = mutation.value;
    else parent[last] = mutation.value;
  }
  return copy;
}

const nearMiss = (name: InvokeName) =>
  fc.record({
    seed: fc.constantFrom(...VALID_REQUESTS[name]),
    mutations: fc.array(fc.record({
      kind: fc.constantFrom('set', 'delete', 'add') as fc.Arbitrary<Mutation['kind']>,
      pathIndex: fc.nat(),
      key: fc.constantFrom('extra', '__proto__', 'constructor', 'recipe', 'dir', 'name', 'limit', 'indices', 'kind'),
      value: hostileValues,
    }), { minLength: 1, maxLength: 3 }),
  }).map(({ seed, mutations }) => mutations.reduce<unknown>((payload, mutation) => mutate(payload, mutation), seed));

/** A JSON payload with an own "__proto__" key, as JSON.parse makes it. */
const protoPollution = (name: InvokeName) =>
  fc.constantFrom(...VALID_REQUESTS[name]).map((seed) => {
    const fields = JSON.stringify(seed).slice(1, -1);
    return JSON.parse(`{"__proto__":{"polluted":true}${fields ? `,${fields}` : ''}}`) as unknown;
  });

const payloadFor = (name: InvokeName) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withObjectString: true }) },
    { weight: 5, arbitrary: nearMiss(name) },
    { weight: 1, arbitrary: protoPollution(name) },
    { weight: 1, arbitrary: fc.constantFrom(...VALID_REQUESTS[name]) },
  );

const isLabResult = (result: unknown): result is Result<unknown> => {
  if (!result || typeof result !== 'object') return false;
  const r = result as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (r.ok === true) return 'value' in r;
  return r.ok === false && ErrorCode.safeParse(r.error?.code).success && typeof r.error?.message === 'string' && r.error.message.length > 0;
};

function harness() {
  const received: ToWorker[] = [];
  const client = new WorkerClient(fakeWorkerSpawner(received), () => {});
  client.start();
  const handler = createHostHandler(client, {
    pickModelFolder: async () => '/home/student/models/picked',
    saveFile: async (request) => ({ ok: true, value: { saved: true, fileName: request.suggestedName } }),
  });
  return { received, handler };
}

describe.each(INVOKE_NAMES)('IPC channel %s under fuzzing', (name) => {
  it(`answers ${RUNS_PER_CHANNEL}+ random payloads with a typed Result and never forwards an invalid one`, async () => {
    const { received, handler } = harness();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(payloadFor(name), async (payload) => {
        const before = received.length;
        const valid = contractAccepts(name, payload); // the hand-written oracle, not the schema under test
        let result: unknown;
        try {
          result = await handler(name, payload);
        } catch (e) {
          throw new Error(`${name}: the handler threw ${String(e)}`, { cause: e });
        }
        expect(isLabResult(result)).toBe(true);
        const r = result as Result<unknown>;
        if (!valid) {
          refused++;
          expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
          expect(received.length).toBe(before); // nothing reached the worker
        } else {
          accepted++;
          expect(r.ok, JSON.stringify(r).slice(0, 300)).toBe(true);
          if (r.ok) expect(invokeChannels[name].response.safeParse(r.value).success).toBe(true);
        }
      }),
      { numRuns: RUNS_PER_CHANNEL, seed: FUZZ_SEED },
    );
    // What the worker got is exactly what the contract allows.
    for (const message of received) {
      expect(contractAccepts(message.name, message.request), `${message.name} ${JSON.stringify(message.request)}`).toBe(true);
    }
    expect(accepted + refused).toBeGreaterThanOrEqual(RUNS_PER_CHANNEL);
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });

  it(`checks the sender first: ${RUNS_PER_CHANNEL} random frames, only our main frame gets through`, async () => {
    const { received, handler } = harness();
    const frameUrl = fc.oneof(
      fc.constantFrom('app://lenet-lab/index.html', 'app://lenet-lab/', 'app://lenet-lab', 'app://lenet-lab.evil/', 'app://evil/',
        'https://lenet-lab/', 'file:///index.html', 'about:blank', 'devtools://devtools/', 'app://user@lenet-lab/'),
      fc.string().map((tail) => `app://lenet-lab/${tail}`),
      fc.webUrl(),
      fc.string(),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(frameUrl, fc.boolean(), fc.boolean(), payloadFor(name), async (url, isMainFrame, isOurWindow, payload) => {
        const before = received.length;
        const sender = checkSender(url, isMainFrame, isOurWindow);
        const trusted = isMainFrame && isOurWindow && typeof url === 'string' && url.startsWith('app://lenet-lab/');
        expect(sender.ok).toBe(trusted);
        const result = await answerInvoke(name, {} as IpcMainInvokeEvent, payload, { handler, gate: () => sender });
        expect(isLabResult(result)).toBe(true);
        if (!trusted) {
          expect(result).toMatchObject({ ok: false, error: { code: 'bad-sender' } });
          expect(received.length).toBe(before);
        }
      }),
      { numRuns: RUNS_PER_CHANNEL, seed: FUZZ_SEED },
    );
  });
});

describe('unknown channels', () => {
  it('are refused with invalid-request whatever the name and payload', async () => {
    const { received, handler } = harness();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'train ', 'Train')), fc.anything(), async (name, payload) => {
        fc.pre(!Object.hasOwn(invokeChannels, name));
        const result = await handler(name, payload);
        expect(result).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
      }),
      { numRuns: RUNS_PER_CHANNEL, seed: FUZZ_SEED },
    );
    expect(received).toEqual([]);
  });
});
