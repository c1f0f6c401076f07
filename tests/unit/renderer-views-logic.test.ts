// The logic the Train, Draw and Evaluate views used to hold inline: chart series,
// status words, the confusion matrix's maths, the pad's stroke width and the
// prediction's wording. Oracles are literal tables.
import { describe, expect, it } from 'vitest';
import { createLabIntl } from '../../common/i18n/index.js';
import { variantTitle } from '../../renderer/src/lib/variant-text.js';
import {
  accuracySeries, formatLogAxis, formatPercentAxis, gradientSeries, lossSeries, type HistoryLike,
} from '../../renderer/src/lib/train-charts.js';
import { backendText, doneHeading, doneSummary, phaseLabel, statusLine, withEngines } from '../../renderer/src/lib/train-status.js';
import {
  cellShade, formatErrorPercent, indicesInCell, maxOffDiagonal, rowTotals, shadeStyle,
} from '../../renderer/src/lib/confusion.js';
import { strokeWidth } from '../../renderer/src/lib/pad-strokes.js';
import { inkLength, MIN_INK_LENGTH, padReading, predictionHint, probabilityText } from '../../renderer/src/lib/prediction-text.js';

const lab = createLabIntl('en');

describe('train charts', () => {
  const history: HistoryLike = {
    batches: [{ step: 1, loss: 2.3, accuracy: 0.1 }, { step: 2, loss: 1.5, accuracy: 0.5 }],
    epochs: [{ step: 2, testLoss: 1.2, testAccuracy: 0.6 }],
    smoothed: { loss: [2.3, 1.9], accuracy: [0.1, 0.3] },
    gradients: [{ step: 1, norms: [0.5, Number.NaN] }, { step: 2, norms: [0, 0.25] }],
    gradientLayers: ['C1', 'F6'],
  };
  it('draws batches faint, the smoothed curve bold and the test points per epoch', () => {
    const loss = lossSeries(history, lab);
    expect(loss.map((s) => [s.label, s.style])).toEqual([['batch', 'faint'], ['train (smoothed)', 'line'], ['test (epoch)', 'points']]);
    expect(loss[1]!.points).toEqual([{ x: 1, y: 2.3 }, { x: 2, y: 1.9 }]);
    expect(loss[2]!.points).toEqual([{ x: 2, y: 1.2 }]);
    expect(accuracySeries(history, lab)[1]!.points).toEqual([{ x: 1, y: 10 }, { x: 2, y: 30 }]);
  });
  it('leaves out gradient norms a log axis cannot show (NaN and 0)', () => {
    expect(gradientSeries(history).map((s) => [s.label, s.points])).toEqual([
      ['C1', [{ x: 1, y: 0.5 }]],
      ['F6', [{ x: 2, y: 0.25 }]],
    ]);
  });
  it('labels log axes at powers of ten only, percent axes whole', () => {
    expect(formatLogAxis(0.001)).toBe('0.001');
    expect(formatLogAxis(10)).toBe('10');
    expect(formatLogAxis(0.002)).toBe('');
    expect(formatPercentAxis(42.4)).toBe('42%');
  });
});

describe('train status', () => {
  const figures = { epoch: 1, epochs: 3, batch: 40, batchesPerEpoch: 1875, imagesPerSecond: 1234.4, etaSeconds: 42 };
  it('says "Not started" only before the first batch of an idle page', () => {
    expect(statusLine('idle', false, figures, 'wasm', lab)).toBe('Not started');
    expect(statusLine('running', false, figures, 'wasm', lab)).toMatch(/^epoch 1\/3/);
  });
  it('writes epoch, batch, speed, ETA and backend; the ETA is 0:00 once idle', () => {
    expect(statusLine('running', true, figures, 'wasm on 2 cores', lab)).toBe('epoch 1/3 · batch 40/1,875 · 1,234 img/s · ETA 0:42 · wasm on 2 cores');
    expect(statusLine('idle', true, figures, 'cpu', lab)).toContain('ETA 0:00');
  });
  it('names the backend, with two cores only for two engines', () => {
    expect(backendText('wasm', 2, lab)).toBe('wasm on 2 cores');
    expect(backendText('wasm', 1, lab)).toBe('wasm');
    expect(backendText(null, undefined, lab)).toBe('—');
  });
  it('a run begun on one engine: two from the engines event on, or one with the reason, the rest of started kept', () => {
    const started = { runId: 'r', engines: 1 as const, trainCount: 12 };
    expect(withEngines(started, { engines: 2 })).toEqual({ runId: 'r', engines: 2, trainCount: 12 });
    expect(withEngines(started, { engines: 1, enginesNote: 'one engine: a second could not start (x)' }))
      .toEqual({ runId: 'r', engines: 1, trainCount: 12, enginesNote: 'one engine: a second could not start (x)' });
    expect(backendText('wasm', withEngines(started, { engines: 2 }).engines, lab)).toBe('wasm on 2 cores');
  });
  it('shows how the last run ended once idle, else the phase', () => {
    expect(phaseLabel('idle', null, lab)).toBe('Idle');
    expect(phaseLabel('idle', { reason: 'diverged' }, lab)).toBe('Diverged');
    expect(phaseLabel('running', { reason: 'completed' }, lab)).toBe('Training');
    expect(doneHeading('completed', lab)).toBe('Training finished.');
    expect(lab.t('train.done.took', { duration: '0:42', backend: 'wasm', twoCores: 'yes' })).toBe('(0:42 on wasm, 2 cores.)');
    expect(lab.t('train.done.took', { duration: '0:42', backend: 'wasm', twoCores: 'no' })).toBe('(0:42 on wasm.)');
  });
});

describe('confusion matrix', () => {
  const result = {
    confusion: [[5, 1, 0], [0, 4, 3], [2, 0, 6]],
    mistakes: [{ index: 3, label: 1, predicted: 2, confidence: 0.9 }, { index: 0, label: 0, predicted: 1, confidence: 0.6 }],
    predictions: [1, 1, 0, 2, 1, 0],
  };
  it('totals rows and finds the largest mistake', () => {
    expect(rowTotals(result.confusion)).toEqual([6, 7, 8]);
    expect(maxOffDiagonal(result.confusion)).toBe(3);
    expect(maxOffDiagonal([[4, 0], [0, 4]])).toBe(1);
  });
  it('shades the diagonal by share and mistakes by the root of their count, empty cells not at all', () => {
    expect(cellShade(0, 0, 6, 6, 3)).toEqual({ tone: 'success', percent: 85 });
    expect(cellShade(0, 0, 3, 6, 3)).toEqual({ tone: 'success', percent: 50 });
    expect(cellShade(1, 2, 3, 7, 3)).toEqual({ tone: 'danger', percent: 90 });
    expect(cellShade(1, 2, 0, 7, 3)).toBeNull();
    expect(shadeStyle(null)).toBe('');
    expect(shadeStyle({ tone: 'danger', percent: 12 })).toBe('--shade: color-mix(in srgb, var(--danger) 12%, var(--surface)); background: var(--shade);');
  });
  it('lists a mistake cell from the mistakes and a diagonal cell from the right predictions', () => {
    expect(indicesInCell(result, 1, 2)).toEqual([3]);
    expect(indicesInCell(result, 0, 1)).toEqual([0]);
    expect(indicesInCell(result, 1, 1)).toEqual([1, 4]);
    expect(indicesInCell(result, 2, 0)).toEqual([]);
  });
  it('prints errors as the paper does', () => {
    const en = createLabIntl('en');
    expect(formatErrorPercent(0.95, en)).toBe('0.95%');
    expect(formatErrorPercent(0.999, en)).toBe('1.00%');
    expect(formatErrorPercent(1, en)).toBe('1.0%');
    expect(formatErrorPercent(12, en)).toBe('12.0%');
    expect(formatErrorPercent(0.8, createLabIntl('zh-CN'))).toBe('0.80%');
  });
});

describe('drawing pad', () => {
  it('scales the brush by pen pressure only', () => {
    expect(strokeWidth(20, 'mouse', 0.5)).toBe(20);
    expect(strokeWidth(20, 'touch', 1)).toBe(20);
    expect(strokeWidth(20, 'pen', 0)).toBe(20);
    expect(strokeWidth(20, 'pen', 1)).toBeCloseTo(27);
    expect(strokeWidth(20, 'pen', 0.5)).toBeCloseTo(17);
  });
  it('words the answer and the bars', () => {
    const prediction = { digit: 7, probabilities: [0, 0, 0, 0, 0, 0, 0, 0.977, 0, 0] };
    expect(predictionHint({ hasInk: false, prediction: null, loading: false }, lab)).toBe('draw a digit');
    expect(predictionHint({ hasInk: true, prediction: null, loading: true }, lab)).toBe('loading the model…');
    expect(predictionHint({ hasInk: true, prediction: null, loading: false }, lab)).toBe('no model yet: train or open one');
    expect(predictionHint({ hasInk: true, prediction, loading: false }, lab)).toBe('97.7% sure');
    expect(probabilityText(0.0995, lab)).toBe('10.0%');
    expect(probabilityText(0.0996, lab)).toBe('10%');
    expect(probabilityText(0.002, lab)).toBe('0.2%');
  });
});

describe('the end-of-run sentence', () => {
  it('is worded from the run\'s figures in the active language, not from the trainer\'s English message', () => {
    const en = createLabIntl('en');
    const zh = createLabIntl('zh-CN');
    const run = { reason: 'completed' as const, epochsCompleted: 1, testAccuracy: 0.688 };
    expect(doneSummary(run, 0.002, en)).toBe('Trained 1 epoch: test accuracy 68.80%.');
    expect(doneSummary({ ...run, epochsCompleted: 3 }, 0.002, en)).toBe('Trained 3 epochs: test accuracy 68.80%.');
    expect(doneSummary(run, 0.002, zh)).toBe('共训练 1 轮，测试准确率 68.80%。');
    expect(doneSummary({ ...run, reason: 'stopped', epochsCompleted: 0 }, 0.002, zh)).toBe('完整训练 0 轮后停止，测试准确率 68.80%。');
    expect(doneSummary({ ...run, reason: 'diverged' }, 5, zh)).toContain('请试试比 5 更小的学习率');
  });
  it('names the variants in the active language, and an unknown one as it is', () => {
    const zh = createLabIntl('zh-CN');
    expect(variantTitle('seed', zh.t)).toBe('课程原版配方');
    expect(variantTitle('lenet5', createLabIntl('en').t)).toBe('LeNet-5 (1998)');
    expect(variantTitle('lenet6', zh.t)).toBe('lenet6');
  });
});

describe('the pad knows when it cannot tell', () => {
  const probs = (top: number) => Array.from({ length: 10 }, (_, d) => (d === 3 ? top : (1 - top) / 9));
  const state = (top: number, ink = 200) => ({ hasInk: true, loading: false, ink, prediction: { digit: 3, probabilities: probs(top) } });
  it('names a digit from 50% up, says "not sure" just below', () => {
    expect(padReading(state(0.5))).toBe('sure');
    expect(padReading(state(0.4999))).toBe('unsure');
    expect(padReading(state(0.1))).toBe('unsure'); // a stalled model
  });
  it('too little ink is "not a digit", however sure the network is', () => {
    expect(padReading(state(0.977, MIN_INK_LENGTH - 0.01))).toBe('tooLittleInk');
    expect(padReading(state(0.977, MIN_INK_LENGTH))).toBe('sure');
  });
  it('words it', () => {
    expect(predictionHint(state(0.3), lab)).toBe('not sure / not a digit (best guess 3, 30.0%)');
    expect(predictionHint(state(0.977, 0), lab)).toMatch(/^not sure \/ not a digit: too little ink/);
  });
  it('measures ink as the strokes\' length: a dot is 0', () => {
    expect(inkLength([[{ x: 5, y: 5 }]])).toBe(0);
    expect(inkLength([[{ x: 0, y: 0 }, { x: 3, y: 4 }], [{ x: 10, y: 10 }, { x: 10, y: 20 }]])).toBe(15);
  });
});
