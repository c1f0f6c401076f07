// The trainer's states end to end, from the UI: a run paused, held, and stopped while paused (the stop
// must wake it: no further batch, no epoch, the page back to idle), and a run stopped during start-up. A stopped
// run's model is held unsaved, so the next Start asks first (the confirm-discard dialog) and Discard goes on.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goTo, startLab, textOf, type Lab } from './harness.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const phaseOf = (page: Page) => page.locator('#progress-title .phase').getAttribute('data-phase');
const progressOf = async (page: Page) => Number(await page.getByTestId('train-progress').getAttribute('aria-valuenow'));

async function setUpRun(page: Page, seed: number): Promise<void> {
  await goTo(page, 'train');
  await page.getByTestId('variant-select').selectOption('modern');
  await page.getByTestId('recipe-epochs').fill('3');
  await page.getByTestId('limit-input').fill('20000');
  await page.getByTestId('test-limit-input').fill('500');
  await page.getByTestId('seed-input').fill(String(seed));
}

/** A stopped run that trained a batch leaves an unsaved model: Start asks first, and Discard goes on. */
async function discardUnsaved(page: Page): Promise<void> {
  const dialog = page.getByTestId('confirm-discard');
  await expect.poll(() => dialog.isVisible()).toBe(true);
  expect(await dialog.textContent()).toContain('is not saved');
  await page.getByTestId('confirm-discard-model').click();
  await expect.poll(() => dialog.isVisible()).toBe(false);
}

describe('training controls in the browser', () => {
  it('pauses a run, holds it, and stops it while paused: the run ends at once with no further batch', async () => {
    const { page } = lab;
    await setUpRun(page, 5);
    await page.getByTestId('train-start').click();
    await expect.poll(() => phaseOf(page), { timeout: 120_000 }).toBe('running');
    await expect.poll(() => progressOf(page), { timeout: 120_000 }).toBeGreaterThan(0);

    await page.getByTestId('train-pause').click();
    await expect.poll(() => phaseOf(page)).toBe('paused');
    await expect.poll(() => page.getByTestId('train-resume').isVisible()).toBe(true);
    expect(await textOf(page, 'train-status')).toContain('epoch 1/3');
    const held = await progressOf(page);
    await page.waitForTimeout(1500);
    expect(await progressOf(page), 'a paused run trains no further').toBe(held);

    await page.getByTestId('train-stop').click();
    await expect.poll(() => page.getByTestId('train-done').count(), { timeout: 30_000 }).toBe(1);
    expect(await textOf(page, 'train-done')).toContain('Training stopped.');
    expect(await textOf(page, 'train-done')).toContain('Stopped after 0 full epochs');
    expect(await progressOf(page), 'no batch after the pause').toBe(held);
    await expect.poll(() => phaseOf(page)).toBe('idle');
    expect(await page.getByTestId('train-start').isEnabled()).toBe(true);
    expect(await page.getByTestId('epoch-table').locator('tbody tr').count()).toBe(0);
    // The batches trained before the pause are kept, unsaved, for the student to save or discard.
    await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(1);
    expect(lab.pageErrors).toEqual([]);
  });

  it('stops a run the moment it is asked, even while the engines start: no epoch, ready for the next run', async () => {
    const { page } = lab;
    await setUpRun(page, 6);
    await page.getByTestId('train-start').click();
    await discardUnsaved(page);
    await page.getByTestId('train-stop').click();
    await expect.poll(async () => `${await phaseOf(page)} ${await page.getByTestId('train-done').count()} ${await page.locator('.progress-card').innerText()}`, { timeout: 60_000 }).toMatch(/^idle 1/);
    expect(await textOf(page, 'train-done')).toContain('Training stopped.');
    expect(await page.getByTestId('epoch-table').locator('tbody tr').count()).toBe(0);
    // The lab takes a new run at once (the stopped run's model is held unsaved: Start asks first).
    await page.getByTestId('train-start').click();
    await discardUnsaved(page);
    await expect.poll(() => phaseOf(page), { timeout: 120_000 }).toBe('running');
    await page.getByTestId('train-stop').click();
    await expect.poll(() => phaseOf(page), { timeout: 60_000 }).toBe('idle');
    expect(lab.pageErrors).toEqual([]);
  });
});
