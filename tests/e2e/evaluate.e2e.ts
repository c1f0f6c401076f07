// Evaluate view with the shipped pretrained model (assets/models/modern): run
// the evaluation, read the confusion matrix, open a cell and see its digits.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS_DIR, axe, canvasPixels, goTo, saveScreenshot, startLab, textOf, type Lab } from './harness.js';

const PRETRAINED = path.join(ASSETS_DIR, 'models', 'modern');
let lab: Lab;

/** Fails (never skips) when the lead's pretrained model is not in assets/. */
function requirePretrained(): void {
  if (!existsSync(path.join(PRETRAINED, 'model.json'))) {
    throw new Error(`The pretrained model ${PRETRAINED} is missing: the evaluate test runs it over the test set. Train and save it first (lenet-lab train --variant modern --out assets/models/modern).`);
  }
}

beforeAll(async () => {
  lab = await startLab({ bypassCSP: true });
});
afterAll(async () => {
  await lab?.close();
});

describe('Evaluate view', () => {
  it('runs the evaluation, shows the confusion matrix and the images of a cell', async () => {
    requirePretrained();
    const { page } = lab;
    await expect.poll(() => textOf(page, 'model-info'), { timeout: 30_000 }).toMatch(/test \d/);
    await goTo(page, 'evaluate');
    await page.getByTestId('eval-run').click();
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 300_000 });

    // All 10,000 test images, and a trained model's accuracy.
    const accuracy = Number((await textOf(page, 'eval-accuracy')).replace('%', ''));
    expect(accuracy).toBeGreaterThan(95);
    const counts: number[][] = [];
    for (let r = 0; r < 10; r++) {
      const row: number[] = [];
      for (let c = 0; c < 10; c++) row.push(Number(await textOf(page, `confusion-cell-${r}-${c}`)));
      counts.push(row);
    }
    const total = counts.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(10_000);
    const correct = counts.reduce((sum, row, r) => sum + row[r]!, 0);
    expect(correct / total * 100).toBeCloseTo(accuracy, 1);

    // The biggest confusion: a cell off the diagonal with the most images.
    let worst = { r: 0, c: 1, n: -1 };
    counts.forEach((row, r) => row.forEach((n, c) => {
      if (r !== c && n > worst.n) worst = { r, c, n };
    }));
    expect(worst.n).toBeGreaterThan(0);
    await page.getByTestId(`confusion-cell-${worst.r}-${worst.c}`).click();
    const images = page.getByTestId('cell-images').getByTestId('cell-image');
    await expect.poll(() => images.count(), { timeout: 30_000 }).toBe(Math.min(worst.n, await cellImageLimit(lab, worst.n)));
    // Each thumbnail is a test image whose true digit is the cell's row, drawn with ink.
    const labels = await images.locator('canvas').evaluateAll((canvases) => canvases.map((c) => c.getAttribute('aria-label') ?? ''));
    expect(labels.every((label) => label.endsWith(`, a ${worst.r}`)), labels.join('; ')).toBe(true);
    expect((await canvasPixels(images.first().locator('canvas'))).inked).toBeGreaterThan(20);
    await saveScreenshot(page, 'evaluate');

    // A diagonal cell holds the correctly read digits.
    await page.getByTestId('confusion-cell-3-3').click();
    await expect.poll(() => images.count(), { timeout: 30_000 }).toBeGreaterThan(0);

    // With its results shown (matrix, mistakes, cell images), the view has nothing serious for axe, light or dark.
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const f of await axe(page)) found.push(`${scheme}: ${f.id} × ${f.nodes}: ${f.where}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(found).toEqual([]);

    expect(lab.pageErrors).toEqual([]);
  });

  it('a mistake opens its feature maps, which say which test image they show; Back returns and never leaves the app', async () => {
    const { page } = lab;
    const mistake = page.getByTestId('mistakes').locator('button.mistake').first();
    const title = (await mistake.getAttribute('title')) ?? '';
    const index = /#(\d+)/.exec(title)?.[1];
    expect(index, title).toBeDefined();
    await mistake.click();
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe('features');
    const note = page.getByTestId('features-source');
    await expect.poll(() => note.textContent()).toContain(`test image #${index}, opened from Evaluate`);
    // The view's heading has focus, as after any view change.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('features-title');

    // The note's button goes back to Evaluate, with its results still there.
    await note.getByRole('button', { name: 'Back to Evaluate' }).click();
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe('evaluate');
    expect(await page.getByTestId('confusion-matrix').count()).toBe(1);
    expect(await note.count()).toBe(0);

    // The browser's Back, pressed more often than there are views behind, stays in the app.
    // (A person's Back comes after the page handled the last one: wait until it has moved off a floor entry.)
    const onFloor = () => page.evaluate(() => (history.state as { floor?: boolean } | null)?.floor === true);
    for (let i = 0; i < 5; i++) {
      await page.goBack().catch(() => null);
      await expect.poll(onFloor).toBe(false);
    }
    expect(new URL(page.url()).origin).toBe(new URL(lab.server.url).origin);
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe('train');
    expect(lab.pageErrors).toEqual([]);
  });
});

/** How many thumbnails a cell shows at most (the view caps big cells and says so). */
async function cellImageLimit(lab: Lab, count: number): Promise<number> {
  const caption = await lab.page.locator('.cell-card .caption').first().textContent();
  const shown = /first (\d[\d,]*) shown/.exec(caption ?? '');
  return shown ? Number(shown[1]!.replace(/,/g, '')) : count;
}
