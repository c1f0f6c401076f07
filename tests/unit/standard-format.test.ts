// Item 8 of issue 11: a model built only from standard layers is a standard TF.js Layers model. Plain
// @tensorflow/tfjs, in a process that never imports LeNet Lab code, loads the saved folder and predicts
// exactly what the app predicts; older saves (class LenetLabModel) still open; models with custom layers say so.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIANTS } from '../../common/network/variants.js';
import type { VariantName } from '../../common/protocol.js';
import { MODEL_JSON, loadModel, readModelMeta, saveModel, type ModelMetaInput } from '../../engine/io/model-store.js';

const PLAIN = path.resolve('tests/fixtures/plain-tfjs-predict.mjs');
let root: string;
let inputsFile: string;
const SHAPE = [4, 32, 32, 1];
const VALUES = Array.from({ length: 4 * 32 * 32 }, (_, i) => ((i * 7919) % 1000) / 400 - 0.4);

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-standard-'));
  inputsFile = path.join(root, 'inputs.json');
  fs.writeFileSync(inputsFile, JSON.stringify({ shape: SHAPE, values: VALUES }));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const meta = (variant: VariantName): ModelMetaInput => ({
  formatVersion: 1, name: `${variant}-plain`, variant, dataset: 'MNIST', recipe: VARIANTS[variant].recipe, history: { epochs: [] },
  backend: 'cpu', savedAt: '2026-01-02T03:04:05.000Z', testAccuracy: null, seed: 1,
});

function appOutputs(dir: string): Promise<number[]> {
  return loadModel(dir).then(({ model }) => {
    const out = model.predict(tf.tensor(VALUES, SHAPE)) as tf.Tensor;
    const values = Array.from(out.dataSync());
    out.dispose();
    model.dispose();
    return values;
  });
}

function plainOutputs(dir: string): { className?: string; outputs?: number[]; error?: string } {
  return JSON.parse(execFileSync(process.execPath, [PLAIN, dir, inputsFile], { encoding: 'utf8', timeout: 60_000 })) as never;
}

async function saved(variant: VariantName): Promise<string> {
  const dir = path.join(root, variant);
  const model = VARIANTS[variant].build(11);
  await saveModel(model, dir, meta(variant));
  model.dispose();
  return dir;
}

describe('standard TF.js Layers format', () => {
  it('modern: plain @tensorflow/tfjs loads the saved folder and predicts exactly what the app predicts', async () => {
    const dir = await saved('modern');
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as { modelTopology: { class_name: string } };
    expect(json.modelTopology.class_name).toBe('Model');
    expect(readModelMeta(dir).customLayers).toEqual([]);
    const plain = plainOutputs(dir);
    expect(plain.error).toBeUndefined();
    expect(plain.className).toBe('Model');
    const app = await appOutputs(dir);
    expect(plain.outputs).toHaveLength(40);
    expect(plain.outputs).toEqual(app);
  }, 90_000);

  it('the shipped modern model is standard too: plain @tensorflow/tfjs predicts what the app predicts', async () => {
    const shipped = path.resolve('assets/models/modern');
    const plain = plainOutputs(shipped);
    expect(plain.error).toBeUndefined();
    expect(plain.outputs).toEqual(await appOutputs(shipped));
    expect(readModelMeta(path.resolve('assets/models/lenet5')).customLayers).toEqual(['ScaledTanh', 'TrainableSubsampling', 'MaskedConv2D', 'RbfOutput']);
  }, 90_000);

  it('modern saved before this change (class LenetLabModel) still opens, with the same predictions', async () => {
    const dir = await saved('modern');
    const before = await appOutputs(dir);
    const file = path.join(dir, MODEL_JSON);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { modelTopology: { class_name: string }; userDefinedMetadata: { lenetLab: Record<string, unknown> } };
    json.modelTopology.class_name = 'LenetLabModel';
    delete json.userDefinedMetadata.lenetLab.customLayers;
    fs.writeFileSync(file, JSON.stringify(json));
    expect(readModelMeta(dir).customLayers).toBeUndefined();
    expect(await appOutputs(dir)).toEqual(before);
  }, 60_000);

  it('lenet5 lists its custom layers, and plain @tensorflow/tfjs indeed cannot load it without them', async () => {
    const dir = await saved('lenet5');
    expect(readModelMeta(dir).customLayers).toEqual(['ScaledTanh', 'TrainableSubsampling', 'MaskedConv2D', 'RbfOutput']);
    expect(plainOutputs(dir).error).toMatch(/ScaledTanh|Unknown layer/);
  }, 90_000);

  it('a model root class other than Model or LenetLabModel is refused', async () => {
    const dir = await saved('modern');
    const file = path.join(dir, MODEL_JSON);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { modelTopology: { class_name: string } };
    json.modelTopology.class_name = 'Sequential';
    fs.writeFileSync(file, JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/class_name|do not match/);
  }, 60_000);
});
