// The Convolutions view in the real app (browser mode, the shipped model): each kind opens, a setting changes,
// the window steps, and the numbers shown agree with a plain loop over the MNIST digit this test reads itself.
// Then the "What CNNs solve" panels, and a 500-image run for the overfitting panel. Screenshots at 1366×768.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
import { SCREENSHOTS_DIR, dismissToasts, goTo, startLab, textOf, type Lab } from './harness.js';

const PROJECTOR = { width: 1366, height: 768 };
const DIGIT = 0;
let lab: Lab;
let digit: Float32Array;

beforeAll(async () => {
  lab = await startLab();
  await lab.page.setViewportSize(PROJECTOR);
  const test = loadDataset({ kind: 'mnist' }).test;
  digit = Float32Array.from(test.images.subarray(DIGIT * 784, (DIGIT + 1) * 784), (v) => v / 255);
});
afterAll(async () => {
  await lab?.close();
});

const numbers = (page: Page, selector: string): Promise<number[]> =>
  page.locator(selector).evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value'))));

async function position(page: Page): Promise<{ row: number; col: number }> {
  const pos = page.getByTestId('conv-window-pos');
  return { row: Number(await pos.getAttribute('data-row')), col: Number(await pos.getAttribute('data-col')) };
}

/** Y[i, j] = Σₘ Σₙ W[m, n]·X[i·S − P + D·m, j·S − P + D·n], zero outside the digit: a plain loop, no library. */
function referenceWindow(w: number[], k: number, i: number, j: number, stride: number, pad: number, dilation: number): number {
  let sum = 0;
  for (let m = 0; m < k; m++) {
    for (let n = 0; n < k; n++) {
      const r = i * stride - pad + dilation * m;
      const c = j * stride - pad + dilation * n;
      if (r >= 0 && c >= 0 && r < 28 && c < 28) sum += w[m * k + n]! * digit[r * 28 + c]!;
    }
  }
  return sum;
}

async function openKind(page: Page, kind: string): Promise<void> {
  await page.getByTestId(`conv-tab-${kind}`).click();
  await page.getByTestId(`conv-page-${kind}`).waitFor();
  await page.getByTestId('conv-window').waitFor({ timeout: 30_000 });
}

async function setField(page: Page, field: string, value: string): Promise<void> {
  await page.getByTestId(`conv-${field}`).fill(value);
}

/** The projector's view of the page from `testId` down. */
async function shoot(page: Page, name: string, testId: string): Promise<void> {
  await dismissToasts(page);
  await page.mouse.move(0, PROJECTOR.height - 1);
  await page.getByTestId(testId).evaluate((element) => element.scrollIntoView({ block: 'start' }));
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), animations: 'disabled' });
}

describe('Convolutions view', () => {
  it('is reached with Ctrl+7 and shows test digit 0', async () => {
    const { page } = lab;
    await expect.poll(() => textOf(page, 'model-info'), { timeout: 30_000 }).toMatch(/\S/);
    await page.keyboard.press('Control+7');
    await page.getByTestId('conv-page-standard').waitFor();
    await expect.poll(() => textOf(page, 'conv-input-caption')).toBe('Test digit #0, a 7');
  });

  it('standard: stride 2, padding 1, a 3×3 Sobel kernel; each step matches a plain loop', async () => {
    const { page } = lab;
    await openKind(page, 'standard');
    await setField(page, 'kernelSize', '3');
    await setField(page, 'stride', '2');
    await setField(page, 'padding', '1');
    await expect.poll(() => textOf(page, 'conv-size-shape')).toBe('14 × 14 × 6');
    const w = await numbers(page, '[data-testid="conv-kernel-cell"]');
    expect(w).toEqual([-1, 0, 1, -2, 0, 2, -1, 0, 1]);
    for (let s = 0; s < 3; s++) {
      const { row, col } = await position(page);
      const shown = Number(await page.getByTestId('conv-window-value').getAttribute('data-value'));
      expect(shown).toBeCloseTo(referenceWindow(w, 3, row, col, 2, 1, 1), 5);
      await expect.poll(() => textOf(page, 'conv-window-check')).toContain('✓');
      await page.getByTestId('conv-step').click();
    }
    // Keys move the window: a row down with ArrowDown.
    const before = await position(page);
    await page.locator('.player').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => position(page)).toEqual({ row: before.row + 1, col: before.col });
    // An edited cell changes the numbers the same way.
    await page.getByTestId('conv-kernel-cell').nth(4).fill('0.5');
    await page.getByTestId('conv-kernel-cell').nth(4).press('Tab');
    const edited = await numbers(page, '[data-testid="conv-kernel-cell"]');
    expect(edited[4]).toBe(0.5);
    const { row, col } = await position(page);
    await expect.poll(async () => Number(await page.getByTestId('conv-window-value').getAttribute('data-value')))
      .toBeCloseTo(referenceWindow(edited, 3, row, col, 2, 1, 1), 5);
    // Out of limits: a clear message, no output.
    await setField(page, 'stride', '9');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Stride S must be a whole number from 1 to 8');
    await setField(page, 'stride', '1');
    await setField(page, 'kernelSize', '5');
    await setField(page, 'padding', 'valid');
    await expect.poll(() => textOf(page, 'conv-size-shape')).toBe('24 × 24 × 6');
    await shoot(page, 'conv-standard', 'conv-size');
  });

  it('dilated: dilation 3 spreads the taps, X[i·S + D·m, j·S + D·n]', async () => {
    const { page } = lab;
    await openKind(page, 'dilated');
    await setField(page, 'dilation', '3');
    await expect.poll(() => textOf(page, 'conv-size-shape')).toBe('16 × 16 × 6');
    const w = await numbers(page, '[data-testid="conv-kernel-cell"]');
    for (let s = 0; s < 2; s++) {
      const { row, col } = await position(page);
      const shown = Number(await page.getByTestId('conv-window-value').getAttribute('data-value'));
      expect(shown).toBeCloseTo(referenceWindow(w, 5, row, col, 1, 0, 3), 5);
      await page.getByTestId('conv-step').click();
    }
    await expect.poll(() => textOf(page, 'conv-window-formula')).toMatch(/3·m/);
    await shoot(page, 'conv-dilated', 'conv-size');
  });

  it('transposed: each input pixel scatters X[a, b]·W into the output', async () => {
    const { page } = lab;
    await openKind(page, 'transposed');
    await setField(page, 'kernelSize', '3');
    // (28 − 1)·2 − 2·0 + 1·(3 − 1) + 1 = 57
    await expect.poll(() => textOf(page, 'conv-size-shape')).toBe('57 × 57 × 6');
    await page.getByTestId('conv-upsampled').waitFor();
    for (let s = 0; s < 2; s++) {
      const { row, col } = await position(page);
      const w = await numbers(page, '[data-testid="conv-window-w"] [data-value]');
      const copy = await numbers(page, '[data-testid="conv-window-copy"] [data-value]');
      const x = digit[row * 28 + col]!;
      expect(copy.map((v) => v.toFixed(5))).toEqual(w.map((v) => (v * x).toFixed(5)));
      await page.getByTestId('conv-step').click();
    }
    await shoot(page, 'conv-transposed', 'conv-size');
  });

  it('depthwise separable: per-channel 3×3 on the six S2 maps, then a 1×1 across them', async () => {
    const { page } = lab;
    await openKind(page, 'depthwise-separable');
    await setField(page, 'kernelSize', '3');
    await expect.poll(() => textOf(page, 'conv-size-shape')).toBe('12 × 12 × 16');
    await page.getByTestId('conv-step').click();
    // Stage 1: Σ X·W of the shown window is the Z of that channel in the stage-2 table.
    const xs = await numbers(page, '[data-testid="conv-window-x"] [data-value]');
    const ws = await numbers(page, '[data-testid="conv-window-w"] [data-value]');
    const z = xs.reduce((a, x, i) => a + x * ws[i]!, 0);
    const rows = await page.getByTestId('conv-pointwise').locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => Number(td.textContent!.replace('\u2212', '-')))));
    expect(rows).toHaveLength(6);
    expect(rows[0]![1]).toBeCloseTo(z, 2);
    // Stage 2: Σ_c Z[c]·P[c, f] (+ bias 0 for these presets) is the value shown.
    const value = Number(await page.getByTestId('conv-window-value').getAttribute('data-value'));
    expect(rows.reduce((a, r) => a + r[1]! * r[2]!, 0)).toBeCloseTo(value, 2);
    await expect.poll(() => textOf(page, 'conv-window-check')).toContain('✓');
    // C3 three ways, next to the paper's 1,516.
    await expect.poll(() => textOf(page, 'conv-c3')).toContain('1,516');
    await shoot(page, 'conv-depthwise-separable', 'conv-size');
  });
});

describe('What CNNs solve', () => {
  it('translation, sharing, rotation and scale on the open model', async () => {
    const { page } = lab;
    await page.getByTestId('conv-tab-cnn').click();
    await page.getByTestId('cnn-shift-chart').waitFor({ timeout: 30_000 });
    await expect.poll(() => textOf(page, 'cnn-shift-prediction')).toMatch(/^Predicted 7/);
    await expect.poll(() => textOf(page, 'cnn-sharing-conv')).toBe('156');
    // 32·32·6·28·28 + 6·28·28 = 4,821,600 weights and biases
    await expect.poll(() => textOf(page, 'cnn-sharing-dense')).toBe('4,821,600');
    await page.getByTestId('cnn-shift-slider').fill('4');
    await expect.poll(() => textOf(page, 'cnn-shift-value')).toBe('4 px');
    await shoot(page, 'cnn-translation', 'cnn-translation');
    await shoot(page, 'cnn-sharing', 'cnn-sharing');
    await page.getByTestId('cnn-rotate-chart').waitFor();
    await page.getByTestId('cnn-rotate-slider').fill('60');
    await expect.poll(() => textOf(page, 'cnn-rotate-breaks')).toMatch(/breaks|holds/);
    await shoot(page, 'cnn-rotation', 'cnn-rotation');
    await shoot(page, 'cnn-interpretability', 'cnn-interpretability');
  });

  it('overfitting: 500 training images part train and test accuracy', async () => {
    const { page } = lab;
    // A short recipe keeps the test quick on a shared machine; 500 images are still learnt by heart.
    await goTo(page, 'train');
    await page.getByTestId('variant-select').selectOption('modern');
    await page.getByTestId('recipe-epochs').fill('12');
    await page.getByTestId('test-limit-input').fill('500');
    await page.getByTestId('seed-input').fill('1');
    await goTo(page, 'convolutions');
    await page.getByTestId('conv-tab-cnn').click();
    await page.getByTestId('cnn-overfit-small').click();
    await page.getByTestId('cnn-overfit-chart').waitFor({ timeout: 120_000 });
    await expect.poll(async () => (await page.getByTestId('cnn-overfit-small').isEnabled()) && (await textOf(page, 'cnn-overfitting')).includes('500 images: train accuracy'),
      { timeout: 400_000, interval: 1000 }).toBe(true);
    await expect.poll(() => textOf(page, 'cnn-overfitting')).toMatch(/500 images: train accuracy is \d/);
    await shoot(page, 'cnn-overfitting', 'cnn-overfitting');
    expect(lab.pageErrors).toEqual([]);
  });
});
