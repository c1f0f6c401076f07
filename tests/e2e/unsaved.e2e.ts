// Work is never lost: after a short run the model is unsaved; Start asks first, and Cancel keeps it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, goTo, startLab, textOf, type Lab } from './harness.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ bypassCSP: true });
});
afterAll(async () => {
  await lab?.close();
});

describe('an unsaved model', () => {
  it('Start asks first; Cancel keeps the trained model', async () => {
    const { page } = lab;
    await goTo(page, 'train');
    await page.getByTestId('variant-select').selectOption('modern');
    await page.getByTestId('recipe-epochs').fill('1');
    await page.getByTestId('limit-input').fill('1000');
    await page.getByTestId('test-limit-input').fill('1000');
    await page.getByTestId('train-start').click();
    await expect.poll(() => page.getByTestId('train-done').count(), { timeout: 180_000, interval: 500 }).toBe(1);
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(1);
    expect(await textOf(page, 'model-unsaved')).toBe('not saved');
    const accuracyBefore = await textOf(page, 'model-accuracy');

    await page.getByTestId('train-start').click();
    const dialog = page.getByTestId('confirm-discard');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('is not saved');
    expect(await axe(page, '[data-testid="confirm-discard"]')).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axe(page, '[data-testid="confirm-discard"]')).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => dialog.isVisible()).toBe(false);

    // Nothing started: the same unsaved model, the same accuracy, the run still finished.
    expect(await page.getByTestId('train-done').count()).toBe(1);
    expect(await page.getByTestId('model-unsaved').count()).toBe(1);
    expect(await textOf(page, 'model-accuracy')).toBe(accuracyBefore);

    // Space outside the Train view never starts a run.
    await goTo(page, 'draw');
    await page.locator('body').press(' ');
    expect(await dialog.isVisible()).toBe(false);
  }, 240_000);
});
