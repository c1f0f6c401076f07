import { describe, expect, it } from 'vitest';
import { confirmDiscard, mustAskBeforeDiscard, mustHoldUnload, type DiscardChoice } from '../../renderer/src/lib/discard-guard.js';

const saved = { unsaved: false };
const unsaved = { unsaved: true };

describe('mustAskBeforeDiscard', () => {
  it.each([
    // action, summary, phase, ask?
    ['start', saved, 'idle', false],
    ['start', unsaved, 'idle', true],
    ['start', null, 'idle', false],
    ['start', unsaved, 'running', false], // Start pauses then: nothing replaced
    ['start', unsaved, 'paused', false],
    ['open', saved, 'idle', false],
    ['open', unsaved, 'idle', true],
    ['open', saved, 'running', true], // a run in progress is unsaved work
    ['new', unsaved, 'idle', true],
    ['new', null, 'idle', false],
    ['variant', unsaved, 'idle', true],
    ['variant', saved, 'paused', true],
  ] as const)('%s with %o while %s → %s', (action, summary, phase, expected) => {
    expect(mustAskBeforeDiscard(action, { summary, phase })).toBe(expected);
  });
});

describe('mustHoldUnload', () => {
  it('holds an unsaved model or a live run, lets a saved idle one go', () => {
    expect(mustHoldUnload({ summary: unsaved, phase: 'idle' })).toBe(true);
    expect(mustHoldUnload({ summary: saved, phase: 'running' })).toBe(true);
    expect(mustHoldUnload({ summary: saved, phase: 'idle' })).toBe(false);
    expect(mustHoldUnload({ summary: null, phase: 'idle' })).toBe(false);
  });
});

describe('confirmDiscard', () => {
  function deps(choice: DiscardChoice, saves: boolean, summary = unsaved) {
    const calls: string[] = [];
    return {
      calls,
      summary,
      phase: 'idle' as const,
      ask: async () => { calls.push('ask'); return choice; },
      save: async () => { calls.push('save'); return saves; },
    };
  }
  it('goes ahead without asking when nothing is unsaved', async () => {
    const d = deps('cancel', false, saved);
    expect(await confirmDiscard('start', d)).toBe(true);
    expect(d.calls).toEqual([]);
  });
  it('Discard goes ahead without saving', async () => {
    const d = deps('discard', false);
    expect(await confirmDiscard('open', d)).toBe(true);
    expect(d.calls).toEqual(['ask']);
  });
  it('Cancel stops', async () => {
    const d = deps('cancel', true);
    expect(await confirmDiscard('start', d)).toBe(false);
    expect(d.calls).toEqual(['ask']);
  });
  it('Save… goes ahead only once saved', async () => {
    const ok = deps('save', true);
    expect(await confirmDiscard('start', ok)).toBe(true);
    expect(ok.calls).toEqual(['ask', 'save']);
    const gaveUp = deps('save', false);
    expect(await confirmDiscard('start', gaveUp)).toBe(false);
  });
});
