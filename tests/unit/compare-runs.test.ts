import { describe, expect, it } from 'vitest';
import {
  batchesPerEpochOf, compareAccuracySeries, compareCandidates, compareGradientSeries, compareLossSeries, compareVerdict, downsample, epochPosition, finalLoss,
  fromModelHistory, MAX_COMPARED, MAX_POINTS_PER_RUN, RUN_STYLES, runLabel, runStyle, toggleChosen, type RunHistory,
} from '../../renderer/src/lib/compare-runs.js';
import { axisBounds, LOSS_MIN_RATIO } from '../../renderer/src/lib/train-charts.js';

/** A run of `epochs` epochs of `perEpoch` batches, every batch recorded, loss(step) given. */
function run(id: string, variant: RunHistory['variant'], epochs: number, perEpoch: number, loss: (step: number) => number, accuracy: number[]): RunHistory {
  const batches = [];
  for (let e = 1; e <= epochs; e++) {
    for (let b = 1; b <= perEpoch; b++) {
      const step = (e - 1) * perEpoch + b;
      batches.push({ step, epoch: e, batch: b, loss: loss(step), accuracy: 0.5 });
    }
  }
  return {
    id, name: id, variant, batches,
    epochs: accuracy.map((a, i) => ({ epoch: i + 1, trainLoss: loss((i + 1) * perEpoch), testLoss: 1, testAccuracy: a })),
    gradientLayers: ['C1', 'F6'],
    gradients: batches.map((b) => ({ step: b.step, epoch: b.epoch, batch: b.batch, norms: [0.01, 1] })),
  };
}

describe('the epoch axis', () => {
  it('batches per epoch from any point past the first epoch: (step − batch) / (epoch − 1)', () => {
    expect(batchesPerEpochOf([{ step: 5, epoch: 1, batch: 5 }, { step: 130, epoch: 3, batch: 10 }])).toBe(60);
  });
  it('a one-epoch run: its largest batch number; no points: null', () => {
    expect(batchesPerEpochOf([{ step: 1, epoch: 1, batch: 1 }, { step: 47, epoch: 1, batch: 47 }, { step: 20, epoch: 1, batch: 20 }])).toBe(47);
    expect(batchesPerEpochOf([])).toBeNull();
  });
  it('batch 30 of 60 in epoch 2 is at 1.5; the last batch of epoch 1 at 1', () => {
    expect(epochPosition({ step: 90, epoch: 2, batch: 30 }, 60)).toBe(1.5);
    expect(epochPosition({ step: 60, epoch: 1, batch: 60 }, 60)).toBe(1);
  });
  it('runs of different batch sizes end at the same x: their number of epochs', () => {
    const small = run('small', 'seed', 2, 100, () => 2.302585, [0.1, 0.1]);
    const large = run('large', 'modern', 2, 10, (s) => 2 / s, [0.9, 0.95]);
    const [a, b] = compareLossSeries([small, large], (r) => r.name);
    expect(a!.points.at(-1)!.x).toBe(2);
    expect(b!.points.at(-1)!.x).toBe(2);
    expect(b!.points[0]!.x).toBeCloseTo(0.1, 12);
  });
});

describe('downsample', () => {
  it('keeps a series at the limit as it is', () => {
    expect(downsample([1, 2, 3], 3)).toEqual([1, 2, 3]);
  });
  it('one over the limit: evenly, first and last kept', () => {
    expect(downsample([0, 1, 2, 3, 4], 3)).toEqual([0, 2, 4]);
    expect(downsample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([0, 3, 6, 9]);
  });
  it('a long run is thinned to the per-run limit', () => {
    const long = run('long', 'modern', 10, 100, (s) => 1 / s, []);
    const [series] = compareLossSeries([long], (r) => r.name);
    expect(series!.points).toHaveLength(MAX_POINTS_PER_RUN);
    expect(series!.points[0]!.x).toBeCloseTo(0.01, 12);
    expect(series!.points.at(-1)!.x).toBe(10);
  });
});

describe('styles', () => {
  it('four runs: four colours, four dashes, four markers, the current run solid', () => {
    expect(RUN_STYLES).toHaveLength(1 + MAX_COMPARED);
    expect(new Set(RUN_STYLES.map((s) => s.color)).size).toBe(4);
    expect(new Set(RUN_STYLES.map((s) => s.dash.join(','))).size).toBe(4);
    expect(new Set(RUN_STYLES.map((s) => s.marker)).size).toBe(4);
    expect(runStyle(0).dash).toEqual([]);
  });
  it('each series carries its run style, in the order given', () => {
    const runs = [run('a', 'seed', 1, 4, () => 2.3, [0.1]), run('b', 'lenet5', 1, 4, () => 1, [0.5]), run('c', 'modern', 1, 4, () => 0.5, [0.9])];
    const series = compareAccuracySeries(runs, (r) => r.name);
    expect(series.map((s) => [s.label, s.color, s.dash, s.marker, s.style])).toEqual([
      ['a', 0, [], 'circle', 'points'], ['b', 1, [10, 5], 'rect', 'points'], ['c', 2, [2, 4], 'triangle', 'points'],
    ]);
    expect(series.map((s) => s.points)).toEqual([[{ x: 1, y: 10 }], [{ x: 1, y: 50 }], [{ x: 1, y: 90 }]]);
  });
});

describe('the seed run beside a falling run', () => {
  it('its smoothed loss stays 2.302585 and the shared axis spans both, so it draws flat', () => {
    const seed = run('seed', 'seed', 2, 50, () => 2.302585, [0.1135, 0.1135]);
    const modern = run('modern', 'modern', 2, 50, (s) => 2.302585 * Math.exp(-s / 15), [0.95, 0.98]);
    const [flat, falling] = compareLossSeries([seed, modern], (r) => r.name);
    for (const p of flat!.points) expect(p.y).toBeCloseTo(2.302585, 9);
    const bounds = axisBounds([...flat!.points, ...falling!.points].map((p) => p.y), 'logarithmic', LOSS_MIN_RATIO)!;
    // The flat line's wiggle (none) against an axis more than a power of ten tall.
    expect(bounds.max / bounds.min).toBeGreaterThan(LOSS_MIN_RATIO);
    expect(bounds.max).toBeCloseTo(2.302585, 6);
  });
});

describe('saved histories', () => {
  it('nulls (NaN in JSON) become NaN and are left off the charts', () => {
    const h = fromModelHistory('saved:/m', {
      name: 'm', variant: 'modern', recorded: true,
      epochs: [{ epoch: 1, epochs: 2, trainLoss: null, trainAccuracy: null, testLoss: null, testAccuracy: null, seconds: 1, imagesPerSecond: 1, learningRate: 0.1 },
        { epoch: 2, epochs: 2, trainLoss: 0.5, trainAccuracy: 0.9, testLoss: 0.4, testAccuracy: 0.91, seconds: 1, imagesPerSecond: 1, learningRate: 0.1 }],
      batches: [{ step: 1, epoch: 1, batch: 1, loss: null, accuracy: 0.1 }, { step: 2, epoch: 1, batch: 2, loss: 1, accuracy: 0.5 }],
      gradientLayers: ['C1', 'F6'],
      gradients: [{ step: 1, epoch: 1, batch: 1, norms: [null, 1] }, { step: 2, epoch: 1, batch: 2, norms: [0.01, 1] }],
    });
    expect(Number.isNaN(h.batches[0]!.loss)).toBe(true);
    expect(compareAccuracySeries([h], () => 'm')[0]!.points).toEqual([{ x: 2, y: 91 }]);
    // Geometric mean of 0.01 and 1 is 0.1, at batch 2 of 2.
    const [g] = compareGradientSeries([h], () => 'm');
    expect(g!.points).toHaveLength(1);
    expect(g!.points[0]!.x).toBe(1);
    expect(g!.points[0]!.y).toBeCloseTo(0.1, 12);
  });
  it('a model saved with epochs only: its train loss at each epoch end, as markers', () => {
    const old: RunHistory = { id: 'saved:/lenet5', name: 'lenet5', variant: 'lenet5', batches: [], gradientLayers: [], gradients: [],
      epochs: [{ epoch: 1, trainLoss: 0.3, testLoss: 0.2, testAccuracy: 0.97 }, { epoch: 2, trainLoss: 0.1, testLoss: 0.1, testAccuracy: 0.98 }] };
    const [series] = compareLossSeries([old], (r) => r.name);
    expect(series!.style).toBe('points');
    expect(series!.points).toEqual([{ x: 1, y: 0.3 }, { x: 2, y: 0.1 }]);
    expect(compareGradientSeries([old], (r) => r.name)[0]!.points).toEqual([]);
  });
});

describe('compareVerdict', () => {
  const seed = run('seed', 'seed', 1, 4, () => 2.302585, [0.1135]);
  const lenet5 = run('lenet5', 'lenet5', 1, 4, () => 0.2, [0.97]);
  const modern = run('modern', 'modern', 1, 4, () => 0.05, [0.985]);
  it('names the run with the lowest final loss and the best accuracy', () => {
    const v = compareVerdict([seed, lenet5, modern]);
    expect([v.lowestLoss?.run.id, v.lowestLoss?.value]).toEqual(['modern', 0.05]);
    expect([v.bestAccuracy?.run.id, v.bestAccuracy?.value]).toEqual(['modern', 0.985]);
  });
  it('the first run wins a tie', () => {
    const twin = { ...lenet5, id: 'twin' };
    expect(compareVerdict([lenet5, twin]).lowestLoss?.run.id).toBe('lenet5');
  });
  it('a run without an epoch: the median of its last ten batches; nothing known: null', () => {
    const partial: RunHistory = { ...seed, epochs: [], batches: [1, 9, 2, 8, 3].map((loss, i) => ({ step: i + 1, epoch: 1, batch: i + 1, loss, accuracy: 0 })) };
    expect(finalLoss(partial)).toBe(3);
    const empty: RunHistory = { ...seed, epochs: [], batches: [] };
    expect(compareVerdict([empty])).toEqual({ lowestLoss: null, bestAccuracy: null });
  });
});

describe('choosing runs', () => {
  it('up to three; a fourth is refused; untick frees a place', () => {
    let state = { chosen: [] as string[], refused: false };
    for (const id of ['a', 'b', 'c']) state = toggleChosen(state.chosen, id);
    expect(state).toEqual({ chosen: ['a', 'b', 'c'], refused: false });
    expect(toggleChosen(state.chosen, 'd')).toEqual({ chosen: ['a', 'b', 'c'], refused: true });
    expect(toggleChosen(state.chosen, 'b')).toEqual({ chosen: ['a', 'c'], refused: false });
  });
});

describe('runLabel', () => {
  const t = (id: string, v?: Record<string, unknown>) => `${id}${JSON.stringify(v ?? {})}`;
  const base = run('x', 'seed', 1, 1, () => 1, []);
  it('current, current unsaved, an earlier unsaved run, a saved model', () => {
    expect(runLabel({ ...base, id: 'current', name: 'a' }, t as never, (v) => v.toUpperCase(), () => '10:00')).toBe('compare.current{"name":"a","variant":"SEED"}');
    expect(runLabel({ ...base, id: 'current', name: '' }, t as never, (v) => v, () => '')).toBe('compare.currentUnnamed{"name":"","variant":"seed"}');
    expect(runLabel({ ...base, id: 'session:r1', name: '', finishedAt: new Date(0) }, t as never, (v) => v, () => '10:00')).toBe('compare.sessionRun{"variant":"seed","time":"10:00"}');
    expect(runLabel({ ...base, id: 'saved:/m', name: 'm' }, t as never, (v) => v, () => '')).toBe('compare.run{"name":"m","variant":"seed"}');
  });
});

describe('compareCandidates', () => {
  const seed = { ...run('session:r1', 'seed', 1, 2, () => 2.302585, [0.1135]), name: '' };
  const modern = { ...run('session:r2', 'modern', 1, 2, () => 0.1, [0.97]), name: 'cmp-modern' };
  const summary = (name: string, dir: string, builtin = false) => ({
    name, dir, variant: 'lenet5' as const, dataset: 'MNIST', backend: 'wasm' as const, testAccuracy: 0.99, savedAt: '', builtin, unsaved: false,
  });
  const saved = [summary('lenet5', '/assets/lenet5', true), summary('cmp-modern', '/m/cmp-modern'), summary('other', '/m/other')];

  it('session runs newest first, then saved models; the current run is never offered', () => {
    const list = compareCandidates([{ runId: 'r1', run: seed }, { runId: 'r2', run: modern, savedDir: '/m/cmp-modern' }], saved, { runId: 'r2', dir: '/m/cmp-modern' });
    expect(list.map((c) => c.id)).toEqual(['session:r1', 'saved:/assets/lenet5', 'saved:/m/other']);
    expect(list[0]).toMatchObject({ name: '', variant: 'seed', testAccuracy: 0.1135, builtin: false });
    expect(list[1]).toMatchObject({ name: 'lenet5', builtin: true, testAccuracy: 0.99 });
  });
  it('a saved session run is listed once, as the session run with its name', () => {
    const list = compareCandidates([{ runId: 'r1', run: seed }, { runId: 'r2', run: modern, savedDir: '/m/cmp-modern' }], saved, { runId: 'r3' });
    expect(list.map((c) => c.id)).toEqual(['session:r2', 'session:r1', 'saved:/assets/lenet5', 'saved:/m/other']);
    expect(list[0]!.name).toBe('cmp-modern');
  });
  it('a run with no finished epoch has no accuracy to show', () => {
    const list = compareCandidates([{ runId: 'r1', run: { ...seed, epochs: [] } }], [], { runId: null });
    expect(list[0]!.testAccuracy).toBeNull();
  });
});
