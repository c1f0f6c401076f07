// The 1998 comparison's earlier rows, shipped as models: each opens, and the Network, Kernels and
// Feature maps views draw it from its layer specs (its own layers, counts and connection table).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCanvasPixels, goTo, saveScreenshot, startLab, textOf, type Lab } from './harness.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

async function open(page: Page, name: string): Promise<void> {
  await page.getByTestId('model-open').click();
  await page.getByTestId(`model-open-${name}`).click();
  await expect.poll(() => textOf(page, 'model-info')).toContain(name);
}

async function showsFeatureMaps(page: Page, name: string, canvases: number): Promise<void> {
  await goTo(page, 'features');
  await page.getByTestId('features-output').waitFor();
  await expect.poll(async () => (await allCanvasPixels(page.locator('.view'))).length).toBeGreaterThanOrEqual(canvases);
  await saveScreenshot(page, `features-${name}`);
}

describe('the 1998 comparison\'s rows', () => {
  it('linear: one layer on the 28×28 pixels, no kernels, 10 outputs', async () => {
    const { page } = lab;
    await open(page, 'linear');
    await goTo(page, 'network');
    await page.getByTestId('network-diagram').waitFor();
    expect(await textOf(page, 'network-totals')).toMatch(/7,850 trainable parameters/);
    expect(await page.locator('[data-testid^="network-layer-"]').count()).toBe(2);
    await saveScreenshot(page, 'network-linear');
    await goTo(page, 'filters');
    await expect.poll(() => page.getByText('This model has no convolution kernels to show.').count()).toBe(1);
    await showsFeatureMaps(page, 'linear', 1);
    expect(lab.pageErrors).toEqual([]);
  });

  it('lenet1: its 4×12 C3 table in the diagram, 24 kernels drawn and 24 left out, maps on the 28×28 input', async () => {
    const { page } = lab;
    await open(page, 'lenet1');
    await goTo(page, 'network');
    await page.getByTestId('network-diagram').waitFor();
    expect(await textOf(page, 'network-totals')).toMatch(/2,678 trainable parameters/);
    expect(await page.locator('.connection-table td.on').count()).toBe(24);
    await saveScreenshot(page, 'network-lenet1');
    await goTo(page, 'filters');
    await page.locator('#filters-C3 canvas').first().waitFor();
    await expect.poll(() => page.locator('[data-testid^="kernel-C3-"][data-testid$="-removed"]').count()).toBe(24);
    await expect.poll(() => page.locator('[data-testid^="kernel-C3-"]:not([data-testid$="-removed"])').count()).toBe(24);
    await saveScreenshot(page, 'filters-lenet1');
    await showsFeatureMaps(page, 'lenet1', 1 + 4 + 4 + 12 + 12);
    expect(lab.pageErrors).toEqual([]);
  });

  it('lenet4: 51,090 parameters, a fully connected C3 and C5 as link strengths', async () => {
    const { page } = lab;
    await open(page, 'lenet4');
    await goTo(page, 'network');
    await page.getByTestId('network-diagram').waitFor();
    expect(await textOf(page, 'network-totals')).toMatch(/51,090 trainable parameters/);
    await saveScreenshot(page, 'network-lenet4');
    await goTo(page, 'filters');
    await page.locator('#filters-C5 canvas').first().waitFor();
    await expect.poll(() => page.locator('[data-testid^="kernel-C3-"]:not([data-testid$="-removed"])').count()).toBe(64);
    await showsFeatureMaps(page, 'lenet4', 1 + 4 + 4 + 16 + 16);
    expect(lab.pageErrors).toEqual([]);
  });
});
