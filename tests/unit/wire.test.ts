import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LENET5_C3_CONNECTIONS } from '../../common/network/layers.js';
import { VARIANTS } from '../../common/network/variants.js';
import { decodeBase64, encodeBase64, modelToWire, wireToFloat32, wireToWeights } from '../../common/network/wire.js';
import type * as tfl from '@tensorflow/tfjs-layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
const models: tfl.LayersModel[] = [];
afterAll(() => {
  for (const m of models) m.dispose();
});

/** Runs `fn` as in a browser: no Buffer global, so the portable codec is used. */
function withoutBuffer<T>(fn: () => T): T {
  const saved = globalThis.Buffer;
  (globalThis as { Buffer?: unknown }).Buffer = undefined;
  try {
    return fn();
  } finally {
    globalThis.Buffer = saved;
  }
}

describe('base64', () => {
  it('matches Node\'s encoder and round-trips, with and without Buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
      const expected = Buffer.from(bytes).toString('base64');
      expect(encodeBase64(bytes)).toBe(expected);
      expect(withoutBuffer(() => encodeBase64(bytes))).toBe(expected);
      expect(Array.from(decodeBase64(expected))).toEqual(Array.from(bytes));
      expect(Array.from(withoutBuffer(() => decodeBase64(expected)))).toEqual(Array.from(bytes));
    }));
  });

  it('encodes the bytes of a typed-array view, not its whole buffer', () => {
    const floats = new Float32Array([1, 2, 3, 4]);
    const view = new Float32Array(floats.buffer, 4, 2);
    expect(encodeBase64(view)).toBe(Buffer.from(floats.buffer, 4, 8).toString('base64'));
  });

  it('rejects malformed text', () => {
    for (const bad of ['abc', 'ab$=', 'a===', '=abc', 'ab=c']) {
      expect(() => decodeBase64(bad), bad).toThrow(/invalid base64/);
      expect(() => withoutBuffer(() => decodeBase64(bad)), bad).toThrow(/invalid base64/);
    }
  });
});

describe('model weights on the wire', () => {
  it('modelToWire → wireToWeights copies a model exactly, C3 masked', () => {
    const source = VARIANTS.lenet5.build(1);
    const target = VARIANTS.lenet5.build(2);
    models.push(source, target);
    const kernel = source.getLayer('C3').weights.find((w) => w.originalName === 'C3/kernel')!;
    const ones = tf.ones(kernel.shape as number[]);
    kernel.write(ones);
    ones.dispose();

    const wire = modelToWire(source);
    expect(wire.map((t) => t.name)).toEqual(source.weights.map((w) => w.originalName));
    const c3 = wireToFloat32(wire.find((t) => t.name === 'C3/kernel')!);
    c3.forEach((v, i) => expect(v).toBe(LENET5_C3_CONNECTIONS[Math.floor(i / 16) % 6]![i % 16]));

    wireToWeights(target, wire);
    const x = tf.randomUniform([2, 32, 32, 1], -0.1, 1.175, 'float32', 3);
    const a = source.predict(x) as tf.Tensor;
    const b = target.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('can send only some weights, and leaks no tensors', () => {
    const model = VARIANTS.lenet5.build(1);
    models.push(model);
    const before = tf.memory().numTensors;
    const kernels = modelToWire(model, { names: ['C1/kernel', 'C3/kernel', 'C5/kernel'] });
    expect(kernels.map((t) => [t.name, t.shape])).toEqual([
      ['C1/kernel', [5, 5, 1, 6]], ['C3/kernel', [5, 5, 6, 16]], ['C5/kernel', [5, 5, 16, 120]],
    ]);
    wireToWeights(model, kernels);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects tensors of another model and writes nothing then', () => {
    const modern = VARIANTS.modern.build(1);
    const lenet = VARIANTS.lenet5.build(1);
    models.push(modern, lenet);
    const before = lenet.getWeights().map((t) => Array.from(t.dataSync()));
    const other = VARIANTS.lenet5.build(9);
    models.push(other);
    const good = modelToWire(other, { names: ['C1/kernel'] });
    const foreign = modelToWire(modern);
    expect(() => wireToWeights(lenet, [...good, ...foreign])).toThrow(/^tensor OUT\/kernel is not a weight of model lenet5 \(its weights: C1\/kernel, /);
    const c1 = modelToWire(modern, { names: ['F6/kernel'] })[0]!;
    expect(() => wireToWeights(lenet, [...good, { ...c1, name: 'C1/kernel' }]))
      .toThrow(/tensor C1\/kernel has shape \[120,84\], model lenet5 expects \[5,5,1,6\]/);
    expect(() => wireToWeights(lenet, [{ ...good[0]!, data: good[0]!.data.slice(0, 8) }])).toThrow(/bytes do not hold shape/);
    expect(lenet.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
  });
});
