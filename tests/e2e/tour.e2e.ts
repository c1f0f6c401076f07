// The guided lesson, walked like a class would: it opens by itself on a first launch, each step opens its
// view and rings the part of the screen it talks about, arrows and Esc work, a left lesson resumes where it
// was, and the menu's command starts it. Screenshots of each step and of the measured 1998 table.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWS } from '../../common/views.js';
import { availableSteps } from '../../renderer/src/lib/tour-steps.js';
import { SCREENSHOTS_DIR, dismissToasts, startLab, textOf, type Lab } from './harness.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ lesson: true });
});
afterAll(async () => {
  await lab?.close();
});

// This build's views (the registry) decide whether the kinds-of-convolution step is shown.
const steps = availableSteps(VIEWS.map((v) => v.name), ['seed']);

describe('the guided lesson', () => {
  it('opens on first launch and walks every step: its view, its ring on the target, a screenshot', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    const tour = page.getByTestId('tour');
    await tour.waitFor({ timeout: 30_000 });
    await expect.poll(() => textOf(page, 'model-info'), { timeout: 60_000 }).toMatch(/test \d/);
    expect(await textOf(page, 'tour-count')).toBe(`Step 1 of ${steps.length}`);

    for (const [i, step] of steps.entries()) {
      await expect.poll(() => tour.getAttribute('data-step')).toBe(step.id);
      await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe(step.view);
      // Focus moves to the step's heading, so a screen reader reads it and the keys work at once.
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('tour-title');
      // Every target of this build's steps exists once its view has loaded (the dot product needs the model).
      await expect.poll(() => page.getByTestId('tour-spotlight').getAttribute('data-target'), { timeout: 60_000 }).toBe(step.target);
      const ring = (await page.getByTestId('tour-spotlight').boundingBox())!;
      const target = (await page.getByTestId(step.target).first().boundingBox())!;
      expect(ring.x).toBeLessThanOrEqual(target.x);
      expect(ring.y).toBeLessThanOrEqual(target.y);
      expect(ring.x + ring.width).toBeGreaterThanOrEqual(target.x + target.width);
      await dismissToasts(page);
      await page.mouse.move(0, 767);
      await page.waitForTimeout(400); // the ring's move settles
      await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `tour-${i + 1}.png`), animations: 'disabled' });
      if (step.recipe) {
        await page.getByTestId('tour-load-recipe').click();
        await expect.poll(() => page.getByTestId('variant-select').inputValue()).toBe(step.recipe);
        await page.getByTestId('tour-title').focus();
      }
      // The keyboard (→) on even steps, the Next button on odd ones.
      if (i < steps.length - 1) {
        if (i % 2 === 0) await page.keyboard.press('ArrowRight');
        else await page.getByTestId('tour-next').click();
      }
    }
    // Back goes one step back, Finish closes and the next Start begins again.
    await page.getByTestId('tour-back').click();
    await expect.poll(() => tour.getAttribute('data-step')).toBe(steps.at(-2)!.id);
    await page.getByTestId('tour-next').click();
    await page.getByTestId('tour-next').click();
    await expect.poll(() => tour.count()).toBe(0);
    expect(lab.pageErrors).toEqual([]);
  });

  it('leaves with Esc, gives focus back, and resumes at the same step after a reload', async () => {
    const { page } = lab;
    await page.getByTestId('tour-start').click();
    const tour = page.getByTestId('tour');
    await expect.poll(() => tour.getAttribute('data-step')).toBe(steps[0]!.id);
    await page.getByTestId('tour-next').click();
    await page.getByTestId('tour-next').click();
    await page.keyboard.press('Escape');
    await expect.poll(() => tour.count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('tour-start');

    await page.reload();
    await page.getByTestId('nav-train').waitFor();
    // Seen once: it does not open by itself again.
    await page.waitForTimeout(500);
    expect(await tour.count()).toBe(0);
    await page.getByTestId('tour-start').click();
    await expect.poll(() => tour.getAttribute('data-step')).toBe(steps[2]!.id);
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe(steps[2]!.view);
    await page.keyboard.press('Escape');
  });

  it('shows Start without scrolling on a 1366×768 screen, with the recipe of the model in use', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.getByTestId('nav-train').click();
    const start = page.getByTestId('train-start');
    await start.waitFor();
    const box = (await start.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(768);
    const content = await page.locator('main.content').evaluate((el) => el.scrollTop);
    expect(content).toBe(0);
    // The variant in the recipe is the loaded model's (the top bar names it).
    const variant = await page.getByTestId('variant-select').inputValue();
    const summary = await page.evaluate(() => document.querySelector('[data-testid="model-info"]')?.textContent ?? '');
    expect(summary.length).toBeGreaterThan(0);
    expect(variant).not.toBe('');
  });

  it('shows the 1998 table with the lab column, and a measured row opens its model', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.getByTestId('nav-evaluate').click();
    const table = page.getByTestId('paper-table');
    await table.waitFor();
    // LeNet-5's row is trainable in every build; paper-only rows keep the paper's numbers.
    await expect.poll(() => page.getByTestId('paper-row-lenet5').getAttribute('data-status')).toMatch(/measured|untrained/);
    expect(await page.locator('[data-testid="paper-row-paper"][data-status="paper-only"]').count()).toBeGreaterThan(0);
    await table.scrollIntoViewIfNeeded();
    await dismissToasts(page);
    await table.screenshot({ path: path.join(SCREENSHOTS_DIR, 'evaluate-paper-table.png'), animations: 'disabled' });

    const measured = page.locator('[data-testid^="paper-row-"][data-status="measured"] button:enabled').first();
    if ((await measured.count()) > 0) {
      const name = await measured.evaluate((b) => /“(.+)”/.exec(b.textContent ?? '')?.[1] ?? '');
      await measured.click();
      await expect.poll(() => textOf(page, 'model-info')).toContain(name);
    }
    expect(lab.pageErrors).toEqual([]);
  });
});
