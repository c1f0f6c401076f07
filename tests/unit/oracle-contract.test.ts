// The contract against expectations written as literals: a table of requests with the answer each must get,
// sent through the real host handler (zod in front of a fake worker), and a fuzz run whose oracle is the
// hand-written contract-oracle.ts, never the schema under test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHostHandler } from '../../hosts/host-handler.js';
import { WorkerClient, type FromWorker, type ToWorker, type WorkerPort } from '../../hosts/worker-link.js';
import { INVOKE_NAMES } from '../../common/contract.js';
import { ORACLE_CHANNELS, contractAccepts } from './contract-oracle.js';

/** A worker that records what reaches it and answers every request with ok (a null the host then finds malformed). */
function harness() {
  const received: ToWorker[] = [];
  const spawn = (): WorkerPort => {
    let listener: ((message: FromWorker) => void) | null = null;
    return {
      send(message) {
        received.push(message);
        queueMicrotask(() => listener?.({ kind: 'result', id: message.id, result: { ok: true, value: null } }));
      },
      onMessage(l) { listener = l; },
      onExit() {},
      kill() {},
    };
  };
  const client = new WorkerClient(spawn, () => {});
  client.start();
  const handler = createHostHandler(client, { pickModelFolder: async () => null });
  /** False when the host refused the request as invalid (and nothing reached the worker), else true. */
  const forwarded = async (name: string, payload: unknown): Promise<boolean> => {
    const before = received.length;
    const result = (await handler(name, payload)) as { ok: boolean; error?: { code: string } };
    const refused = !result.ok && result.error?.code === 'invalid-request';
    if (refused) expect(received.length).toBe(before);
    return !refused;
  };
  return { forwarded };
}

const A80 = 'a'.repeat(80);
const TABLE: [channel: string, payload: unknown, accepted: boolean][] = [
  // Empty requests
  ['status', {}, true], ['status', undefined, true], ['status', null, true], ['status', { extra: 1 }, false], ['status', [], false],
  ['status', 'x', false], ['stop', {}, true], ['pause', { force: true }, false],
  // train
  ['train', { variant: 'lenet5' }, true], ['train', { variant: 'modern' }, true], ['train', { variant: 'seed' }, true],
  ['train', { variant: 'LeNet5' }, false], ['train', {}, false], ['train', { variant: 'modern', extra: 1 }, false],
  ['train', { variant: 'modern', recipe: {} }, true], ['train', { variant: 'modern', recipe: null }, false],
  ['train', { variant: 'modern', recipe: { batchSize: 4096 } }, true], ['train', { variant: 'modern', recipe: { batchSize: 4097 } }, false],
  ['train', { variant: 'modern', recipe: { batchSize: 100_000 } }, false], ['train', { variant: 'modern', recipe: { batchSize: 0 } }, false],
  ['train', { variant: 'modern', recipe: { epochs: 200 } }, true], ['train', { variant: 'modern', recipe: { epochs: 201 } }, false],
  ['train', { variant: 'modern', recipe: { learningRate: 1000 } }, true], ['train', { variant: 'modern', recipe: { learningRate: 1001 } }, false],
  ['train', { variant: 'modern', recipe: { learningRate: 0 } }, false], ['train', { variant: 'modern', recipe: { learningRate: -0.1 } }, false],
  ['train', { variant: 'modern', recipe: { momentum: 0 } }, true], ['train', { variant: 'modern', recipe: { momentum: 1 } }, false],
  ['train', { variant: 'modern', recipe: { lrDecay: 1 } }, true], ['train', { variant: 'modern', recipe: { lrDecay: 0 } }, false],
  ['train', { variant: 'modern', recipe: { augmentShift: 2 } }, true], ['train', { variant: 'modern', recipe: { augmentShift: 3 } }, false],
  ['train', { variant: 'modern', recipe: { optimizer: 'adam' } }, true], ['train', { variant: 'modern', recipe: { optimizer: 'rmsprop' } }, false],
  ['train', { variant: 'modern', recipe: { epochs: 2.5 } }, false], ['train', { variant: 'modern', recipe: { epochs: '2' } }, false],
  ['train', { variant: 'modern', recipe: { learningRate: NaN } }, false], ['train', { variant: 'modern', recipe: { learningRate: Infinity } }, false],
  ['train', { variant: 'modern', recipe: { dropout: 0.5 } }, false],
  ['train', { variant: 'modern', limit: 10_000_000 }, true], ['train', { variant: 'modern', limit: 10_000_001 }, false],
  ['train', { variant: 'modern', limit: 0 }, false], ['train', { variant: 'modern', testLimit: 1 }, true],
  ['train', { variant: 'modern', seed: 0 }, true], ['train', { variant: 'modern', seed: 2147483647 }, true],
  ['train', { variant: 'modern', seed: 2147483648 }, false], ['train', { variant: 'modern', seed: -1 }, false],
  ['train', { variant: 'modern', dataset: { kind: 'mnist' } }, true], ['train', { variant: 'modern', dataset: { kind: 'folder', dir: '/d' } }, true],
  ['train', { variant: 'modern', dataset: { kind: 'folder', dir: '' } }, false], ['train', { variant: 'modern', dataset: { kind: 'folder' } }, false],
  ['train', { variant: 'modern', dataset: { kind: 'mnist', dir: '/d' } }, false], ['train', { variant: 'modern', dataset: { kind: 'http', url: 'x' } }, false],
  // samples
  ['samples', { split: 'test', indices: [0] }, true], ['samples', { split: 'train', indices: [10_000_000] }, true],
  ['samples', { split: 'test', indices: [] }, false], ['samples', { split: 'test', indices: [-1] }, false],
  ['samples', { split: 'test', indices: [10_000_001] }, false], ['samples', { split: 'valid', indices: [0] }, false],
  ['samples', { split: 'test', indices: new Array(1000).fill(1) }, true], ['samples', { split: 'test', indices: new Array(1001).fill(1) }, false],
  ['samples', { split: 'test', indices: '0' }, false], ['samples', { split: 'test', indices: [0], dataset: { kind: 'mnist' } }, true],
  // evaluate
  ['evaluate', {}, true], ['evaluate', { limit: 1 }, true], ['evaluate', { limit: 0 }, false], ['evaluate', { limit: 10_000_001 }, false],
  // saveModel
  ['saveModel', { name: 'my model (v2).final' }, true], ['saveModel', { name: A80 }, true], ['saveModel', { name: `${A80}a` }, false],
  ['saveModel', { name: `  ${A80}  ` }, false], ['saveModel', { name: ' a' }, false], ['saveModel', { name: 'a ' }, false],
  ['saveModel', { name: '' }, false], ['saveModel', { name: '   ' }, false],
  ['saveModel', { name: '../escape' }, false], ['saveModel', { name: '..\\escape' }, false], ['saveModel', { name: 'a/b' }, false],
  ['saveModel', { name: 'a\\b' }, false], ['saveModel', { name: '.hidden' }, false], ['saveModel', { name: '-flag' }, true],
  ['saveModel', { name: '(1) copy' }, true], ['saveModel', { name: '[v2] run_3' }, true], ['saveModel', { name: 'mañana' }, true],
  ['saveModel', { name: 'a:b' }, false], ['saveModel', { name: 'a*b' }, false], ['saveModel', { name: 'a"b' }, false],
  ['saveModel', { name: 'a..b' }, false], ['saveModel', { name: 'a.b.c' }, true], ['saveModel', { name: 'model.' }, false],
  ['saveModel', { name: 'a\u0000b' }, false], ['saveModel', { name: 'a\tb' }, false], ['saveModel', { name: 'a\nb' }, false],
  ['saveModel', { name: '手写数字 模型' }, true], ['saveModel', { name: 'модель-1' }, true], ['saveModel', { name: 'نموذج' }, true],
  ['saveModel', { name: 'cafe\u0301' }, true], ['saveModel', { name: '٣' }, true], ['saveModel', { name: 'a😀' }, false],
  ['saveModel', { name: '模'.repeat(66) }, true], ['saveModel', { name: '模'.repeat(67) }, false],
  ['saveModel', { name: 'CON' }, false], ['saveModel', { name: 'con' }, false], ['saveModel', { name: 'nul.txt' }, false],
  ['saveModel', { name: 'COM1 .tar.gz' }, false], ['saveModel', { name: 'lpt9' }, false], ['saveModel', { name: 'COM¹' }, false],
  ['saveModel', { name: 'console' }, true], ['saveModel', { name: 'COM0' }, true], ['saveModel', { name: 'my CON' }, true],
  ['saveModel', { name: 'x'.repeat(1025) }, false],
  ['saveModel', { name: 5 }, false], ['saveModel', {}, false], ['saveModel', { name: 'm', extra: 1 }, false],
  // openModel
  ['openModel', { dir: '/m' }, true], ['openModel', { dir: 'd'.repeat(4096) }, true], ['openModel', { dir: 'd'.repeat(4097) }, false],
  ['openModel', { dir: '' }, false], ['openModel', {}, false],
  // modelHistory, modelSnapshots, exportModel: no dir (the open model) or a folder
  ['modelHistory', {}, true], ['modelHistory', undefined, true], ['modelHistory', { dir: '/m' }, true],
  ['modelHistory', { dir: '' }, false], ['modelHistory', { dir: 'd'.repeat(4097) }, false], ['modelHistory', { dir: 5 }, false],
  ['modelHistory', { name: 'm' }, false], ['modelSnapshots', {}, true], ['modelSnapshots', { dir: 'd'.repeat(4096) }, true],
  ['modelSnapshots', { dir: '' }, false], ['modelSnapshots', { extra: 1 }, false],
  ['exportModel', {}, true], ['exportModel', { dir: '/m' }, true], ['exportModel', { dir: null }, false], ['exportModel', { dir: '' }, false],
  // importModel
  ['importModel', { base64: 'AAAA' }, true], ['importModel', { base64: '' }, false], ['importModel', {}, false],
  ['importModel', { base64: 'A'.repeat(1_000_000) }, true], ['importModel', { base64: 'A'.repeat(1_000_001) }, false],
  ['importModel', { base64: 'AAAA', fileName: 'm.lenetlab' }, true], ['importModel', { base64: 'AAAA', fileName: '' }, true],
  ['importModel', { base64: 'AAAA', fileName: 'f'.repeat(260) }, true], ['importModel', { base64: 'AAAA', fileName: 'f'.repeat(261) }, false],
  ['importModel', { base64: 'AAAA', name: 'copy (2)' }, true], ['importModel', { base64: 'AAAA', name: '模型' }, true],
  ['importModel', { base64: 'AAAA', name: '../x' }, false], ['importModel', { base64: 'AAAA', name: 'PRN' }, false],
  ['importModel', { base64: 'AAAA', name: '' }, false], ['importModel', { base64: 'AAAA', dir: '/m' }, false],
  ['importModel', { base64: 5 }, false],
  // exportCsv
  ['exportCsv', { kind: 'epochs' }, true], ['exportCsv', { kind: 'batches' }, true], ['exportCsv', { kind: 'confusion' }, true],
  ['exportCsv', { kind: 'mistakes' }, true], ['exportCsv', { kind: 'gradients' }, false], ['exportCsv', { kind: 'Epochs' }, false],
  ['exportCsv', {}, false], ['exportCsv', { kind: 'epochs', extra: 1 }, false],
  // recovery slot and system languages: empty requests
  ['recoveryInfo', {}, true], ['recoveryInfo', { dir: '/m' }, false], ['restoreRecovery', undefined, true],
  ['restoreRecovery', { name: 'x' }, false], ['discardRecovery', {}, true], ['discardRecovery', [], false],
  ['systemLanguages', {}, true], ['systemLanguages', { locale: 'en' }, false],
  // setLanguage
  ['setLanguage', { locale: 'en' }, true], ['setLanguage', { locale: 'zh-CN' }, true], ['setLanguage', { locale: 'zh' }, false],
  ['setLanguage', { locale: 'EN' }, false], ['setLanguage', { locale: 'fr' }, false], ['setLanguage', {}, false],
  ['setLanguage', { locale: 'en', extra: 1 }, false],
  // saveFile: a kind, a plain name with that kind's extension, padded base64 of 4 to 64 Mi characters
  ['saveFile', { kind: 'png', suggestedName: 'loss.png', base64: 'AAAA' }, true],
  ['saveFile', { kind: 'csv', suggestedName: 'a,b =1.CSV', base64: 'QQ==' }, true],
  ['saveFile', { kind: 'lenetlab', suggestedName: 'm.lenetlab', base64: 'QUI=' }, true],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'A'.repeat(64 * 1024 * 1024) }, true],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'A'.repeat(64 * 1024 * 1024 + 4) }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'AAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: '' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'AA=A' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'A===' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'AA-_' }, false],
  ['saveFile', { kind: 'png', suggestedName: `${'n'.repeat(196)}.png`, base64: 'AAAA' }, true],
  ['saveFile', { kind: 'png', suggestedName: `${'n'.repeat(197)}.png`, base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: '.png', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.csv', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'csv', suggestedName: 'x.csv.exe', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: '../x.png', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'a\\x.png', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'a\nx.png', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'exe', suggestedName: 'x.exe', base64: 'AAAA' }, false],
  ['saveFile', { kind: 'png', suggestedName: 'x.png', base64: 'AAAA', path: '/etc/x' }, false],
  ['saveFile', { kind: 'png', base64: 'AAAA' }, false],
  // unknown channels
  ['nope', {}, false], ['__proto__', {}, false], ['toString', {}, false], ['constructor', {}, false],
];

describe('the contract, by a literal table', () => {
  it('knows every channel the contract has, and no other', () => {
    expect([...ORACLE_CHANNELS].sort()).toEqual([...INVOKE_NAMES].sort());
  });

  it.each(TABLE.map(([channel, payload, accepted], i) => [i, channel, accepted, payload] as const))(
    'row %i: %s → %s', async (_i, channel, accepted, payload) => {
      expect(contractAccepts(channel, payload)).toBe(accepted); // the oracle itself agrees with the table
      expect(await harness().forwarded(channel, payload)).toBe(accepted);
    });
});

describe('the contract, fuzzed against the hand-written oracle', () => {
  const near = (name: string) => {
    const seeds: Record<string, unknown[]> = {
      train: [{ variant: 'modern', recipe: { batchSize: 64, epochs: 2, learningRate: 0.01 }, limit: 100, seed: 1 }],
      samples: [{ split: 'test', indices: [0, 1] }],
      evaluate: [{ limit: 10 }],
      saveModel: [{ name: 'model' }],
      openModel: [{ dir: '/m' }],
      modelHistory: [{}, { dir: '/m' }],
      modelSnapshots: [{}, { dir: '/m' }],
      exportModel: [{}, { dir: '/m' }],
      importModel: [{ base64: 'AAAA' }, { base64: 'AAAA', fileName: 'm.lenetlab', name: 'mañana (2)' }],
      exportCsv: [{ kind: 'epochs' }, { kind: 'mistakes' }],
      setLanguage: [{ locale: 'en' }, { locale: 'zh-CN' }],
    };
    const keys = ['variant', 'recipe', 'batchSize', 'epochs', 'learningRate', 'momentum', 'lrDecay', 'augmentShift', 'optimizer',
      'limit', 'testLimit', 'seed', 'dataset', 'split', 'indices', 'name', 'dir', 'extra', 'base64', 'fileName', 'kind', 'locale'];
    const edgeValues = fc.constantFrom(0, -0, 1, -1, 0.5, 2, 3, 199, 200, 201, 999.9, 1000, 1000.5, 4095, 4096, 4097, 9_999_999, 10_000_000,
      10_000_001, 2 ** 31 - 1, 2 ** 31, NaN, Infinity, '', ' ', 'a'.repeat(81), 'a'.repeat(80), 'sgd', 'adam', 'lenet5', 'test',
      'en', 'zh-CN', 'fr', 'epochs', 'confusion', 'CON', 'nul.txt', 'mañana', '模型', '.hidden', 'a/b', 'model.', ' model', 'a..b',
      null, true, [], [0], {}, { kind: 'mnist' }, { kind: 'folder', dir: 'x' });
    return fc.record({
      seed: fc.constantFrom(...(seeds[name] ?? [{}])),
      changes: fc.array(fc.tuple(fc.constantFrom(...keys), edgeValues, fc.boolean()), { minLength: 0, maxLength: 3 }),
    }).map(({ seed, changes }) => {
      const payload = structuredClone(seed) as Record<string, unknown>;
      for (const [key, value, intoRecipe] of changes) {
        if (intoRecipe && name === 'train') payload.recipe = { ...(payload.recipe as object), [key]: value };
        else payload[key] = value;
      }
      return payload;
    });
  };

  it.each(INVOKE_NAMES)('%s: the host forwards exactly what the oracle accepts', async (name) => {
    const { forwarded } = harness();
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fc.oneof(near(name), fc.anything({ maxDepth: 2 })), async (payload) => {
      const expected = contractAccepts(name, payload);
      if (expected) accepted++;
      expect(await forwarded(name, payload)).toBe(expected);
    }), { numRuns: 300 });
    if (['train', 'samples', 'evaluate', 'saveModel', 'openModel', 'modelHistory', 'modelSnapshots', 'exportModel', 'importModel',
      'exportCsv', 'setLanguage'].includes(name)) expect(accepted).toBeGreaterThan(0);
  });
});
