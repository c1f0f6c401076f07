// main's saveFile: the native dialog in the page's language, the extension kept, an atomic write, and a
// failed write reported as { ok: false } with nothing else changed. Electron is replaced by fakes.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLabIntl } from '../../common/i18n/index.js';
import { writeFileAtomic } from '../../engine/io/atomic-file.js';
import { createFileSaver, saveDialogOptions, type SaveDialogOptions } from '../../main/save-file.js';
import { quitChoice, quitPrompt } from '../../main/training-monitor.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-save-'));
  dirs.push(dir);
  return dir;
};

function saver(answer: (options: SaveDialogOptions) => { canceled: boolean; filePath?: string }, locale: 'en' | 'zh-CN' = 'en', write = writeFileAtomic) {
  const asked: SaveDialogOptions[] = [];
  const save = createFileSaver({
    showSaveDialog: async (options) => (asked.push(options), answer(options)),
    writeFile: write,
    folderFor: (kind) => (kind === 'png' ? '/home/ana/Pictures' : '/home/ana/Documents'),
    lab: () => createLabIntl(locale),
  });
  return { save, asked };
}

describe('saveFile in Electron main', () => {
  it('asks with a translated title in the kind folder, then writes the bytes under the chosen name', async () => {
    const dir = tempDir();
    const { save, asked } = saver(() => ({ canceled: false, filePath: path.join(dir, 'chart.png') }), 'zh-CN');
    const result = await save({ kind: 'png', suggestedName: 'loss chart.png', base64: Buffer.from([137, 80, 78, 71]).toString('base64') });
    expect(result).toEqual({ ok: true, value: { saved: true, fileName: 'chart.png' } });
    expect([...readFileSync(path.join(dir, 'chart.png'))]).toEqual([137, 80, 78, 71]);
    expect(asked[0]).toEqual({
      title: '将图片保存为 PNG', buttonLabel: '保存', defaultPath: path.join('/home/ana/Pictures', 'loss chart.png'),
      filters: [{ name: 'PNG 图片', extensions: ['png'] }],
    });
    expect(readdirSync(dir)).toEqual(['chart.png']); // no temp file left behind
  });

  it('adds the extension when the dialog hands back a bare name, and keeps one that differs only in case', async () => {
    const dir = tempDir();
    const bare = saver(() => ({ canceled: false, filePath: path.join(dir, 'run') }));
    expect(await bare.save({ kind: 'lenetlab', suggestedName: 'm.lenetlab', base64: 'QUJD' })).toMatchObject({ value: { fileName: 'run.lenetlab' } });
    expect(readFileSync(path.join(dir, 'run.lenetlab'), 'utf8')).toBe('ABC');
    const upper = saver(() => ({ canceled: false, filePath: path.join(dir, 'T.CSV') }));
    expect(await upper.save({ kind: 'csv', suggestedName: 't.csv', base64: 'YSxi' })).toMatchObject({ value: { fileName: 'T.CSV' } });
    expect(bare.asked[0]!.title).toBe('Export the model as one file');
    expect(upper.asked[0]!.filters).toEqual([{ name: 'CSV table', extensions: ['csv'] }]);
  });

  it('answers saved: false when the user cancels, and writes nothing', async () => {
    const dir = tempDir();
    const { save } = saver(() => ({ canceled: true, filePath: path.join(dir, 'x.png') }));
    expect(await save({ kind: 'png', suggestedName: 'x.png', base64: 'AAAA' })).toEqual({ ok: true, value: { saved: false, fileName: null } });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a failed write as bad-file with the path, and leaves an existing file as it was', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'keep.csv');
    await writeFileAtomic(target, 'old');
    const { save } = saver(() => ({ canceled: false, filePath: target }), 'en', async () => {
      throw new Error('EACCES: permission denied');
    });
    const result = await save({ kind: 'csv', suggestedName: 'keep.csv', base64: 'bmV3' });
    expect(result).toMatchObject({ ok: false, error: { code: 'bad-file', params: { reason: 'write-failed', path: target, detail: 'EACCES: permission denied' } } });
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('never lets a suggested name pick the folder', () => {
    expect(saveDialogOptions({ kind: 'csv', suggestedName: 'a.csv' }, '/docs', createLabIntl('en')).defaultPath).toBe(path.join('/docs', 'a.csv'));
    expect(saveDialogOptions({ kind: 'csv', suggestedName: '../../etc/a.csv' }, '/docs', createLabIntl('en')).defaultPath).toBe(path.join('/docs', 'a.csv'));
  });
});

describe("main's quit prompt", () => {
  it('speaks the page language, with Save / Quit / Cancel in that order', () => {
    const zh = quitPrompt(createLabIntl('zh-CN'));
    expect(zh.message).toBe('不保存训练好的模型就退出吗？');
    expect(zh.buttons).toEqual(['保存', '退出', '取消']);
    expect(zh.buttons.map((_, i) => quitChoice(i))).toEqual(['save', 'quit', 'cancel']);
    expect(quitChoice(zh.cancelId)).toBe('cancel');
    expect(quitPrompt(createLabIntl('en')).buttons).toEqual(['Save', 'Quit', 'Cancel']);
  });
});

describe('the unsaved-model tracker and the recovery slot', () => {
  it('a restored run is unsaved again: quitting asks, and the default name carries its variant', async () => {
    const { UnsavedModelTracker } = await import('../../main/training-monitor.js');
    const tracker = new UnsavedModelTracker();
    tracker.onInvokeResult('restoreRecovery', { ok: false, error: { code: 'not-found', params: {}, message: 'no slot' } });
    expect(tracker.hasUnsavedModel).toBe(false);
    tracker.onInvokeResult('restoreRecovery', { ok: true, value: { variant: 'seed', unsaved: true } });
    expect([tracker.hasUnsavedModel, tracker.unsavedVariant]).toEqual([true, 'seed']);
    tracker.onInvokeResult('importModel', { ok: true, value: { variant: 'modern' } }); // imports do not open
    expect(tracker.hasUnsavedModel).toBe(true);
    tracker.onInvokeResult('saveModel', { ok: true, value: {} });
    expect(tracker.hasUnsavedModel).toBe(false);
  });
});

describe('saveFile in a host without a save dialog (browser mode)', () => {
  it('is refused as unsupported: the page downloads the file itself', async () => {
    const { createHostHandler } = await import('../../hosts/host-handler.js');
    const handler = createHostHandler({ invoke: async () => ({ ok: true, value: null }) } as never);
    expect(await handler('saveFile', { kind: 'png', suggestedName: 'a.png', base64: 'AAAA' })).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await handler('saveFile', { kind: 'png', suggestedName: 'a.png', base64: 'AAA' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
});
