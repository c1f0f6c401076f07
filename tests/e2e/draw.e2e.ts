// Draw view with the shipped pretrained model (assets/models/modern): real
// mouse strokes on the pad, the right digit read from `prediction`, updated
// while the stroke is still being drawn; clear empties it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS_DIR, canvasPixels, drawStroke, ellipse, goTo, saveScreenshot, startLab, textOf, type Lab } from './harness.js';

const PRETRAINED = path.join(ASSETS_DIR, 'models', 'modern');
let lab: Lab;

/** Fails (never skips) when the lead's pretrained model is not in assets/. */
function requirePretrained(): void {
  if (!existsSync(path.join(PRETRAINED, 'model.json'))) {
    throw new Error(`The pretrained model ${PRETRAINED} is missing: the draw test reads digits with it. Train and save it first (lenet-lab train --variant modern --out assets/models/modern).`);
  }
}

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const predicted = (page: Page) => textOf(page, 'prediction');

async function clearPad(page: Page): Promise<void> {
  await page.getByTestId('draw-clear').click();
  await expect.poll(() => predicted(page)).toBe('');
  expect((await canvasPixels(page.getByTestId('draw-canvas'))).inked).toBe(0);
}

describe('Draw view', () => {
  it('reads a drawn 1, 0 and 7 with the pretrained model, and clears', async () => {
    requirePretrained();
    const { page } = lab;
    await expect.poll(() => textOf(page, 'model-info'), { timeout: 30_000 }).toMatch(/test \d/); // the pretrained model is loaded
    await goTo(page, 'draw');
    const pad = page.getByTestId('draw-canvas');
    await pad.waitFor({ state: 'visible' });
    expect(await predicted(page)).toBe('');

    // A "1": one vertical stroke down the middle.
    await drawStroke(page, pad, [[0.5, 0.15], [0.5, 0.5], [0.5, 0.85]]);
    await expect.poll(() => predicted(page)).toBe('1');
    expect((await canvasPixels(pad)).inked).toBeGreaterThan(100);
    await clearPad(page);

    // A "7": a top bar and a long diagonal, in one stroke.
    await drawStroke(page, pad, [[0.25, 0.2], [0.5, 0.2], [0.75, 0.2], [0.62, 0.45], [0.5, 0.68], [0.42, 0.85]]);
    await expect.poll(() => predicted(page)).toBe('7');
    await clearPad(page);

    // A "0": one closed oval. The answer appears while the stroke is still being drawn.
    const box = (await pad.boundingBox())!;
    const oval = ellipse(0.5, 0.5, 0.22, 0.33).map(([x, y]) => [box.x + x * box.width, box.y + y * box.height] as const);
    await page.mouse.move(...oval[0]!);
    await page.mouse.down();
    const half = Math.floor(oval.length / 2);
    for (const point of oval.slice(1, half)) await page.mouse.move(...point, { steps: 6 });
    await expect.poll(() => predicted(page)).toMatch(/^[\d?]$/); // mouse still down (a half oval may be "not sure")
    for (const point of oval.slice(half)) await page.mouse.move(...point, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => predicted(page)).toBe('0');
    // Ten probabilities, the highest on the answer.
    expect(await page.getByTestId('probabilities').locator('li').count()).toBe(10);
    await saveScreenshot(page, 'draw');

    // Its feature maps are one click away.
    await page.getByTestId('draw-features').click();
    await page.getByTestId('features-output').waitFor();
    expect(await page.getByTestId('features-input-drawing').getAttribute('aria-pressed')).toBe('true');

    await goTo(page, 'draw');
    await clearPad(page);
    // Clear can be undone, by the button and by Ctrl+Z.
    await page.getByTestId('draw-undo').click();
    await expect.poll(() => predicted(page)).toBe('0');
    await clearPad(page);
    await page.keyboard.press('Control+z');
    await expect.poll(() => predicted(page)).toBe('0');
    await clearPad(page);

    // A single dot is too little ink to tell: "not sure", not a confident digit.
    await drawStroke(page, pad, [[0.5, 0.5], [0.51, 0.5]]);
    await expect.poll(() => predicted(page)).toBe('?');
    expect(await textOf(page, 'prediction-confidence')).toContain('not sure / not a digit');
    await clearPad(page);
    expect(lab.pageErrors).toEqual([]);
  });
});
