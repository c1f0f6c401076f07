// Exports in browser mode, in Chinese: a PNG of each panel kind, the CSV tables, the model as one .lenetlab
// file and back (a hostile file refused, a name clash renamed), and the recovery offer after a reload that
// follows a stopped run. Files arrive through Playwright's download event, as a student's browser saves them.
import { readFile, writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { Download, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, dismissToasts, drawStroke, goTo, startLab, textOf, type Lab } from './harness.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ locale: 'zh-CN', bypassCSP: true });
});
afterAll(async () => {
  await lab?.close();
});

async function download(page: Page, button: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]) as [Download, unknown];
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

/** A saved panel picture: a real PNG with a background, a title line, and the panel's ink below it. */
async function expectPanelPng(page: Page, button: Locator, nameEnd: RegExp): Promise<void> {
  await button.scrollIntoViewIfNeeded();
  const { name, bytes } = await download(page, button);
  expect(name).toMatch(nameEnd);
  expect(name).toMatch(/ \d{4}-\d\d-\d\d \d\d-\d\d\.png$/);
  if (process.env.EXPORT_SHOT_DIR) await writeFile(`${process.env.EXPORT_SHOT_DIR}/${name}`, bytes);
  const png = PNG.sync.read(bytes);
  expect(png.width).toBeGreaterThanOrEqual(320 * 2 - 1);
  const at = (x: number, y: number): number[] => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)];
  const background = at(1, 1);
  expect(background[3]).toBe(255); // opaque: the theme's background, never transparent
  const inked = (y0: number, y1: number): number => {
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = 0; x < png.width; x += 2) if (at(x, y).some((v, i) => Math.abs(v - background[i]!) > 40)) n++;
    return n;
  };
  expect(inked(0, 2 * 40)).toBeGreaterThan(50); // the title and subtitle lines
  expect(inked(2 * 60, png.height)).toBeGreaterThan(200); // the panel itself
}

const NUMBER_OR_EMPTY = /^(-?\d+(\.\d+)?(e[-+]?\d+)?|NaN|)$/;

async function csvOf(page: Page, button: Locator): Promise<{ name: string; rows: string[][] }> {
  const { name, bytes } = await download(page, button);
  const text = bytes.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return { name, rows: text.trimEnd().split('\n').map((line) => line.split(',')) };
}

describe('exports in browser mode (zh-CN)', () => {
  it('saves pictures, tables and the model; imports it back; offers the stopped run after a reload', async () => {
    const { page } = lab;
    // A short run, stopped: the recovery slot keeps it.
    await goTo(page, 'train');
    await page.getByTestId('variant-select').selectOption('modern');
    // Long enough that Stop finds it running on a quiet machine too (3,000 images × 2 epochs ended in 2 s).
    await page.getByTestId('recipe-epochs').fill('20');
    await page.getByTestId('limit-input').fill('6000');
    await page.getByTestId('test-limit-input').fill('500');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-csv').waitFor({ state: 'visible', timeout: 120_000 });
    await page.waitForTimeout(2500);
    await page.getByTestId('train-stop').click();
    await expect.poll(() => page.getByTestId('train-done').count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(1);

    // Charts: one picture each.
    for (const chart of ['loss', 'accuracy', 'gradients']) await expectPanelPng(page, page.getByTestId(`png-chart-${chart}`), new RegExp(`${chart} `));
    // Per batch, with a gradient-norm column per layer; plain numbers, no locale commas.
    const batches = await csvOf(page, page.getByTestId('csv-batches'));
    expect(batches.name).toMatch(/-batches \d{4}-\d\d-\d\d \d\d-\d\d\.csv$/);
    expect(batches.rows[0]!.slice(0, 5)).toEqual(['step', 'epoch', 'batch', 'loss', 'accuracy']);
    expect(batches.rows[0]!.slice(5).length).toBeGreaterThan(0);
    expect(batches.rows[0]!.slice(5).every((h) => h.startsWith('gradientNorm '))).toBe(true);
    expect(batches.rows.length).toBeGreaterThan(1);
    for (const row of batches.rows.slice(1)) {
      expect(row.length).toBe(batches.rows[0]!.length);
      for (const cell of row) expect(cell).toMatch(NUMBER_OR_EMPTY);
    }
    const epochs = await csvOf(page, page.getByTestId('csv-epochs'));
    expect(epochs.rows[0]![0]).toBe('epoch');

    // The other panel kinds: network diagram (SVG), kernels and feature maps (canvases), the drawing.
    await goTo(page, 'network');
    await expectPanelPng(page, page.getByTestId('png-network'), /network diagram /);
    await goTo(page, 'filters');
    await expectPanelPng(page, page.locator('[data-testid^="png-kernels-"]').first(), /kernels /);
    await goTo(page, 'features');
    await expectPanelPng(page, page.locator('[data-testid^="png-features-"]').nth(1), /feature maps /);
    await goTo(page, 'draw');
    await drawStroke(page, page.getByTestId('draw-canvas'), [[0.3, 0.2], [0.7, 0.2], [0.45, 0.85]]);
    await expectPanelPng(page, page.getByTestId('png-draw'), /drawing /);

    // Evaluate: the confusion matrix (a table of cells) as a picture and as CSV, and the mistakes.
    await goTo(page, 'evaluate');
    await page.getByTestId('eval-limit').selectOption('500');
    await page.getByTestId('eval-run').click();
    await page.getByTestId('confusion-matrix').waitFor({ state: 'visible', timeout: 120_000 });
    await expectPanelPng(page, page.getByTestId('png-confusion'), /confusion matrix /);
    const confusion = await csvOf(page, page.getByTestId('csv-confusion'));
    expect(confusion.rows[0]).toEqual(['true \\ predicted', ...Array.from({ length: 10 }, (_, i) => String(i))]);
    expect(confusion.rows.length).toBe(11);
    const total = confusion.rows.slice(1).flatMap((row) => row.slice(1)).reduce((sum, cell) => sum + Number(cell), 0);
    expect(total).toBe(500);
    const mistakes = await csvOf(page, page.getByTestId('csv-mistakes'));
    expect(mistakes.rows[0]).toEqual(['index', 'label', 'predicted', 'confidence']);
    for (const row of mistakes.rows.slice(1)) for (const cell of row) expect(cell).toMatch(NUMBER_OR_EMPTY);
    await dismissToasts(page);

    // The model as one file, then back in.
    await page.getByTestId('model-open').click();
    const exported = await download(page, page.getByTestId('model-export'));
    expect(exported.name).toMatch(/\.lenetlab$/);
    expect(exported.bytes.subarray(0, 8).toString('latin1')).toBe('LENETLAB');
    const input = page.getByTestId('model-import-input');

    // A hostile file: refused with a translated message, nothing added.
    const before = await page.locator('[data-testid^="model-open-"]').count();
    await input.setInputFiles({ name: 'evil.lenetlab', mimeType: 'application/octet-stream', buffer: Buffer.from('LENETLAB\u0000\u0000\u0000\u0001{"x":"=HYPERLINK()"}') });
    await expect.poll(() => page.locator('.toast, [role="alert"]').allTextContents().then((t) => t.join(' '))).toContain('无法导入“evil.lenetlab”');
    expect(await page.locator('[data-testid^="model-open-"]').count()).toBe(before);
    await dismissToasts(page);

    // The real file: imported; the unsaved run asks first (import opens the model), Discard lets it go.
    await input.setInputFiles({ name: exported.name, mimeType: 'application/octet-stream', buffer: exported.bytes });
    const confirm = page.getByTestId('confirm-discard');
    await expect.poll(() => confirm.isVisible()).toBe(true);
    await page.getByTestId('confirm-discard-model').click();
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(0);
    const importedName = exported.name.replace(/\.lenetlab$/, '');
    const dialog = page.getByTestId('open-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(false); // opened: the dialog closed on it
    await page.getByTestId('model-open').click();
    await expect.poll(() => page.getByTestId(`model-open-${importedName}`).count()).toBe(1);
    // Again: the name is taken, so it comes in as "name (2)" and opens (nothing unsaved to ask about); nothing is overwritten.
    await input.setInputFiles({ name: exported.name, mimeType: 'application/octet-stream', buffer: exported.bytes });
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await page.getByTestId('model-open').click();
    await expect.poll(() => page.getByTestId(`model-open-${importedName} (2)`).count()).toBe(1);
    expect(await page.getByTestId(`model-open-${importedName}`).count()).toBe(1);
    await page.keyboard.press('Escape');

    // A reload is the next launch for the page: the stopped run is offered, in Chinese, accessibly.
    await page.reload();
    const offer = page.getByTestId('recovery-offer');
    await expect.poll(() => offer.isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByText('恢复上一次训练吗？').count()).toBeGreaterThan(0);
    expect(await textOf(page, 'recovery-body')).toContain('现代');
    expect(await axe(page, '[data-testid="recovery-offer"]')).toEqual([]);
    // Escape is "Later": the dialog goes, nothing changes; a reload asks again.
    await page.keyboard.press('Escape');
    await expect.poll(() => offer.isVisible()).toBe(false);
    await page.reload();
    await expect.poll(() => offer.isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('recovery-restore').click();
    await expect.poll(() => offer.isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(1);
    expect(lab.pageErrors).toEqual([]);
  }, 600_000);
});
