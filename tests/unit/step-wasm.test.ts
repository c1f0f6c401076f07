// ModelUpdater on the wasm backend (engine/training/step.ts), where it writes the new weights into the
// variables' own memory: the next forward pass must use them, not XNNPACK's packed copy of the old filters.
// Expectations are worked by hand: a 3×3 convolution of ones over ones.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { Recipe } from '../../common/protocol.js';
import { ModelUpdater } from '../../engine/training/step.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('ModelUpdater on wasm', () => {
  it('the forward pass after an update uses the new filters (a 3×3 convolution of ones: 9, then 9 · 0.5 − 0.5)', () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = tfl.sequential({ layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1], kernelInitializer: 'ones', biasInitializer: 'zeros' })] });
    const x = tf.ones([1, 5, 5, 1]);
    const forward = (): number[] => tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    expect(forward()).toEqual(Array(18).fill(9));
    const updater = new ModelUpdater(model, Recipe.parse({ optimizer: 'sgd', learningRate: 1, momentum: 0, batchSize: 1, epochs: 1 }));
    const tensors = tf.memory().numTensors;
    updater.update(1, new Float32Array(updater.size).fill(0.5), false);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(forward()).toEqual(Array(18).fill(4));
    expect(Array.from(updater.readFlat())).toEqual([...Array(18).fill(0.5), -0.5, -0.5]);
    x.dispose();
    model.dispose();
  });
});
