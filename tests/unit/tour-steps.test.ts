// The guided lesson as data: its order, the steps a build can show, where a left lesson resumes, what it remembers.
import { describe, expect, it } from 'vitest';
import en from '../../common/i18n/en.json' with { type: 'json' };
import { GLOSSARY } from '../../common/i18n/glossary.js';
import { LOOK_FOR, VIEW_NAMES } from '../../common/views.js';
import { availableSteps, parseTourMemory, resumeIndex, TOUR_STEPS } from '../../renderer/src/lib/tour-steps.js';

const ALL_VIEWS = [...VIEW_NAMES, 'convolutions'];
const VARIANTS = ['lenet5', 'seed', 'modern'];

describe('TOUR_STEPS', () => {
  it('follows the lesson: CNN, formula, kinds, layers, training, the stalling recipe, the paper', () => {
    expect(TOUR_STEPS.map((s) => [s.id, s.view, s.target])).toEqual([
      ['cnn', 'draw', 'draw-canvas'],
      ['formula', 'features', 'dot-product'],
      ['kinds', 'convolutions', 'convolutions-view'],
      ['layers', 'network', 'network-diagram'],
      ['train', 'train', 'train-start'],
      ['stall', 'train', 'chart-gradients'],
      ['paper', 'evaluate', 'paper-table'],
    ]);
  });
  it('has every message in en.json and the formula in the lesson words', () => {
    for (const step of TOUR_STEPS) for (const key of [step.titleKey, step.bodyKey, step.lookKey]) expect(en, key).toHaveProperty(key);
    // The table's row names stay visible: the panel covers only the sources column.
    expect(TOUR_STEPS.find((s) => s.id === 'paper')!.panel).toBe('right');
    expect(en['tour.formula.body']).toContain('Y[i,j] = Σₘ Σₙ W[m,n]·X[i+m, j+n] + b');
  });
});

/** The registry without the Convolutions view (an older build, or one that drops it). */
const WITHOUT_CONV = VIEW_NAMES.filter((view) => view !== 'convolutions');

describe('availableSteps', () => {
  it('keeps all seven when the registry has a convolutions view', () => {
    expect(availableSteps(ALL_VIEWS, VARIANTS)).toHaveLength(7);
  });
  it('skips the kinds step when the registry has no convolutions view', () => {
    expect(availableSteps(WITHOUT_CONV, VARIANTS).map((s) => s.id)).toEqual(['cnn', 'formula', 'layers', 'train', 'stall', 'paper']);
  });
  it('keeps the stall step but drops its recipe button when the seed variant is missing', () => {
    expect(availableSteps(VIEW_NAMES, VARIANTS).find((s) => s.id === 'stall')!.recipe).toBe('seed');
    const stall = availableSteps(VIEW_NAMES, ['lenet5']).find((s) => s.id === 'stall')!;
    expect(stall.recipe).toBeUndefined();
    expect(TOUR_STEPS.find((s) => s.id === 'stall')!.recipe).toBe('seed'); // the data is not changed
  });
});

describe('resumeIndex', () => {
  const steps = availableSteps(WITHOUT_CONV, VARIANTS);
  it('resumes at the remembered step, the first when none or unknown', () => {
    expect(resumeIndex(steps, 'train')).toBe(3);
    expect(resumeIndex(steps, 'paper')).toBe(5);
    expect(resumeIndex(steps, 'cnn')).toBe(0);
    expect(resumeIndex(steps, null)).toBe(0);
    expect(resumeIndex(steps, 'kinds')).toBe(0); // a step this build does not show
  });
});

describe('parseTourMemory', () => {
  it('reads what the lesson wrote, and starts over on anything else', () => {
    expect(parseTourMemory('{"seen":true,"step":"layers"}')).toEqual({ seen: true, step: 'layers' });
    expect(parseTourMemory('{"seen":true,"step":null}')).toEqual({ seen: true, step: null });
    expect(parseTourMemory(null)).toEqual({ seen: false, step: null });
    expect(parseTourMemory('not json')).toEqual({ seen: false, step: null });
    expect(parseTourMemory('{"seen":"yes","step":3}')).toEqual({ seen: false, step: null });
    expect(parseTourMemory('null')).toEqual({ seen: false, step: null });
  });
});

describe('LOOK_FOR', () => {
  it('explains the six terms the issue names, each one in the glossary', () => {
    const terms = Object.values(LOOK_FOR).flatMap((entry) => entry.terms);
    expect(terms).toEqual(expect.arrayContaining(['macs', 'lr-decay', 'gradient-norm', 'softmax', 'rbf', 'confidence']));
    const ids = new Set(GLOSSARY.map((e) => e.id));
    for (const term of terms) expect(ids.has(term), term).toBe(true);
  });
});
