// A run's record: bounded series that span the whole run, the last point kept, snapshots quantised within one
// step of 8 bits, and stored records that a hand edit cannot make unbounded. Plus the CSV exports.
import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_POINTS, MAX_GRADIENT_POINTS, MAX_SNAPSHOTS, RunRecord, RunRecorder, kernelToWire, quantiseKernel,
} from '../../common/run-record.js';
import { encodeBase64, wireToFloat32 } from '../../common/network/wire.js';
import { batchesToCsv, confusionToCsv, csvCell, historyToCsv, mistakesToCsv } from '../../hosts/history-csv.js';

const batch = (step: number) => ({ type: 'batch' as const, runId: 'r', epoch: 1, batch: step, batchesPerEpoch: 1e6, loss: 1 / step, accuracy: 0.5, imagesPerSecond: 1, step });
const kernel = (name: string, values: number[]) => ({ name, shape: [values.length], data: encodeBase64(new Float32Array(values)) });

describe('RunRecorder bounds', () => {
  it.each([
    ['at the cap: every point kept', MAX_BATCH_POINTS, MAX_BATCH_POINTS],
    ['one past the cap: thinned to half, plus the last', MAX_BATCH_POINTS + 1, MAX_BATCH_POINTS / 2 + 1],
    ['a long run (100,000 batches)', 100_000, null],
  ])('%s', (_what, n, expectedLength) => {
    const recorder = new RunRecorder();
    for (let step = 1; step <= n; step++) recorder.add(batch(step));
    const { batches } = recorder.record();
    if (expectedLength !== null) expect(batches).toHaveLength(expectedLength);
    expect(batches.length).toBeLessThanOrEqual(MAX_BATCH_POINTS);
    expect(batches[0]!.step).toBe(1);
    expect(batches.at(-1)!.step).toBe(n);
    // Evenly spread: steps strictly increase and the gaps (the last aside) are all equal.
    const gaps = batches.slice(1, -1).map((b, i) => b.step - batches[i]!.step);
    expect(new Set(gaps).size).toBeLessThanOrEqual(1);
  });

  it('gradients and snapshots have their own caps', () => {
    const recorder = new RunRecorder();
    for (let step = 1; step <= 5000; step++) {
      recorder.add({ type: 'gradients', runId: 'r', epoch: 1, batch: step, step, norms: [{ layer: 'C1', norm: step }, { layer: 'OUT', norm: 1 }] });
      recorder.add({ type: 'weights', runId: 'r', epoch: 1, batch: step, step, tensors: [kernel('C1/kernel', [step, 0]), kernel('C5/kernel', [1])] });
    }
    const record = recorder.record();
    expect(record.gradientLayers).toEqual(['C1', 'OUT']);
    expect(record.gradients.length).toBeLessThanOrEqual(MAX_GRADIENT_POINTS);
    expect(record.snapshots.length).toBeLessThanOrEqual(MAX_SNAPSHOTS);
    expect(record.snapshots.at(-1)!.step).toBe(5000);
    expect(record.snapshots[0]!.kernels.map((k) => k.name)).toEqual(['C1/kernel']);
    expect(RunRecord.safeParse(JSON.parse(JSON.stringify(record))).success).toBe(true);
  });
});

describe('snapshot quantisation', () => {
  it('reads back within half a step of 8 bits of each kernel\'s range; min and max exact', () => {
    const values = [-0.3, -0.1, 0, 0.05, 0.2, 0.7];
    const back = Array.from(wireToFloat32(kernelToWire(quantiseKernel(kernel('C1/kernel', values)))));
    const step = (0.7 - -0.3) / 255;
    values.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(step / 2 + 1e-6));
    expect(back[0]).toBeCloseTo(-0.3, 6);
    expect(back[5]).toBeCloseTo(0.7, 6);
  });
  it('a constant kernel stays constant', () => {
    expect(Array.from(wireToFloat32(kernelToWire(quantiseKernel(kernel('C3/kernel', [0.25, 0.25])))))).toEqual([0.25, 0.25]);
  });
});

describe('stored records are checked', () => {
  const valid = { batches: [], gradientLayers: ['C1'], gradients: [], snapshots: [] };
  const snap = (shape: number[], q: string, min = 0, max = 1) => ({ ...valid, snapshots: [{ step: 1, epoch: 1, batch: 1, kernels: [{ name: 'C1/kernel', shape, min, max, q }] }] });
  it.each([
    ['one batch point too many', { ...valid, batches: Array.from({ length: MAX_BATCH_POINTS + 1 }, (_, i) => ({ step: i, epoch: 1, batch: i, loss: 1, accuracy: 1 })) }],
    ['a gradient point with the wrong number of norms', { ...valid, gradients: [{ step: 1, epoch: 1, batch: 1, norms: [1, 2] }] }],
    ['a snapshot whose bytes do not match its shape', snap([2, 2], encodeBase64(new Uint8Array(3)))],
    ['a snapshot of 16,385 values', snap([16_385], '')],
    ['a snapshot with min above max', snap([3], encodeBase64(new Uint8Array(3)), 1, 0)],
    ['31 snapshots', { ...valid, snapshots: Array.from({ length: MAX_SNAPSHOTS + 1 }, () => snap([3], encodeBase64(new Uint8Array(3))).snapshots[0]) }],
    ['an unknown key', { ...valid, extra: 1 }],
  ])('refuses %s', (_what, record) => {
    expect(RunRecord.safeParse(record).success).toBe(false);
  });
  it('accepts the largest snapshot (16,384 values) and NaN losses stored as null', () => {
    expect(RunRecord.safeParse(snap([16_384], encodeBase64(new Uint8Array(16_384)))).success).toBe(true);
    const parsed = RunRecord.parse({ ...valid, batches: [{ step: 1, epoch: 1, batch: 1, loss: null, accuracy: 0.1 }] });
    expect(parsed.batches[0]!.loss).toBeNaN();
  });
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ])('cell %j → %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });
  it('numbers stay numbers (a negative loss is data), NaN and infinities spelled out', () => {
    expect([-0.5, 3, NaN, Infinity, -Infinity].map(csvCell)).toEqual(['-0.5', '3', 'NaN', 'Infinity', '-Infinity']);
  });
  it('per batch, with a gradient-norm column per layer, empty where not measured', () => {
    const csv = batchesToCsv({
      batches: [{ step: 1, epoch: 1, batch: 1, loss: 2.3, accuracy: 0.1 }, { step: 2, epoch: 1, batch: 2, loss: 2.2, accuracy: 0.2 }],
      gradientLayers: ['C1', '=evil'],
      gradients: [{ step: 2, epoch: 1, batch: 2, norms: [0.01, 0.5] }, { step: 3, epoch: 1, batch: 3, norms: [0.02, 0.4] }],
      snapshots: [],
    });
    expect(csv).toBe([
      'step,epoch,batch,loss,accuracy,gradientNorm C1,gradientNorm =evil',
      '1,1,1,2.3,0.1,,',
      '2,1,2,2.2,0.2,0.01,0.5',
      '3,1,3,,,0.02,0.4',
      '',
    ].join('\n'));
  });
  it('rows in step order (numeric), gradients measured between reported batches placed among them', () => {
    const csv = batchesToCsv({
      batches: [1, 10, 20].map((step) => ({ step, epoch: 1, batch: step, loss: 1, accuracy: 0.5 })),
      gradientLayers: ['OUT'],
      gradients: [2, 10, 15].map((step) => ({ step, epoch: 1, batch: step, norms: [step / 100] })),
      snapshots: [],
    });
    expect(csv.trim().split('\n').slice(1)).toEqual(['1,1,1,1,0.5,', '2,1,2,,,0.02', '10,1,10,1,0.5,0.1', '15,1,15,,,0.15', '20,1,20,1,0.5,']);
  });
  it('confusion matrix and mistakes', () => {
    expect(confusionToCsv([[5, 1], [0, 4]])).toBe('true \\ predicted,0,1\n0,5,1\n1,0,4\n');
    expect(mistakesToCsv([{ index: 17, label: 7, predicted: 1, confidence: 0.93 }])).toBe('index,label,predicted,confidence\n17,7,1,0.93\n');
  });
  it('per epoch as before', () => {
    expect(historyToCsv([{ epoch: 1, epochs: 1, trainLoss: 0.5, trainAccuracy: 0.9, testLoss: NaN, testAccuracy: 0.8, seconds: 2, imagesPerSecond: 10, learningRate: 0.01 }]))
      .toBe('epoch,trainLoss,trainAccuracy,testLoss,testAccuracy,seconds,imagesPerSecond,learningRate\n1,0.5,0.9,NaN,0.8,2,10,0.01\n');
  });
});
