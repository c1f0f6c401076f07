import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../common/errors.js';
import {
  MODEL_JSON, ModelMeta, WEIGHTS_BIN, loadModel, readModelMeta, recoverModelsFolder, saveModel, type ModelMetaInput,
} from '../../engine/io/model-store.js';
import { HOST_TAG, SAVE_MARKER } from '../../engine/io/atomic-folder.js';
import { LENET5_C3_CONNECTIONS, LenetLabModel } from '../../common/network/layers.js';
import { VARIANTS } from '../../common/network/variants.js';
import { VARIANT_NAMES, type VariantName } from '../../common/protocol.js';

let root: string;
const models: tfl.LayersModel[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-model-store-'));
});
afterAll(() => {
  for (const m of models) m.dispose();
  fs.chmodSync(root, 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

function build(name: VariantName, seed: number): tfl.LayersModel {
  const model = VARIANTS[name].build(seed);
  models.push(model);
  return model;
}

function metaFor(variant: VariantName, extra: Partial<ModelMetaInput> = {}): ModelMetaInput {
  return {
    formatVersion: 1, name: `${variant}-test`, variant, dataset: 'MNIST',
    recipe: VARIANTS[variant].recipe,
    history: {
      epochs: [{
        epoch: 1, epochs: 1, trainLoss: 0.5, trainAccuracy: 0.9, testLoss: 0.4, testAccuracy: 0.91, seconds: 12.5,
        imagesPerSecond: 800, learningRate: 0.001,
      }],
    },
    backend: 'cpu', savedAt: '2025-01-02T03:04:05.000Z', testAccuracy: 0.91, seed: 42, ...extra,
  };
}

const probe = tf.tidy(() => tf.randomUniform([3, 32, 32, 1], -0.1, 1.175, 'float32', 5));
/** The probe images at the model's own input side (the 28×28 variants read its top-left corner). */
function predictions(model: tfl.LayersModel): number[] {
  const side = model.inputs[0]!.shape[1]!;
  const input = side === 32 ? probe : tf.slice(probe, [0, 0, 0, 0], [3, side, side, 1]);
  const out = model.predict(input) as tf.Tensor;
  if (input !== probe) input.dispose();
  const values = Array.from(out.dataSync());
  out.dispose();
  return values;
}

let dirCount = 0;
function freshDir(label: string): string {
  return path.join(root, `${label}-${++dirCount}`);
}

/** Folders beside `dir` left over by a save (temp or old copies). */
function leftovers(dir: string): string[] {
  const base = path.basename(dir);
  return fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`.${base}.`));
}

async function expectUserError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error, `expected a UserError matching ${message}`).toBeInstanceOf(UserError);
  expect((error as UserError).code).toBe(code);
  expect((error as UserError).message).toMatch(message);
}

const CUSTOM_LAYERS: Record<VariantName, string[]> = {
  lenet5: ['ScaledTanh', 'TrainableSubsampling', 'MaskedConv2D', 'RbfOutput'],
  seed: ['GaussianRbf'],
  modern: [],
  linear: [],
  lenet1: ['ScaledTanh', 'TrainableSubsampling', 'MaskedConv2D'],
  lenet4: ['ScaledTanh', 'TrainableSubsampling'],
};

describe('save and load', () => {
  it.each(VARIANT_NAMES)('%s: save then load gives identical predictions and metadata', async (variant) => {
    const model = build(variant, 3);
    const dir = freshDir(variant);
    const meta = metaFor(variant);
    await saveModel(model, dir, meta);
    expect(fs.readdirSync(dir).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(leftovers(dir)).toEqual([]);

    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({
      format: 'layers-model', convertedBy: null, weightsManifest: [{ paths: [WEIGHTS_BIN] }],
      userDefinedMetadata: { lenetLab: { variant, formatVersion: 1 } },
    });
    expect(json.generatedBy).toMatch(/LeNet Lab/);

    const { model: loaded, meta: loadedMeta } = await loadModel(dir, { expectVariant: variant });
    models.push(loaded);
    expect(loaded).toBeInstanceOf(LenetLabModel);
    expect(predictions(loaded)).toEqual(predictions(model));
    // Saving lists the LeNet Lab layer classes a program needs to load the file (literal, per variant).
    expect(loadedMeta).toEqual({ ...ModelMeta.parse(meta), customLayers: CUSTOM_LAYERS[variant] });
    expect(readModelMeta(dir)).toEqual(loadedMeta);
  });

  it('readModelMeta reads no tensors', () => {
    const dir = path.join(root, 'lenet5-1');
    const before = tf.memory().numTensors;
    expect(readModelMeta(dir).variant).toBe('lenet5');
    expect(readModelMeta(path.join(dir, MODEL_JSON)).variant).toBe('lenet5');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('C3\'s removed links are exactly zero in weights.bin even if someone wrote into them', async () => {
    const model = build('lenet5', 4);
    const kernel = model.getLayer('C3').weights.find((w) => w.originalName === 'C3/kernel')!;
    const ones = tf.ones(kernel.shape as number[]);
    kernel.write(ones);
    ones.dispose();
    const dir = freshDir('masked');
    await saveModel(model, dir, metaFor('lenet5'));
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as {
      weightsManifest: { weights: { name: string; shape: number[] }[] }[];
    };
    const specs = json.weightsManifest[0]!.weights;
    const bin = fs.readFileSync(path.join(dir, WEIGHTS_BIN));
    let offset = 0;
    for (const spec of specs) {
      const count = spec.shape.reduce((a, d) => a * d, 1);
      if (spec.name === 'C3/kernel') {
        const values = new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + count * 4));
        expect(spec.shape).toEqual([5, 5, 6, 16]);
        let zeros = 0;
        values.forEach((v, i) => {
          const connected = LENET5_C3_CONNECTIONS[Math.floor(i / 16) % 6]![i % 16] === 1;
          expect(v).toBe(connected ? 1 : 0);
          if (v === 0) zeros++;
        });
        expect(zeros).toBe(36 * 25);
      }
      offset += count * 4;
    }
    expect(offset).toBe(bin.byteLength);
  });

  it('history numbers that were NaN (a diverged run) save as null and load as NaN', async () => {
    const model = build('modern', 2);
    const dir = freshDir('nan');
    const meta = metaFor('modern');
    meta.history.epochs[0]!.testLoss = Number.NaN;
    await saveModel(model, dir, meta);
    const { model: loaded, meta: back } = await loadModel(dir);
    models.push(loaded);
    expect(back.history.epochs[0]!.testLoss).toBeNaN();
  });
});

describe('atomic save', () => {
  /** Saves model A (old), then B over it with a hook that fails at `phase`. */
  async function oldThenFailingSave(phase: 'temp-written' | 'old-moved-aside') {
    const oldModel = build('modern', 10);
    const newModel = build('modern', 11);
    const dir = freshDir(`crash-${phase}`);
    await saveModel(oldModel, dir, metaFor('modern', { name: 'old' }));
    const save = saveModel(newModel, dir, metaFor('modern', { name: 'new' }), {
      onPhase: (p) => {
        if (p === phase) throw Object.assign(new Error('simulated I/O failure'), { code: 'EIO' });
      },
    });
    return { oldModel, dir, save };
  }

  it('a second save to a folder while one is in progress is refused as busy, before it writes; the first completes', async () => {
    const dir = freshDir('busy');
    let release!: () => void;
    let reached!: () => void;
    const atTemp = new Promise<void>((resolve) => { reached = resolve; });
    const first = saveModel(build('linear', 1), dir, metaFor('linear', { name: 'first' }), {
      onPhase: (p) => (p === 'temp-written' ? (reached(), new Promise<void>((resolve) => { release = resolve; })) : undefined),
    });
    await atTemp;
    await expectUserError(saveModel(build('linear', 2), path.join(dir, '..', path.basename(dir)), metaFor('linear', { name: 'second' })), 'busy',
      new RegExp(`^cannot save model to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: another save to it is in progress$`));
    release();
    await first;
    expect(readModelMeta(dir).name).toBe('first');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a file another program drops into the folder during the save stops it, in one sentence, and loses nothing', async () => {
    const dir = freshDir('intruded');
    await saveModel(build('linear', 3), dir, metaFor('linear', { name: 'old' }));
    const save = saveModel(build('linear', 4), dir, metaFor('linear', { name: 'new' }), {
      onPhase: (p) => { if (p === 'temp-written') fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me'); },
    });
    await expectUserError(save, 'bad-file', new RegExp(`^cannot save model to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the folder holds other files \\(notes\\.txt\\) that saving would replace; choose a new or empty folder$`));
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readModelMeta(dir).name).toBe('old');
    expect(leftovers(dir)).toEqual([]);
  });

  it.each(['temp-written', 'old-moved-aside'] as const)('a failure at %s leaves the old model whole and nothing else', async (phase) => {
    const { oldModel, dir, save } = await oldThenFailingSave(phase);
    await expectUserError(save, 'bad-file', new RegExp(`^cannot save model to ${dir}: simulated I/O failure$`));
    expect(fs.readdirSync(dir).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(leftovers(dir)).toEqual([]);
    const { model, meta } = await loadModel(dir);
    models.push(model);
    expect(meta.name).toBe('old');
    expect(predictions(model)).toEqual(predictions(oldModel));
  });

  it('a crash at any point leaves the old or the new model whole under the final name', async () => {
    const oldModel = build('lenet5', 20);
    const newModel = build('lenet5', 21);
    const parent = freshDir('crash-parent');
    fs.mkdirSync(parent);
    const dir = path.join(parent, 'model');
    await saveModel(oldModel, dir, metaFor('lenet5', { name: 'old' }));
    // At each phase, copy the whole parent folder: the copy is exactly what a crash at that moment leaves.
    const snapshots: { phase: string; dir: string }[] = [];
    await saveModel(newModel, dir, metaFor('lenet5', { name: 'new' }), {
      onPhase: (phase) => {
        const copy = path.join(root, `snapshot-${phase}`);
        fs.cpSync(parent, copy, { recursive: true });
        snapshots.push({ phase, dir: path.join(copy, 'model') });
      },
    });
    expect(snapshots.map((s) => s.phase)).toEqual(['temp-written', 'old-moved-aside', 'swapped']);
    const expectedName: Record<string, string> = { 'temp-written': 'old', 'old-moved-aside': 'old', swapped: 'new' };
    for (const snapshot of snapshots) {
      const parentOf = path.dirname(snapshot.dir);
      const before = fs.readdirSync(parentOf).sort();
      // Loading is read-only: whatever the crash left stays as it was.
      const attempt = await loadModel(snapshot.dir).then((r) => { models.push(r.model); return r.meta.name; }, (e: UserError) => e.message);
      expect(fs.readdirSync(parentOf).sort(), snapshot.phase).toEqual(before);
      if (snapshot.phase === 'old-moved-aside') {
        expect(attempt).toMatch(/^model folder not found: .*\(an interrupted save left the previous model in .*\.model\.old-\d+-[0-9a-f]{16}; /);
      }
      // The app's models folder recovers it.
      recoverModelsFolder(parentOf);
      const { model, meta } = await loadModel(snapshot.dir);
      models.push(model);
      expect(meta.name, snapshot.phase).toBe(expectedName[snapshot.phase]);
      expect(predictions(model), snapshot.phase).toEqual(predictions(meta.name === 'old' ? oldModel : newModel));
      expect(fs.readdirSync(snapshot.dir).sort(), snapshot.phase).toEqual([MODEL_JSON, WEIGHTS_BIN]);
      expect(leftovers(snapshot.dir), snapshot.phase).toEqual([]);
    }
    const { model, meta } = await loadModel(dir);
    models.push(model);
    expect(meta.name).toBe('new');
    expect(leftovers(dir)).toEqual([]);
  });

  it('recovery removes only stale side folders of this machine that carry the app\'s marker; loading removes nothing', async () => {
    const dir = freshDir('stale');
    await saveModel(build('modern', 1), dir, metaFor('modern'));
    const parent = path.dirname(dir);
    const base = path.basename(dir);
    const deadPid = 99_999_999; // above any Linux pid_max
    const livePid = process.ppid;
    const otherHost = HOST_TAG === '00000000' ? '11111111' : '00000000';
    const withMarker = (name: string) => {
      fs.mkdirSync(path.join(parent, name));
      fs.writeFileSync(path.join(parent, name, SAVE_MARKER), JSON.stringify({ app: 'lenet-lab', pid: deadPid }));
      return name;
    };
    const withModel = (name: string) => {
      fs.cpSync(dir, path.join(parent, name), { recursive: true });
      return name;
    };
    const removed = [withMarker(`.${base}.tmp-${deadPid}-${HOST_TAG}aa11aa11`), withModel(`.${base}.old-${deadPid}-${HOST_TAG}bb22bb22`)];
    const kept = [
      withMarker(`.${base}.tmp-${livePid}-${HOST_TAG}cc33cc33`), // a live save
      withMarker(`.${base}.tmp-${deadPid}-${otherHost}dd44dd44`), // another PC's save: its pid means nothing here
      withModel(`.${base}.old-${deadPid}-${otherHost}ee55ee55`),
      withMarker(`.${base}.tmp-${deadPid}-ff66ff66`), // an older version's name: no machine in it
    ];
    const foreign = `.${base}.tmp-${deadPid}-${HOST_TAG}99999999`; // named like ours, but not ours
    fs.mkdirSync(path.join(parent, foreign));
    fs.writeFileSync(path.join(parent, foreign, 'thesis.tex'), 'keep me');
    kept.push(foreign);

    const { model } = await loadModel(dir);
    models.push(model);
    readModelMeta(dir);
    expect(leftovers(dir).sort()).toEqual([...removed, ...kept].sort());
    recoverModelsFolder(parent);
    expect(leftovers(dir).sort()).toEqual([...kept].sort());
    for (const name of kept) fs.rmSync(path.join(parent, name), { recursive: true });
  });

  it('a missing model comes back from an old copy only if that copy holds a LeNet Lab model', async () => {
    const parent = freshDir('restore');
    fs.mkdirSync(parent);
    fs.mkdirSync(path.join(parent, `.notes.old-99999999-${HOST_TAG}12341234`));
    fs.writeFileSync(path.join(parent, `.notes.old-99999999-${HOST_TAG}12341234`, 'notes.txt'), 'keep me');
    const saved = path.join(parent, 'saved');
    await saveModel(build('modern', 2), saved, metaFor('modern', { name: 'saved' }));
    fs.renameSync(saved, path.join(parent, `.saved.old-99999999-${HOST_TAG}56785678`));
    recoverModelsFolder(parent);
    expect(fs.readdirSync(parent).sort()).toEqual([`.notes.old-99999999-${HOST_TAG}12341234`, 'saved']);
    expect(readModelMeta(saved).name).toBe('saved');
  });

  it('an old copy whose removal was cut short (part of a model left) is removed; one holding anything else stays', async () => {
    const parent = freshDir('cut-short');
    fs.mkdirSync(parent);
    const saved = path.join(parent, 'saved');
    await saveModel(build('modern', 2), saved, metaFor('modern', { name: 'saved' }));
    // What a kill during `rm -r` of the old copy leaves: model.json gone, weights.bin still there.
    const cutShort = `.saved.old-99999999-${HOST_TAG}0a0a0a0a`;
    fs.mkdirSync(path.join(parent, cutShort));
    fs.copyFileSync(path.join(saved, WEIGHTS_BIN), path.join(parent, cutShort, WEIGHTS_BIN));
    const empty = `.saved.old-99999999-${HOST_TAG}0b0b0b0b`; // cut short after its last file
    fs.mkdirSync(path.join(parent, empty));
    const withNotes = `.saved.old-99999999-${HOST_TAG}0c0c0c0c`; // weights.bin and a file no model has: not ours to remove
    fs.mkdirSync(path.join(parent, withNotes));
    fs.writeFileSync(path.join(parent, withNotes, WEIGHTS_BIN), 'x');
    fs.writeFileSync(path.join(parent, withNotes, 'notes.txt'), 'keep me');
    const alive = `.saved.old-${process.ppid}-${HOST_TAG}0d0d0d0d`; // another live process's: it may be removing it now
    fs.mkdirSync(path.join(parent, alive));
    fs.writeFileSync(path.join(parent, alive, MODEL_JSON), '{}');
    recoverModelsFolder(parent);
    expect(fs.readdirSync(parent).sort()).toEqual([alive, withNotes, 'saved'].sort());
    expect(readModelMeta(saved).name).toBe('saved');
  });

  it('refuses to replace a file or a folder that holds other things, and leaves them intact', async () => {
    const model = build('modern', 1);
    const file = path.join(root, 'just-a-file.txt');
    fs.writeFileSync(file, 'keep me');
    await expectUserError(saveModel(model, file, metaFor('modern')), 'bad-file', /^cannot save model to .*just-a-file\.txt: it is a file, not a folder$/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');

    const documents = freshDir('documents');
    fs.mkdirSync(documents);
    fs.writeFileSync(path.join(documents, 'thesis.tex'), 'keep me');
    await expectUserError(saveModel(model, documents, metaFor('modern')), 'bad-file', /holds other files \(thesis\.tex\)/);
    expect(fs.readdirSync(documents)).toEqual(['thesis.tex']);
    expect(leftovers(documents)).toEqual([]);
  });

  it('a folder it may not write to gives a clear error and the old model stays intact', async () => {
    const model = build('modern', 5);
    const isRoot = process.getuid?.() === 0;
    if (!isRoot) {
      const parent = freshDir('readonly');
      fs.mkdirSync(parent);
      const dir = path.join(parent, 'model');
      await saveModel(model, dir, metaFor('modern', { name: 'old' }));
      fs.chmodSync(parent, 0o555);
      try {
        await expectUserError(saveModel(build('modern', 6), dir, metaFor('modern', { name: 'new' })), 'bad-file',
          new RegExp(`^cannot save model to ${dir}: permission denied$`));
      } finally {
        fs.chmodSync(parent, 0o755);
      }
      const { meta, model: loaded } = await loadModel(dir);
      models.push(loaded);
      expect(meta.name).toBe('old');
      expect(predictions(loaded)).toEqual(predictions(model));
    } else {
      // root ignores chmod, so make the failure real another way: a path whose parent is a regular file.
      const blocker = path.join(root, 'blocker-file');
      fs.writeFileSync(blocker, 'old contents');
      const dir = path.join(blocker, 'model');
      await expectUserError(saveModel(model, dir, metaFor('modern')), 'bad-file',
        new RegExp(`^cannot save model to ${dir}: a part of the path is a file, not a folder$`));
      expect(fs.readFileSync(blocker, 'utf8')).toBe('old contents');
      expect(fs.readdirSync(root).filter((n) => n.startsWith('.blocker') || n.startsWith('.model'))).toEqual([]);
    }
  });
});

describe('malformed model folders', () => {
  let good: string;
  let goodModern: string;
  beforeAll(async () => {
    good = freshDir('good-lenet5');
    await saveModel(build('lenet5', 7), good, metaFor('lenet5'));
    goodModern = freshDir('good-modern');
    await saveModel(build('modern', 7), goodModern, metaFor('modern'));
  });

  type Json = Record<string, any>;  
  const editJson = (dir: string, edit: (json: Json) => void) => {
    const file = path.join(dir, MODEL_JSON);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    edit(json);
    fs.writeFileSync(file, JSON.stringify(json));
  };
  const layerConfigs = (json: Json): Json[] => json.modelTopology.config.layers as Json[];
  const manifestEntries = (json: Json): Json[] => json.weightsManifest[0].weights as Json[];

  interface Case {
    name: string;
    /** Builds the bad folder from a copy of a good one (`dir`); returns the path to load. */
    make: (dir: string) => string;
    code: 'bad-file' | 'not-found';
    message: RegExp;
    source?: 'lenet5' | 'modern';
    expectVariant?: VariantName;
  }
  const cases: Case[] = [
    { name: 'folder missing', make: (dir) => path.join(dir, 'nope'), code: 'not-found', message: /^model folder not found: .*nope$/ },
    {
      name: 'path is a file', code: 'bad-file', message: /is a file; expected a model folder/,
      make: (dir) => {
        fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
        return path.join(dir, 'notes.txt');
      },
    },
    {
      name: 'model.json missing', code: 'bad-file', message: /: no model\.json in this folder; it is not a saved model$/,
      make: (dir) => {
        fs.rmSync(path.join(dir, MODEL_JSON));
        return dir;
      },
    },
    {
      name: 'model.json not JSON', code: 'bad-file', message: /model\.json is not valid JSON/,
      make: (dir) => {
        fs.writeFileSync(path.join(dir, MODEL_JSON), '{"modelTopology": ');
        return dir;
      },
    },
    {
      name: 'a graph model, not a layers model', code: 'bad-file', message: /is a TF\.js "graph-model", not a "layers-model"/,
      make: (dir) => {
        editJson(dir, (j) => { j.format = 'graph-model'; });
        return dir;
      },
    },
    {
      name: 'no topology', code: 'bad-file', message: /not a TF\.js Layers model: it has no modelTopology/,
      make: (dir) => {
        editJson(dir, (j) => { delete j.modelTopology; });
        return dir;
      },
    },
    {
      name: 'no weights manifest', code: 'bad-file', message: /weightsManifest is missing or malformed/,
      make: (dir) => {
        editJson(dir, (j) => { j.weightsManifest = 'weights.bin'; });
        return dir;
      },
    },
    {
      name: 'weights file missing', code: 'bad-file', message: /: weights file weights\.bin is missing \(model\.json lists it\)$/,
      make: (dir) => {
        fs.rmSync(path.join(dir, WEIGHTS_BIN));
        return dir;
      },
    },
    {
      name: 'weights truncated', code: 'bad-file', message: /weights\.bin holds 1000 bytes but model\.json's weights manifest describes 246960 bytes/,
      make: (dir) => {
        fs.truncateSync(path.join(dir, WEIGHTS_BIN), 1000);
        return dir;
      },
    },
    {
      name: 'weights path outside the folder', code: 'bad-file', message: /weights path "\.\.\/weights\.bin" must be a file name inside the model folder/,
      make: (dir) => {
        editJson(dir, (j) => { j.weightsManifest[0].paths = ['../weights.bin']; });
        return dir;
      },
    },
    {
      name: 'shape mismatch', code: 'bad-file', message: /shape mismatch for weight C1\/kernel: model\.json says \[5,5,6,1\], the lenet5 variant has \[5,5,1,6\]/,
      make: (dir) => {
        editJson(dir, (j) => { manifestEntries(j).find((w) => w.name === 'C1/kernel')!.shape = [5, 5, 6, 1]; });
        return dir;
      },
    },
    {
      name: 'unknown layer class', code: 'bad-file',
      message: /unknown layer class FancyTanh — this model was not made by LeNet Lab or needs a newer version$/,
      make: (dir) => {
        editJson(dir, (j) => { layerConfigs(j).find((l) => l.class_name === 'ScaledTanh')!.class_name = 'FancyTanh'; });
        return dir;
      },
    },
    {
      name: 'metadata missing', code: 'bad-file', message: /has no LeNet Lab metadata \(userDefinedMetadata\.lenetLab\); this model was not made by LeNet Lab$/,
      make: (dir) => {
        editJson(dir, (j) => { delete j.userDefinedMetadata; });
        return dir;
      },
    },
    {
      name: 'metadata invalid', code: 'bad-file', message: /has invalid LeNet Lab metadata \(variant: /,
      make: (dir) => {
        editJson(dir, (j) => { j.userDefinedMetadata.lenetLab.variant = 'lenet7'; });
        return dir;
      },
    },
    {
      name: 'metadata from a newer format', code: 'bad-file', message: /uses model format 2; this LeNet Lab reads format 1 \(it needs a newer version\)$/,
      make: (dir) => {
        editJson(dir, (j) => { j.userDefinedMetadata.lenetLab.formatVersion = 2; });
        return dir;
      },
    },
    {
      name: 'weights from another variant', source: 'modern', code: 'bad-file',
      message: /the weights do not match the lenet5 variant named in its metadata \(missing S2\/coefficient.*\); the model may be from another variant$/,
      make: (dir) => {
        editJson(dir, (j) => { j.userDefinedMetadata.lenetLab.variant = 'lenet5'; });
        return dir;
      },
    },
    {
      name: 'layers from another variant with the same weights', code: 'bad-file',
      message: /the layers do not match the lenet5 variant named in its metadata/,
      make: (dir) => {
        editJson(dir, (j) => { layerConfigs(j).find((l) => l.name === 'C1_act')!.class_name = 'Activation'; layerConfigs(j).find((l) => l.name === 'C1_act')!.config.activation = 'tanh'; });
        return dir;
      },
    },
    {
      name: 'another variant than the caller expects', expectVariant: 'modern', code: 'bad-file',
      message: /holds a lenet5 model; expected a modern model$/,
      make: (dir) => dir,
    },
  ];

  it.each(cases)('$name', async (c) => {
    const dir = freshDir(`bad-${c.name.replace(/\W+/g, '-')}`);
    fs.cpSync(c.source === 'modern' ? goodModern : good, dir, { recursive: true });
    const target = c.make(dir);
    const before = tf.memory().numTensors;
    await expectUserError(loadModel(target, c.expectVariant ? { expectVariant: c.expectVariant } : {}), c.code, c.message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('readModelMeta reports the same faults without touching weights', () => {
    const dir = freshDir('meta-bad');
    fs.cpSync(good, dir, { recursive: true });
    editJson(dir, (j) => { delete j.userDefinedMetadata; });
    expect(() => readModelMeta(dir)).toThrow(/has no LeNet Lab metadata/);
    expect(() => readModelMeta(path.join(dir, 'missing'))).toThrow(/model folder not found/);
  });
});

describe('hostile model folders', () => {
  // Each case refuses before reading what it should not: a FIFO is never opened (if it were, the writer the
  // test starts would release the read after 3 s with no data, and the message would be another one).
  let good: string;
  beforeAll(async () => {
    good = freshDir('hostile-good');
    await saveModel(build('lenet5', 8), good, metaFor('lenet5'));
  });
  type Json = Record<string, any>;  
  const editJson = (dir: string, edit: (json: Json) => void) => {
    const file = path.join(dir, MODEL_JSON);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    edit(json);
    fs.writeFileSync(file, JSON.stringify(json));
  };
  const fifo = (file: string) => {
    fs.rmSync(file, { force: true });
    execFileSync('mkfifo', [file]);
    // Unblocks a reader that should not exist, so a regression fails instead of hanging the test run.
    spawn('sh', ['-c', `sleep 3; : > "${file}"`], { stdio: 'ignore', detached: true }).unref();
  };
  const writeFloats = (dir: string, at: number, value: number) => {
    const file = path.join(dir, WEIGHTS_BIN);
    const bytes = fs.readFileSync(file);
    bytes.writeFloatLE(value, at * 4);
    fs.writeFileSync(file, bytes);
  };
  const unix = process.platform !== 'win32';

  const cases: { name: string; make: (dir: string) => void; message: RegExp; skip?: boolean }[] = [
    { name: 'weights.bin is a FIFO', skip: !unix, make: (d) => fifo(path.join(d, WEIGHTS_BIN)), message: /weights\.bin is a named pipe \(FIFO\), not a regular file$/ },
    { name: 'model.json is a FIFO', skip: !unix, make: (d) => fifo(path.join(d, MODEL_JSON)), message: /model\.json is a named pipe \(FIFO\), not a regular file$/ },
    { name: 'weights.bin is a folder', make: (d) => { fs.rmSync(path.join(d, WEIGHTS_BIN)); fs.mkdirSync(path.join(d, WEIGHTS_BIN)); }, message: /weights\.bin is a folder, not a regular file$/ },
    {
      name: 'weights.bin links to /dev/zero', skip: !unix, message: /weights\.bin is a link to \/dev\/zero, outside the model folder/,
      make: (d) => { fs.rmSync(path.join(d, WEIGHTS_BIN)); fs.symlinkSync('/dev/zero', path.join(d, WEIGHTS_BIN)); },
    },
    {
      name: 'weights.bin links to a file outside the folder', message: /weights\.bin is a link to .*outside\.bin, outside the model folder/,
      make: (d) => {
        const outside = path.join(path.dirname(d), `${path.basename(d)}-outside.bin`);
        fs.renameSync(path.join(d, WEIGHTS_BIN), outside);
        fs.symlinkSync(outside, path.join(d, WEIGHTS_BIN));
      },
    },
    {
      name: 'model.json declares C5 with 1,000,000 filters', message: /the layers do not match the lenet5 variant named in its metadata \(config\.layers\[9\]\.config\.filters: 1000000, expected 120\)/,
      make: (d) => editJson(d, (j) => { j.modelTopology.config.layers.find((l: Json) => l.name === 'C5').config.filters = 1_000_000; }),
    },
    {
      name: 'the manifest agrees with 1,000,000 filters', message: /shape mismatch for weight C5\/kernel: model\.json says \[5,5,16,1000000\], the lenet5 variant has \[5,5,16,120\]/,
      make: (d) => editJson(d, (j) => {
        j.modelTopology.config.layers.find((l: Json) => l.name === 'C5').config.filters = 1_000_000;
        j.weightsManifest[0].weights.find((w: Json) => w.name === 'C5/kernel').shape = [5, 5, 16, 1_000_000];
      }),
    },
    {
      name: 'weights.bin listed six times', message: /the weights manifest lists weights\.bin twice$/,
      make: (d) => editJson(d, (j) => { j.weightsManifest[0].paths = Array(6).fill(WEIGHTS_BIN); }),
    },
    {
      name: 'a sparse 200 MB weights.bin', message: /weights\.bin holds 209715200 bytes but model\.json's weights manifest describes 246960 bytes/,
      make: (d) => fs.truncateSync(path.join(d, WEIGHTS_BIN), 200 * 1024 * 1024),
    },
    {
      name: 'a weight listed twice', message: /model\.json lists the weight C1\/kernel twice$/,
      make: (d) => editJson(d, (j) => { j.weightsManifest[0].weights.push(j.weightsManifest[0].weights[0]); }),
    },
    {
      name: 'quantised weights', message: /weight C1\/kernel is stored as quantised uint8; LeNet Lab models store float32$/,
      make: (d) => editJson(d, (j) => { j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 }; }),
    },
    { name: 'a NaN weight', make: (d) => writeFloats(d, 7, Number.NaN), message: /weight C1\/kernel holds NaN \(value 7\); the run that saved it diverged/ },
    { name: 'an infinite weight', make: (d) => writeFloats(d, 0, Number.NEGATIVE_INFINITY), message: /weight C1\/kernel holds an infinite value \(value 0\)/ },
    {
      name: 'a model.json over 16 MiB', message: /model\.json is 16777217 bytes, more than the 16777216-byte limit for a model\.json$/,
      make: (d) => fs.truncateSync(path.join(d, MODEL_JSON), 16 * 1024 * 1024 + 1),
    },
  ];

  it.each(cases)('$name', async (c) => {
    if (c.skip) return;
    const dir = freshDir(`hostile-${c.name.replace(/\W+/g, '-')}`);
    fs.cpSync(good, dir, { recursive: true });
    c.make(dir);
    const before = tf.memory().numTensors;
    await expectUserError(loadModel(dir), 'bad-file', c.message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a symlink to a file inside the folder is read', async () => {
    const dir = freshDir('inside-link');
    fs.cpSync(good, dir, { recursive: true });
    fs.renameSync(path.join(dir, WEIGHTS_BIN), path.join(dir, 'real.bin'));
    fs.symlinkSync('real.bin', path.join(dir, WEIGHTS_BIN));
    const { model } = await loadModel(dir);
    models.push(model);
    expect(model.name).toBe('lenet5');
  });

  it('the model is the variant\'s own: a harmless extra field in the file\'s topology is refused, not obeyed', async () => {
    const dir = freshDir('extra-field');
    fs.cpSync(good, dir, { recursive: true });
    editJson(dir, (j) => { j.modelTopology.config.layers[1].config.activation = 'relu'; });
    await expectUserError(loadModel(dir), 'bad-file', /config\.layers\[1\]\.config\.activation: "relu", expected "linear"/);
  });
});
