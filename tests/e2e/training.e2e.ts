// A short classroom run in the real app: modern variant, 6,000 MNIST images,
// one epoch. The progress bar advances, the charts fill, the kernels change,
// and the trained model is saved and opened again from the list. Screenshots
// of Train, Network, Filters and Feature maps come from this run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS_DIR, allCanvasPixels, dismissToasts, canvasPixels, goTo, saveScreenshot, startLab, textOf, type Lab } from './harness.js';

const TRAIN_IMAGES = 6000;
const BATCH_SIZE = 64; // the modern recipe's
const BATCHES = Math.ceil(TRAIN_IMAGES / BATCH_SIZE);
const SAVED_NAME = 'e2e modern run';
const RUN_TIMEOUT = 300_000;

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

/** Fills the recipe for a run of `images` images, one epoch. */
async function setUpRun(page: Page, images: number, seed: number): Promise<void> {
  await goTo(page, 'train');
  await page.getByTestId('variant-select').selectOption('modern');
  await expect.poll(() => page.getByTestId('recipe-batch').inputValue()).toBe(String(BATCH_SIZE));
  await page.getByTestId('recipe-epochs').fill('1');
  await page.getByTestId('limit-input').fill(String(images));
  await page.getByTestId('test-limit-input').fill('1000');
  await page.getByTestId('seed-input').fill(String(seed));
}

async function waitForDone(page: Page): Promise<void> {
  const done = page.getByTestId('train-done');
  const failed = page.getByTestId('train-error');
  await expect.poll(async () => ((await failed.count()) > 0 ? `failed: ${await textOf(page, 'train-error')}` : (await done.count()) > 0 ? 'done' : 'running'),
    { timeout: RUN_TIMEOUT, interval: 500 }).toBe('done');
}

const c1Kernels = (page: Page) => allCanvasPixels(page.locator('#filters-C1'));

describe('training in the browser', () => {
  const chartIds = ['chart-loss', 'chart-accuracy', 'chart-gradients'] as const;
  let trainedKernels: string[] = [];

  it('runs a short training: progress advances, charts fill, kernels change', async () => {
    const { page } = lab;
    await setUpRun(page, TRAIN_IMAGES, 7);
    const chartsBefore = await Promise.all(chartIds.map((id) => canvasPixels(page.getByTestId(id).locator('canvas'))));

    // Record every value the progress bar takes, however quickly the run goes.
    const progress = page.getByTestId('train-progress');
    await progress.evaluate((bar) => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(bar.getAttribute('aria-valuenow') ?? '')).observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
    });

    await page.getByTestId('train-start').click();
    await expect.poll(() => page.getByTestId('train-stop').isEnabled()).toBe(true);
    await waitForDone(page);

    const seen = (await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen))
      .filter((v) => v !== '').map(Number);
    const between = [...new Set(seen.filter((v) => v > 0 && v < 100))];
    expect(between.length, `progress values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(seen, 'progress never goes back').toEqual([...seen].sort((a, b) => a - b));
    expect(await progress.getAttribute('aria-valuenow')).toBe('100');
    expect(await textOf(page, 'train-done')).toContain('Training finished');
    const status = await textOf(page, 'train-status');
    expect(status).toContain('epoch 1/1');
    expect(status).toContain(`batch ${BATCHES}/${BATCHES}`);
    expect(status).toMatch(/\d[\d,]* img\/s/);
    // The lab trains on two data-parallel engines on a two-core machine, and says so.
    expect(status).toMatch(/· wasm on 2 cores$/);
    expect(await page.getByTestId('epoch-table').locator('tbody tr').count()).toBe(1);

    // Far above chance (10%) after one short epoch: it learned.
    const accuracy = Number((await textOf(page, 'train-test-accuracy')).replace('%', ''));
    expect(accuracy).toBeGreaterThan(50);

    // The charts drew their lines: more ink than the empty axes had.
    for (const [i, id] of chartIds.entries()) {
      const after = await canvasPixels(page.getByTestId(id).locator('canvas'));
      expect(after.hash, `${id} did not change`).not.toBe(chartsBefore[i]!.hash);
      expect(after.inked, `${id} has no more ink than before`).toBeGreaterThan(chartsBefore[i]!.inked);
    }
    await saveScreenshot(page, 'train');

    // Kernels: the first snapshot of the run against the trained (live) weights.
    await goTo(page, 'filters');
    await page.locator('#filters-C1 canvas').first().waitFor();
    const slider = page.getByTestId('snapshot-slider');
    await expect.poll(() => slider.getAttribute('max').then(Number)).toBeGreaterThanOrEqual(2);
    await slider.fill('0');
    await expect.poll(() => textOf(page, 'snapshot-label')).toBe('epoch 1 · batch 1 · step 1');
    const firstSnapshot = await c1Kernels(page);
    await slider.fill(await slider.getAttribute('max') ?? '0');
    await expect.poll(() => textOf(page, 'snapshot-label')).toBe('live');
    await expect.poll(() => c1Kernels(page)).not.toEqual(firstSnapshot);
    trainedKernels = await c1Kernels(page);
    expect(trainedKernels.length).toBeGreaterThan(0);
    const unchanged = trainedKernels.filter((print, i) => print === firstSnapshot[i]);
    expect(unchanged, 'every C1 kernel canvas should have changed').toEqual([]);
    await saveScreenshot(page, 'filters');

    await goTo(page, 'network');
    await page.getByTestId('network-diagram').waitFor();
    await saveScreenshot(page, 'network');

    await goTo(page, 'features');
    await page.getByTestId('features-output').waitFor();
    await expect.poll(async () => (await allCanvasPixels(page.locator('.view'))).length).toBeGreaterThan(3);
    await saveScreenshot(page, 'features');

    expect(lab.pageErrors).toEqual([]);
  });

  it('saves the trained model and opens it again from the list', async () => {
    const { page } = lab;
    expect(trainedKernels.length, 'needs the trained model of the previous test').toBeGreaterThan(0);
    await expect(page.getByTestId('model-unsaved').count()).resolves.toBe(1);

    await page.getByTestId('model-save').click();
    await page.getByTestId('model-name').fill(SAVED_NAME);
    await page.getByTestId('model-save-confirm').click();
    await expect.poll(() => textOf(page, 'model-info')).toContain(SAVED_NAME);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(0);
    expect(existsSync(path.join(lab.modelsDir, SAVED_NAME, 'model.json')), `no model.json under ${lab.modelsDir}`).toBe(true);

    // Move the model away from the saved one with a second, tiny run.
    await setUpRun(page, 640, 99);
    await page.getByTestId('train-start').click();
    await waitForDone(page);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(1);
    await goTo(page, 'filters');
    await expect.poll(() => c1Kernels(page)).not.toEqual(trainedKernels);

    // Open the saved one from the list: its kernels are back, to the pixel.
    await page.getByTestId('model-open').click();
    const openButton = page.getByTestId(`model-open-${SAVED_NAME}`);
    await openButton.waitFor();
    await openButton.click();
    // The tiny run's model is unsaved: the lab asks first, and Discard goes on.
    await page.getByTestId('confirm-discard-model').click();
    await expect.poll(() => textOf(page, 'model-info')).toContain(SAVED_NAME);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(0);
    await expect.poll(() => c1Kernels(page), { timeout: 15_000 }).toEqual(trainedKernels);

    expect(lab.pageErrors).toEqual([]);
  });
  it('the shipped lenet5: the C3 table in the diagram, a 16×6 kernel grid with its 36 removed links empty, feature maps', async () => {
    const { page } = lab;
    await page.getByTestId('model-open').click();
    await page.getByTestId('model-open-lenet5').click();
    await expect.poll(() => textOf(page, 'model-info')).toContain('lenet5');

    await goTo(page, 'network');
    await page.getByTestId('network-diagram').waitFor();
    expect(await textOf(page, 'network-totals')).toMatch(/60,000/);
    await saveScreenshot(page, 'network-lenet5');

    await goTo(page, 'filters');
    await page.locator('#filters-C3 canvas').first().waitFor();
    await expect.poll(() => page.locator('[data-testid^="kernel-C3-"][data-testid$="-removed"]').count()).toBe(36);
    await expect.poll(() => page.locator('[data-testid^="kernel-C3-"]:not([data-testid$="-removed"])').count()).toBe(60);
    await saveScreenshot(page, 'filters-lenet5');

    await goTo(page, 'features');
    await page.getByTestId('features-output').waitFor();
    await expect.poll(async () => (await allCanvasPixels(page.locator('.view'))).length).toBeGreaterThan(3);
    await saveScreenshot(page, 'features-lenet5');
    expect(lab.pageErrors).toEqual([]);
  });

  it('the seed recipe stalls near chance, and the gradient chart shows the vanishing gradient', async () => {
    const { page } = lab;
    await goTo(page, 'train');
    await page.getByTestId('variant-select').selectOption('seed');
    await expect.poll(() => page.getByTestId('recipe-lr').inputValue()).toBe('0.01');
    await page.getByTestId('recipe-epochs').fill('1');
    await page.getByTestId('limit-input').fill('6000');
    await page.getByTestId('test-limit-input').fill('1000');
    await page.getByTestId('seed-input').fill('1');
    await page.getByTestId('train-start').click();
    await waitForDone(page);
    const accuracy = Number((await textOf(page, 'train-test-accuracy')).replace('%', ''));
    expect(accuracy).toBeLessThan(20);
    await page.mouse.move(0, 799);
    await dismissToasts(page);
    await page.getByTestId('chart-gradients').evaluate((chart) => chart.scrollIntoView({ block: 'end' }));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'train-seed.png'), animations: 'disabled' });
    expect(lab.pageErrors).toEqual([]);
  });
});
