// The renderer's shell logic without a DOM: the view registry, the keyboard
// shortcuts, Start / Pause from anywhere, the Save dialog's name rules and the
// progress sentences.
import { describe, expect, it, vi } from 'vitest';
import { VIEW_NAMES, VIEWS, viewEntry, viewForDigit } from '../../common/views.js';
import { MenuCommand } from '../../common/contract.js';
import { createLabIntl, type MessageKey } from '../../common/i18n/index.js';
import { isStartPauseKey, shortcutView, type KeyPress } from '../../renderer/src/lib/shortcuts.js';
import { startOrPause, type RunControlDeps } from '../../renderer/src/lib/run-control.js';
import { modelNameProblem, suggestedModelName } from '../../renderer/src/lib/model-name.js';
import { sortModels } from '../../renderer/src/lib/model-list.js';
import { accuracySource, trainingProgressText } from '../../renderer/src/lib/status-text.js';
import type { ModelSummary } from '../../common/contract.js';
import type { RunPhase } from '../../common/protocol.js';

const lab = createLabIntl('en');

describe('the view registry', () => {
  it('lists the seven views in order, on Ctrl/Cmd+1…7', () => {
    expect(VIEWS.map((v) => [v.name, v.digit, v.accelerator])).toEqual([
      ['train', '1', 'CmdOrCtrl+1'], ['network', '2', 'CmdOrCtrl+2'], ['filters', '3', 'CmdOrCtrl+3'],
      ['features', '4', 'CmdOrCtrl+4'], ['draw', '5', 'CmdOrCtrl+5'], ['evaluate', '6', 'CmdOrCtrl+6'],
      ['convolutions', '7', 'CmdOrCtrl+7'],
    ]);
    expect(VIEWS.map((v) => v.name)).toEqual([...VIEW_NAMES]);
  });
  it('gives every view a title, a hint and a menu label, and a navigate command', () => {
    expect(VIEWS.map((v) => lab.t(v.titleKey))).toEqual(['Train', 'Network', 'Filters', 'Feature maps', 'Draw', 'Evaluate', 'Convolutions']);
    expect(lab.t(viewEntry('features').menuKey)).toBe('Feature Maps');
    for (const view of VIEWS) {
      expect(lab.t(view.hintKey)).not.toBe(view.hintKey);
      expect(MenuCommand.safeParse({ command: 'navigate', view: view.name }).success).toBe(true);
    }
    expect(MenuCommand.safeParse({ command: 'navigate', view: 'settings' }).success).toBe(false);
  });
  it('maps digits to views, 1 and 7 at the edges', () => {
    expect(viewForDigit('1')).toBe('train');
    expect(viewForDigit('6')).toBe('evaluate');
    expect(viewForDigit('0')).toBeNull();
    expect(viewForDigit('7')).toBe('convolutions');
    expect(viewForDigit('8')).toBeNull();
  });
});

describe('keyboard shortcuts', () => {
  const press = (over: Partial<KeyPress>): KeyPress =>
    ({ key: '1', ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, repeat: false, ...over });
  it('opens a view on Ctrl or Cmd with a digit, and only then', () => {
    expect(shortcutView(press({ ctrlKey: true }))).toBe('train');
    expect(shortcutView(press({ metaKey: true, key: '6' }))).toBe('evaluate');
    expect(shortcutView(press({ ctrlKey: true, key: '7' }))).toBe('convolutions');
    expect(shortcutView(press({ ctrlKey: true, key: '8' }))).toBeNull();
    expect(shortcutView(press({}))).toBeNull();
    expect(shortcutView(press({ ctrlKey: true, shiftKey: true }))).toBeNull();
    expect(shortcutView(press({ ctrlKey: true, altKey: true }))).toBeNull();
  });
  it('starts or pauses on a plain Space that is not held', () => {
    expect(isStartPauseKey(press({ key: ' ' }))).toBe(true);
    expect(isStartPauseKey(press({ key: ' ', repeat: true }))).toBe(false);
    expect(isStartPauseKey(press({ key: ' ', ctrlKey: true }))).toBe(false);
    expect(isStartPauseKey(press({ key: ' ', metaKey: true }))).toBe(false);
    expect(isStartPauseKey(press({ key: ' ', altKey: true }))).toBe(false);
    expect(isStartPauseKey(press({ key: 'Enter' }))).toBe(false);
  });
});

describe('startOrPause', () => {
  function deps(phase: RunPhase, config: RunControlDeps['trainForm']['config'] = null, keep = false) {
    const error = { code: 'busy' as const, message: 'no' };
    return {
      training: {
        phase,
        pause: vi.fn(async () => error),
        resume: vi.fn(async () => null),
        start: vi.fn(async () => ({ ok: true as const, value: { runId: 'r1' } })),
      },
      trainForm: { config },
      app: { fail: vi.fn(), notify: vi.fn() },
      nav: { go: vi.fn() },
      t: (id: MessageKey) => lab.t(id),
      confirmDiscard: vi.fn(async () => !keep),
    };
  }
  it('does not start when the user keeps the unsaved model', async () => {
    const d = deps('idle', { variant: 'lenet5' } as never, true);
    await startOrPause(d);
    expect(d.confirmDiscard).toHaveBeenCalledWith('start');
    expect(d.training.start).not.toHaveBeenCalled();
  });
  it('pauses a running run and says so when that fails', async () => {
    const d = deps('running');
    await startOrPause(d);
    expect(d.training.pause).toHaveBeenCalledOnce();
    expect(d.app.fail).toHaveBeenCalledWith('Could not pause', { code: 'busy', message: 'no' });
  });
  it('resumes a paused run', async () => {
    const d = deps('paused');
    await startOrPause(d);
    expect(d.training.resume).toHaveBeenCalledOnce();
    expect(d.app.fail).not.toHaveBeenCalled();
  });
  it('starts with a valid form, and sends an invalid one to the Train view', async () => {
    const config = { variant: 'lenet5' } as never;
    const valid = deps('idle', config);
    await startOrPause(valid);
    expect(valid.training.start).toHaveBeenCalledWith(config);
    const invalid = deps('idle');
    await startOrPause(invalid);
    expect(invalid.training.start).not.toHaveBeenCalled();
    expect(invalid.nav.go).toHaveBeenCalledWith('train');
    expect(invalid.app.notify).toHaveBeenCalledWith('error', 'Check the training recipe', expect.any(String));
  });
  it('does nothing while loading or stopping', async () => {
    for (const phase of ['loading', 'stopping'] as const) {
      const d = deps(phase);
      await startOrPause(d);
      expect([d.training.pause, d.training.resume, d.training.start].every((f) => f.mock.calls.length === 0)).toBe(true);
    }
  });
});

describe('model names', () => {
  const key = (name: string) => modelNameProblem(name)?.key ?? null;
  it('accepts names in any script: 第一课模型, accents, digits of other scripts, spaces, dots, dashes, underscores, brackets', () => {
    for (const name of ['第一课模型', '我的模型 (2)', 'lenet5 (2).v1-b', 'Ünïcödé_1', 'модель [3]', '٣ نموذج', 'cafe\u0301', '  padded  ']) {
      expect(modelNameProblem(name), name).toBeNull();
    }
  });
  it('refuses each case at its boundary: 80 characters pass, 81 do not; 200 UTF-8 bytes pass, 201 do not', () => {
    expect(key('模'.repeat(66))).toBeNull(); // 198 bytes
    expect(key('模'.repeat(66) + 'ab')).toBeNull(); // 200 bytes
    expect(modelNameProblem('模'.repeat(66) + 'abc')).toMatchObject({ key: 'save.problem.bytes', values: { max: 200 } });
    expect(key('a'.repeat(80))).toBeNull();
    expect(modelNameProblem('a'.repeat(81))).toMatchObject({ key: 'save.problem.long', values: { max: 80, count: 81 } });
    expect(key('😀'.repeat(40))).toBe('save.problem.characters'); // 80 code points, 160 bytes: refused for the emoji, not the length
  });
  it('refuses empty names, paths, .., control characters, symbols, hidden and trailing dots and Windows device names', () => {
    const cases: [string, string][] = [
      ['   ', 'save.problem.empty'], ['a/b', 'save.problem.path'], ['a\\b', 'save.problem.path'], ['a..b', 'save.problem.dotdot'],
      ['a\u0000b', 'save.problem.control'], ['a\tb', 'save.problem.control'], ['a:b', 'save.problem.characters'], ['a*b', 'save.problem.characters'],
      ['.hidden', 'save.problem.leadingDot'], ['name.', 'save.problem.trailing'], ['CON', 'save.problem.reserved'], ['nul.txt', 'save.problem.reserved'],
      ['com1', 'save.problem.reserved'], ['LPT9 .tar', 'save.problem.reserved'], ['COM¹', 'save.problem.reserved'],
    ];
    for (const [name, expected] of cases) expect(key(name), JSON.stringify(name)).toBe(expected);
    // Each defence alone: the names next to the refused ones pass.
    for (const name of ['a.b', 'CONSOLE', 'com0', 'LPT', 'nul_x', 'a. b', 'x.hidden']) expect(key(name), name).toBeNull();
    expect(modelNameProblem('a:b')).toMatchObject({ key: 'save.problem.characters', values: { char: ':' } });
    expect(modelNameProblem('prn')).toEqual({ key: 'save.problem.reserved', values: { name: 'prn' } });
  });
  it('suggests the saved name, else the variant and the UTC time', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4));
    expect(suggestedModelName({ name: 'mine', builtin: false }, 'lenet5', now)).toBe('mine');
    expect(suggestedModelName({ name: 'lenet5', builtin: true }, 'lenet5', now)).toBe('lenet5 2026-01-02 03.04');
    expect(suggestedModelName({ name: '', builtin: false }, 'modern', now)).toBe('modern 2026-01-02 03.04');
    expect(suggestedModelName(null, 'seed', now)).toBe('seed 2026-01-02 03.04');
  });
  it('lists pretrained models first, then the newest saved', () => {
    const m = (name: string, builtin: boolean, savedAt: string) => ({ name, builtin, savedAt }) as ModelSummary;
    const sorted = sortModels([m('old', false, '2026-01-01'), m('pre', true, ''), m('new', false, '2026-02-01')]);
    expect(sorted.map((s) => s.name)).toEqual(['pre', 'new', 'old']);
  });
});

describe('progress sentences', () => {
  const p = { epoch: 2, epochs: 5, fraction: 0.25, etaSeconds: 754 };
  it('says loading, paused or the epoch with percent and ETA', () => {
    expect(trainingProgressText('loading', p, lab)).toBe('Loading the dataset…');
    expect(trainingProgressText('paused', p, lab)).toBe('Paused at epoch 2/5');
    expect(trainingProgressText('running', p, lab)).toBe('Epoch 2/5 · 25% · ETA 12:34');
  });
  it('says where the accuracy comes from', () => {
    expect(accuracySource(null, 10_000, lab)).toMatch(/when last measured/);
    expect(accuracySource({ count: 10_000 }, 10_000, lab)).toBe('Accuracy on all 10,000 test images, from the evaluation');
    expect(accuracySource({ count: 2000 }, 10_000, lab)).toBe('Accuracy on the first 2,000 test images, from the evaluation');
  });
});
