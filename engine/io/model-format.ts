// The model folder's file format: a TF.js Layers model.json (topology, weights manifest and our metadata under
// userDefinedMetadata.lenetLab) and weights.bin. Node only.
//
// Model folders come from anywhere (a USB stick, a shared drive, a download), so reading one trusts nothing:
// - only regular files are read, checked with lstat before opening and fstat after (a FIFO or a device is
//   refused without ever being opened for a blocking read); a symlink may point only inside the folder;
// - every size is known before a byte is read: model.json has a cap, and weights.bin must be exactly what the
//   manifest describes, which must itself be exactly what the variant's own model holds;
// - the model is never built from the file's topology: the variant's model is built from our own code, the
//   file's topology must equal it (seeds aside), and only the weight values are taken from the file;
// - weights must be finite.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { UserError, errorMessage } from '../../common/errors.js';
import { BackendName, DatasetRef, Recipe, VariantName } from '../../common/protocol.js';
import { CUSTOM_CLASS_NAMES, applyConnectionMasks } from '../../common/network/layers.js';
import { VARIANTS } from '../../common/network/variants.js';
import { errnoCode } from './atomic-file.js';
import { RunRecord } from '../../common/run-record.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const META_KEY = 'lenetLab';
export const MODEL_FORMAT_VERSION = 1;
/** The largest seed a saved model records (and so the largest a run may use). */
export const MAX_SEED = 2 ** 31 - 1;
/** model.json is topology (≈20 KB) plus history (≈250 bytes an epoch, at most 10,000 epochs). */
export const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;
const GENERATED_BY = `LeNet Lab (TensorFlow.js Layers ${tfl.version_layers})`;

// JSON turns NaN/±Infinity into null; read them back as NaN so a diverged run's history still loads.
const HistoryNumber = z.union([z.number(), z.nan(), z.null()]).transform((v) => v ?? Number.NaN);

/** One epoch of the training history: the trainer's 'epoch' event without type and runId. */
export const EpochHistory = z.object({
  epoch: z.number().int().min(0),
  /** Epochs the run was set to do (absent in hand-made files: taken as the history's length). */
  epochs: z.number().int().min(0).optional(),
  trainLoss: HistoryNumber,
  trainAccuracy: HistoryNumber,
  testLoss: HistoryNumber,
  testAccuracy: HistoryNumber,
  seconds: HistoryNumber,
  imagesPerSecond: HistoryNumber,
  learningRate: HistoryNumber,
});

/** LeNet Lab's metadata, stored in model.json under userDefinedMetadata.lenetLab. */
export const ModelMeta = z.object({
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  name: z.string().min(1).max(200),
  variant: VariantName,
  /** The dataset's display name ('MNIST' or a folder name). */
  dataset: z.string().max(4096),
  /** Where that dataset was loaded from, so evaluation uses the same test set (absent: MNIST). */
  datasetSource: DatasetRef.optional(),
  recipe: Recipe,
  history: z.object({ epochs: z.array(EpochHistory).max(10_000) })
    .transform((h) => ({ epochs: h.epochs.map((e) => ({ ...e, epochs: e.epochs ?? h.epochs.length })) })),
  backend: BackendName,
  savedAt: z.iso.datetime({ offset: true }),
  testAccuracy: z.number().min(0).max(1).nullable(),
  seed: z.number().int().min(0).max(MAX_SEED),
  /**
   * The LeNet Lab layer classes the topology uses: a program other than LeNet Lab must register them (or
   * rebuild the network) to load the model. Empty: a standard TF.js Layers model. Absent in older saves.
   */
  customLayers: z.array(z.string().max(80)).max(50).optional(),
  /** The run's per-batch history and kernel timeline (run-record.ts). Absent in older saves. */
  run: RunRecord.optional(),
});
export type ModelMeta = z.output<typeof ModelMeta>;
export type ModelMetaInput = z.input<typeof ModelMeta>;

const ManifestEntry = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32', 'bool']),
  quantization: z.object({ dtype: z.enum(['uint8', 'uint16', 'float16']) }).loose().optional(),
}).loose();
const WeightsManifest = z.array(z.object({
  paths: z.array(z.string().min(1)).min(1),
  weights: z.array(ManifestEntry),
}).loose());
type ManifestEntry = z.infer<typeof ManifestEntry>;

export function reasonOf(e: unknown): string {
  switch (errnoCode(e)) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EBUSY': return 'the file is in use by another program';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'ENAMETOOLONG': return 'the path is too long';
    case 'EISDIR': return 'a folder is in the way of a file';
    default: return errorMessage(e);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ------------------------------------------------------------------------------------------------
// Reading files that may be hostile.

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The file `name` in `folder` (a real path) as checked by lstat, or null when it does not exist. */
export function statInside(folder: string, name: string): { file: string; stat: fs.Stats } | null {
  let file = path.join(folder, name);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
    if (stat.isSymbolicLink()) {
      const real = fs.realpathSync(file);
      if (!real.startsWith(folder + path.sep)) {
        throw new UserError('bad-file', `${file} is a link to ${real}, outside the model folder; a model's files must be inside its folder`);
      }
      file = real;
      stat = fs.lstatSync(file);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (errnoCode(e) === 'ENOENT') return null;
    throw new UserError('bad-file', `cannot read ${file}: ${reasonOf(e)}`);
  }
  if (!stat.isFile()) throw new UserError('bad-file', `${file} is ${kindOf(stat)}, not a regular file`);
  return { file, stat };
}

/**
 * Reads exactly `stat.size` bytes of a file that statInside checked. Opened without following links and
 * without blocking; refused if what was opened is not the file that was checked (swapped in between).
 */
export function readCheckedFile(file: string, stat: fs.Stats): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW | NONBLOCK);
    const opened = fs.fstatSync(fd);
    if (!opened.isFile() || opened.ino !== stat.ino || opened.dev !== stat.dev || opened.size !== stat.size) {
      throw new UserError('bad-file', `${file} changed while it was being read; try again`);
    }
    const out = Buffer.alloc(stat.size);
    let done = 0;
    while (done < out.length) {
      const n = fs.readSync(fd, out, done, out.length - done, done);
      if (n === 0) throw new UserError('bad-file', `${file} changed while it was being read; try again`);
      done += n;
    }
    return out;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('bad-file', `cannot read ${file}: ${reasonOf(e)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------
// model.json

export interface ModelJsonFile {
  modelTopology: Record<string, unknown>;
  weightsManifest: z.infer<typeof WeightsManifest>;
  raw: Record<string, unknown>;
}

/** Reads and checks the shape of model.json in `folder` (a real path). `dir` is what the user named. */
export function readModelJson(folder: string, dir: string): ModelJsonFile {
  const found = statInside(folder, MODEL_JSON);
  if (!found) throw new UserError('bad-file', `${dir}: no ${MODEL_JSON} in this folder; it is not a saved model`);
  const { file, stat } = found;
  if (stat.size > MAX_MODEL_JSON_BYTES) {
    throw new UserError('bad-file', `${file} is ${stat.size} bytes, more than the ${MAX_MODEL_JSON_BYTES}-byte limit for a model.json`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readCheckedFile(file, stat).toString('utf8'));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('bad-file', `${file} is not valid JSON (${errorMessage(e)})`);
  }
  if (!isRecord(raw)) throw new UserError('bad-file', `${file} is not a TF.js Layers model: expected a JSON object`);
  if (raw.format !== undefined && raw.format !== 'layers-model') {
    throw new UserError('bad-file', `${file} is a TF.js "${String(raw.format)}", not a "layers-model"; LeNet Lab loads Layers models only`);
  }
  const topology = isRecord(raw.modelTopology) && isRecord(raw.modelTopology.model_config)
    ? raw.modelTopology.model_config : raw.modelTopology;
  if (!isRecord(topology) || typeof topology.class_name !== 'string' || !isRecord(topology.config)) {
    throw new UserError('bad-file', `${file} is not a TF.js Layers model: it has no modelTopology with class_name and config`);
  }
  const manifest = WeightsManifest.safeParse(raw.weightsManifest);
  if (!manifest.success) {
    throw new UserError('bad-file', `${file} is not a TF.js Layers model: weightsManifest is missing or malformed`);
  }
  return { modelTopology: topology, weightsManifest: manifest.data, raw };
}

/** Every class_name in the topology (the model's own and its layers'). */
function classNamesIn(topology: Record<string, unknown>): string[] {
  const names = typeof topology.class_name === 'string' ? [topology.class_name] : [];
  const config = isRecord(topology.config) ? topology.config : {};
  if (Array.isArray(config.layers)) {
    for (const layer of config.layers) if (isRecord(layer) && typeof layer.class_name === 'string') names.push(layer.class_name);
  }
  return names;
}

export function checkLayerClasses(modelJson: ModelJsonFile, file: string): void {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const name of classNamesIn(modelJson.modelTopology)) {
    if (!Object.hasOwn(registered, name)) {
      throw new UserError('bad-file',
        `${file}: unknown layer class ${name.slice(0, 80)} — this model was not made by LeNet Lab or needs a newer version`);
    }
  }
}

export function metaFrom(modelJson: ModelJsonFile, file: string): ModelMeta {
  const udm = modelJson.raw.userDefinedMetadata;
  const rawMeta = isRecord(udm) ? udm[META_KEY] : undefined;
  if (rawMeta === undefined) {
    throw new UserError('bad-file', `${file} has no LeNet Lab metadata (userDefinedMetadata.${META_KEY}); this model was not made by LeNet Lab`);
  }
  if (isRecord(rawMeta) && typeof rawMeta.formatVersion === 'number' && rawMeta.formatVersion > MODEL_FORMAT_VERSION) {
    throw new UserError('bad-file',
      `${file} uses model format ${rawMeta.formatVersion}; this LeNet Lab reads format ${MODEL_FORMAT_VERSION} (it needs a newer version)`);
  }
  const parsed = ModelMeta.safeParse(rawMeta);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserError('bad-file', `${file} has invalid LeNet Lab metadata (${issues})`);
  }
  return parsed.data;
}

// ------------------------------------------------------------------------------------------------
// The variant's own model, and the file compared with it.

/**
 * The model class a standard Layers model has. LeNet Lab's own model class (LenetLabModel) only changes how
 * parameters are counted, so a file may name either at its root, whatever the variant.
 */
export const STANDARD_MODEL_CLASS = 'Model';
const MODEL_CLASSES = new Set([STANDARD_MODEL_CLASS, 'LenetLabModel']);

/** The custom (LeNet Lab) layer classes a model uses, read from its layers, in order, each once. */
export function customLayersOf(model: tfl.LayersModel): string[] {
  const custom = new Set(CUSTOM_CLASS_NAMES.filter((name) => !MODEL_CLASSES.has(name)));
  return [...new Set(model.layers.map((layer) => layer.getClassName()).filter((name) => custom.has(name)))];
}

/** The root of a topology with its model class read as LeNet Lab's (see MODEL_CLASSES). */
function withModelClassUnified(topology: Record<string, unknown>): Record<string, unknown> {
  return typeof topology.class_name === 'string' && MODEL_CLASSES.has(topology.class_name)
    ? { ...topology, class_name: 'LenetLabModel' } : topology;
}

/** A topology with what does not change the network removed: initialiser seeds and the writer's versions. */
function architectureOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(architectureOf);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (key === 'seed' || key === 'keras_version' || key === 'backend') continue;
    out[key] = architectureOf(value[key]);
  }
  return out;
}

/** Where two architectures first differ, e.g. "config.layers[8].config.filters: 1000000, expected 120". */
function firstDifference(got: unknown, want: unknown, at = ''): string | null {
  const show = (v: unknown): string => {
    const text = JSON.stringify(v) ?? 'nothing';
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  };
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return `${at || '(root)'}: ${show(got)}, expected a list`;
    if (got.length !== want.length) return `${at || '(root)'}: ${got.length} entries, expected ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(got[i], want[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isRecord(want)) {
    if (!isRecord(got)) return `${at || '(root)'}: ${show(got)}, expected an object`;
    for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const d = firstDifference(got[key], want[key], at ? `${at}.${key}` : key);
      if (d) return d;
    }
    return null;
  }
  return Object.is(got, want) ? null : `${at || '(root)'}: ${show(got)}, expected ${show(want)}`;
}

export interface VariantModel {
  model: tfl.LayersModel;
  /** Weight name → shape, in the model's order. */
  weights: Map<string, number[]>;
}

/** Builds the variant's model from our own specs (never from a file). The caller owns it. */
export function buildVariantModel(variant: VariantName): VariantModel {
  const model = VARIANTS[variant].build(0);
  return { model, weights: new Map(model.weights.map((w) => [w.originalName, w.shape.map((d) => d ?? -1)])) };
}

/** Refuses a file whose topology is not the variant's network (another variant, a hand edit, a bomb). */
export function checkTopology(modelJson: ModelJsonFile, meta: ModelMeta, built: tfl.LayersModel, dir: string): void {
  const builtTopology = built.toJSON(null, false) as Record<string, unknown>;
  const difference = firstDifference(architectureOf(withModelClassUnified(modelJson.modelTopology)), architectureOf(withModelClassUnified(builtTopology)));
  if (difference) {
    throw new UserError('bad-file',
      `${dir}: the layers do not match the ${meta.variant} variant named in its metadata (${difference}); the model may be from another variant or edited`);
  }
}

export function checkManifestAgainstVariant(modelJson: ModelJsonFile, meta: ModelMeta, expected: Map<string, number[]>, dir: string): void {
  const entries = modelJson.weightsManifest.flatMap((g) => g.weights);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new UserError('bad-file', `${dir}: ${MODEL_JSON} lists the weight ${e.name.slice(0, 80)} twice`);
    seen.add(e.name);
  }
  const missing = [...expected.keys()].filter((n) => !seen.has(n));
  const unexpected = entries.map((e) => e.name).filter((n) => !expected.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [
      missing.length ? `missing ${missing.slice(0, 4).join(', ')}` : '',
      unexpected.length ? `unexpected ${unexpected.slice(0, 4).map((n) => n.slice(0, 80)).join(', ')}` : '',
    ].filter(Boolean).join('; ');
    throw new UserError('bad-file',
      `${dir}: the weights do not match the ${meta.variant} variant named in its metadata (${parts}); the model may be from another variant`);
  }
  for (const e of entries) {
    const want = expected.get(e.name)!;
    if (want.length !== e.shape.length || want.some((d, i) => d !== e.shape[i])) {
      throw new UserError('bad-file',
        `${dir}: shape mismatch for weight ${e.name}: ${MODEL_JSON} says [${e.shape.slice(0, 8).join(',')}], the ${meta.variant} variant has [${want.join(',')}]`);
    }
    if (e.dtype !== 'float32' || e.quantization) {
      throw new UserError('bad-file',
        `${dir}: weight ${e.name} is stored as ${e.quantization ? `quantised ${e.quantization.dtype}` : e.dtype}; LeNet Lab models store float32`);
    }
  }
}

const entryCount = (entry: ManifestEntry): number => entry.shape.reduce((a, d) => a * d, 1);

/**
 * Reads the weight files the manifest lists, after checking that no path repeats, each is a regular file in
 * the folder, and together they hold exactly the manifest's bytes. Returns each weight's values by name.
 * Call after checkManifestAgainstVariant, which bounds the manifest by the variant's size.
 */
export function readWeights(folder: string, dir: string, modelJson: ModelJsonFile): Map<string, Float32Array> {
  const manifestFile = path.join(folder, MODEL_JSON);
  const paths = modelJson.weightsManifest.flatMap((g) => g.paths);
  const seen = new Set<string>();
  const files: { file: string; stat: fs.Stats }[] = [];
  for (const p of paths) {
    if (p !== path.basename(p) || p === '.' || p === '..' || p.includes('\\') || p.includes('\0')) {
      throw new UserError('bad-file', `${manifestFile}: weights path "${p.slice(0, 80)}" must be a file name inside the model folder`);
    }
    if (seen.has(p)) throw new UserError('bad-file', `${manifestFile}: the weights manifest lists ${p} twice`);
    seen.add(p);
    const found = statInside(folder, p);
    if (!found) throw new UserError('bad-file', `${dir}: weights file ${p} is missing (${MODEL_JSON} lists it)`);
    files.push(found);
  }
  const entries = modelJson.weightsManifest.flatMap((g) => g.weights);
  const expected = entries.reduce((n, e) => n + 4 * entryCount(e), 0);
  const actual = files.reduce((n, f) => n + f.stat.size, 0);
  if (actual !== expected) {
    throw new UserError('bad-file',
      `${dir}: ${paths.join(', ')} holds ${actual} bytes but ${MODEL_JSON}'s weights manifest describes ${expected} bytes (truncated or from another model)`);
  }
  const joined = Buffer.concat(files.map((f) => readCheckedFile(f.file, f.stat)), expected);
  const values = new Map<string, Float32Array>();
  let offset = 0;
  for (const e of entries) {
    const count = entryCount(e);
    const view = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = joined.readFloatLE(offset + 4 * i);
      if (!Number.isFinite(v)) {
        throw new UserError('bad-file',
          `${dir}: weight ${e.name} holds ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} (value ${i}); the run that saved it diverged, so the model cannot predict`);
      }
      view[i] = v;
    }
    values.set(e.name, view);
    offset += 4 * count;
  }
  return values;
}

/** Puts the file's weight values into the variant's model (built by buildVariantModel). */
export function setWeights(model: tfl.LayersModel, values: Map<string, Float32Array>): void {
  const tensors = model.weights.map((w) => tf.tensor(values.get(w.originalName)!, w.shape as number[], 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
  applyConnectionMasks(model);
}

// ------------------------------------------------------------------------------------------------
// Writing.

export interface SavedArtifacts { modelJson: Record<string, unknown>; weights: Uint8Array }

export async function serialise(model: tfl.LayersModel, meta: ModelMeta): Promise<SavedArtifacts> {
  applyConnectionMasks(model);
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  const artifacts = captured as tf.io.ModelArtifacts | null;
  if (!artifacts || !artifacts.modelTopology || !artifacts.weightSpecs || artifacts.weightData == null) {
    throw new Error('model.save produced no topology or weights');
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  // Standard layers only: name the standard model class, so plain @tensorflow/tfjs loads the file as it is.
  const customLayers = customLayersOf(model);
  const topology = artifacts.modelTopology as Record<string, unknown>;
  const modelTopology = customLayers.length === 0 ? { ...topology, class_name: STANDARD_MODEL_CLASS } : topology;
  const modelJson: Record<string, unknown> = {
    modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
    userDefinedMetadata: { [META_KEY]: { ...meta, customLayers } },
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  return { modelJson, weights };
}
