// The one registration helper of the wasm and cpu training kernels (engine/backends/kernel-set.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelSet } from '../../engine/backends/kernel-set.js';

const BACKEND = 'lenet-kernel-set-test';
const out = (tag: string): TensorInfo => ({ dataId: { tag }, shape: [], dtype: 'float32' });
const theirs: KernelFunc = () => out('theirs');
const setup = (): void => undefined;
const call = (name: string): string => (tf.getKernel(name, BACKEND)!.kernelFunc({ inputs: {}, attrs: {}, backend: {} as never }) as TensorInfo).dataId['tag' as never];

afterEach(() => {
  for (const name of ['Replaced', 'Missing']) if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
});

describe('KernelSet', () => {
  it('replaces a kernel keeping its setup, adds a missing one, is idempotent and puts everything back', () => {
    tf.registerKernel({ kernelName: 'Replaced', backendName: BACKEND, kernelFunc: theirs, setupFunc: setup });
    const set = new KernelSet(BACKEND, { Replaced: () => out('ours'), Missing: () => out('ours too') });
    set.register();
    set.register();
    expect(call('Replaced')).toBe('ours');
    expect(tf.getKernel('Replaced', BACKEND)!.setupFunc).toBe(setup);
    expect(call('Missing')).toBe('ours too');
    expect(set.original('Replaced')).toBe(theirs);
    expect(() => set.original('Missing')).toThrow(/own Missing kernel is not known/);
    set.unregister();
    expect(call('Replaced')).toBe('theirs');
    expect(tf.getKernel('Missing', BACKEND)).toBeUndefined();
    expect(set.original('Replaced')).toBe(theirs); // the one registered now, before any replacement
  });

  it('leaves a kernel another copy of the module already replaced', () => {
    tf.registerKernel({ kernelName: 'Replaced', backendName: BACKEND, kernelFunc: theirs });
    const first = new KernelSet(BACKEND, { Replaced: () => out('first copy') });
    const second = new KernelSet(BACKEND, { Replaced: () => out('second copy') });
    first.register();
    second.register();
    expect(call('Replaced')).toBe('first copy');
    first.unregister();
  });
});
