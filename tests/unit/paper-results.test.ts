// The paper's table with the lab's measured column: which model each row shows, and which rows stay paper-only.
import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../common/contract.js';
import { bestMeasurement, measurePaperTable, PAPER_RESULTS } from '../../renderer/src/lib/paper-results.js';

function model(name: string, variant: string, testAccuracy: number | null, builtin: boolean): ModelSummary {
  return {
    name, dir: `/models/${name}`, variant: variant as ModelSummary['variant'], dataset: 'mnist', backend: 'cpu',
    testAccuracy, savedAt: '2026-12-06T10:00:00Z', builtin, unsaved: false,
  };
}

const ALL = new Set(['linear', 'lenet1', 'lenet4', 'lenet5', 'seed', 'modern']);
const exists = (v: string) => ALL.has(v);

describe('the paper row → variant mapping', () => {
  it('maps exactly the four rows the lab can train, in the paper words', () => {
    const mapped = PAPER_RESULTS.filter((r) => r.variant).map((r) => [r.name, r.variant]);
    expect(mapped).toEqual([['Linear classifier', 'linear'], ['LeNet-1', 'lenet1'], ['LeNet-4', 'lenet4'], ['LeNet-5', 'lenet5']]);
  });
});

describe('bestMeasurement', () => {
  it('takes the lowest error of the variant and says where it comes from', () => {
    const models = [model('shipped', 'lenet5', 0.989, true), model('mine', 'lenet5', 0.9915, false), model('other', 'modern', 0.995, false)];
    const best = bestMeasurement('lenet5', models)!;
    expect(best.model.name).toBe('mine');
    expect(best.source).toBe('saved');
    expect(best.error).toBeCloseTo(0.85, 10);
  });
  it('prefers the shipped model on a tie and skips models without a test accuracy', () => {
    const models = [model('mine', 'lenet1', 0.98, false), model('shipped', 'lenet1', 0.98, true), model('none', 'lenet1', null, false)];
    expect(bestMeasurement('lenet1', models)!.model.name).toBe('shipped');
    expect(bestMeasurement('lenet1', [model('none', 'lenet1', null, false)])).toBeNull();
    expect(bestMeasurement('lenet4', models)).toBeNull();
  });
});

describe('measurePaperTable', () => {
  it('measures the rows with a model, leaves trainable rows untrained and the rest paper-only', () => {
    const rows = measurePaperTable([model('lenet5', 'lenet5', 0.9905, true), model('linear', 'linear', 0.92, true)], exists);
    const status = Object.fromEntries(rows.map((r) => [r.name, r.status]));
    expect(status).toEqual({
      'Linear classifier': 'measured', 'k-NN, Euclidean (L2)': 'paper-only', '2-layer NN, 300 hidden units': 'paper-only',
      'LeNet-1': 'untrained', 'LeNet-4': 'untrained', 'LeNet-5': 'measured', 'LeNet-5, with distortions': 'paper-only',
      'V-SVM, polynomial degree 9': 'paper-only', 'Boosted LeNet-4': 'paper-only',
    });
    expect(rows[0]!.measured!.error).toBeCloseTo(8, 10);
    // The paper's numbers are kept as they are, in the paper's order.
    expect(rows.map((r) => r.error)).toEqual([12.0, 5.0, 4.7, 1.7, 1.1, 0.95, 0.8, 0.8, 0.7]);
  });
  it('shows a row as paper-only when its variant does not exist in this build, even with a model of that name', () => {
    const rows = measurePaperTable([model('lenet1', 'lenet1', 0.985, true)], (v) => v === 'lenet5');
    expect(rows.find((r) => r.name === 'LeNet-1')!.status).toBe('paper-only');
    expect(rows.find((r) => r.name === 'LeNet-1')!.measured).toBeNull();
    expect(rows.find((r) => r.name === 'LeNet-5')!.status).toBe('untrained');
  });
});
