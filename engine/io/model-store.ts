// Saving and loading models as TF.js Layers folders: model.json (topology, weights manifest and our
// metadata under userDefinedMetadata.lenetLab) + weights.bin. Node only.
//
// Saves are atomic at the folder level: the new model is written and fsynced in a sibling temp folder,
// then swapped in with two renames (old → .<name>.old-…, temp → <name>). A crash before the swap leaves
// the old folder untouched; a crash between the two renames leaves the old model whole in .<name>.old-…,
// and the next load (or save) renames it back before anything else. Stale temp/old folders of dead
// processes are removed then too.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { UserError, errorMessage } from '../../common/errors.js';
import { BackendName, DatasetRef, Recipe, VariantName } from '../../common/protocol.js';
import { applyConnectionMasks } from '../../common/network/layers.js';
import { VARIANTS } from '../../common/network/variants.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const META_KEY = 'lenetLab';
export const MODEL_FORMAT_VERSION = 1;
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
  seed: z.number().int().min(0).max(2 ** 31 - 1),
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

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

// ------------------------------------------------------------------------------------------------
// Small fs helpers.

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'ENAMETOOLONG': return 'the path is too long';
    case 'EISDIR': return 'a folder is in the way of a file';
    default: return errorMessage(e);
  }
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory so renames and new entries in it survive a power cut (not supported everywhere). */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some file systems cannot fsync a directory; the renames are still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

// ------------------------------------------------------------------------------------------------
// Temp/old folders and crash recovery.

/** Targets this process is saving right now: their temp/old folders are not stale. */
const savesInProgress = new Set<string>();

interface SideFolder { name: string; kind: 'tmp' | 'old'; pid: number; mtimeMs: number }

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sideFolders(parent: string, base: string): SideFolder[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^\\.${escapeRegExp(base)}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
  const out: SideFolder[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    let mtimeMs = 0;
    try {
      mtimeMs = fs.statSync(path.join(parent, name)).mtimeMs;
    } catch {
      continue;
    }
    out.push({ name, kind: m[1] as 'tmp' | 'old', pid: Number(m[2]), mtimeMs });
  }
  return out;
}

/**
 * Finishes what an interrupted save left behind, best effort and synchronous: if `target` is missing but an
 * old copy was moved aside, the old copy goes back under the final name; temp/old folders of saves that are
 * no longer running are deleted.
 */
export function recoverInterruptedSave(target: string): void {
  const abs = path.resolve(target);
  if (savesInProgress.has(abs)) return;
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  const sides = sideFolders(parent, base);
  if (sides.length === 0) return;
  if (!fs.existsSync(abs)) {
    const newestOld = sides.filter((s) => s.kind === 'old').sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
    if (newestOld) {
      try {
        fs.renameSync(path.join(parent, newestOld.name), abs);
        sides.splice(sides.indexOf(newestOld), 1);
      } catch {
        // Leave it: a later attempt (or the user) can still restore it by hand.
      }
    }
  }
  for (const side of sides) {
    const stale = side.pid === process.pid ? true : !pidIsAlive(side.pid);
    if (!stale) continue;
    try {
      fs.rmSync(path.join(parent, side.name), { recursive: true, force: true });
    } catch {
      // Best effort.
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Save.

/** Test seam: called at each step of a save; a hook that throws makes the save fail at that point. */
export interface SaveHooks {
  onPhase?: (phase: 'temp-written' | 'old-moved-aside' | 'swapped') => void | Promise<void>;
}

const MODEL_FOLDER_FILES = new Set([MODEL_JSON, WEIGHTS_BIN]);

/** Refuses targets whose replacement would destroy something that is not a model folder. */
function checkTarget(target: string, dir: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
  }
  if (!stat.isDirectory()) throw new UserError('bad-file', `cannot save model to ${dir}: it is a file, not a folder`);
  let entries: string[];
  try {
    entries = fs.readdirSync(target);
  } catch (e) {
    throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
  }
  const foreign = entries.filter((name) => !MODEL_FOLDER_FILES.has(name));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', …' : '');
    throw new UserError('bad-file',
      `cannot save model to ${dir}: the folder holds other files (${shown}) that saving would replace; choose a new or empty folder`);
  }
  return true;
}

interface SavedArtifacts { modelJson: Record<string, unknown>; weights: Uint8Array }

async function serialise(model: tfl.LayersModel, meta: ModelMeta): Promise<SavedArtifacts> {
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
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
    userDefinedMetadata: { [META_KEY]: meta },
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  return { modelJson, weights };
}

/**
 * Saves `model` into folder `dir` (model.json + weights.bin), replacing a previous model there atomically.
 * Refuses to replace a folder holding anything but a model. Errors are UserError('bad-file', "cannot save
 * model to DIR: <reason>"), and whatever was in `dir` before is left whole.
 */
export async function saveModel(model: tfl.LayersModel, dir: string, meta: ModelMetaInput | ModelMeta, hooks: SaveHooks = {}): Promise<void> {
  const checked = ModelMeta.safeParse(meta);
  if (!checked.success) throw new Error(`saveModel: invalid metadata: ${z.prettifyError(checked.error)}`);
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  if (target === parent || base === '') throw new UserError('bad-file', `cannot save model to ${dir}: not a folder name`);
  if (savesInProgress.has(target)) throw new UserError('busy', `cannot save model to ${dir}: another save to it is in progress`);

  const fail = (e: unknown): never => {
    if (e instanceof UserError) throw e;
    throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
  };

  recoverInterruptedSave(target);
  let targetExists = checkTarget(target, dir);
  savesInProgress.add(target);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${base}.tmp-${suffix}`);
  const old = path.join(parent, `.${base}.old-${suffix}`);
  let tempCreated = false;
  let oldMovedAside = false;
  try {
    // JSON-round-trip the metadata so NaN/Infinity become null exactly as they will read back.
    const { modelJson, weights } = await serialise(model, ModelMeta.parse(JSON.parse(JSON.stringify(checked.data))));
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(temp);
    tempCreated = true;
    await writeFileSynced(path.join(temp, WEIGHTS_BIN), weights);
    await writeFileSynced(path.join(temp, MODEL_JSON), JSON.stringify(modelJson));
    await syncDir(temp);
    await hooks.onPhase?.('temp-written');

    targetExists = checkTarget(target, dir); // it may have changed while we wrote
    if (targetExists) {
      await fsp.rename(target, old);
      oldMovedAside = true;
      await hooks.onPhase?.('old-moved-aside');
    }
    await fsp.rename(temp, target);
    tempCreated = false;
    oldMovedAside = false;
    await syncDir(parent);
    await hooks.onPhase?.('swapped');
    if (targetExists) await fsp.rm(old, { recursive: true, force: true }).catch(() => undefined);
  } catch (e) {
    if (oldMovedAside && !fs.existsSync(target)) {
      await fsp.rename(old, target).catch(() => undefined);
    }
    if (tempCreated) await fsp.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    fail(e);
  } finally {
    savesInProgress.delete(target);
  }
}

// ------------------------------------------------------------------------------------------------
// Load.

interface ModelJsonFile {
  modelTopology: Record<string, unknown>;
  weightsManifest: z.infer<typeof WeightsManifest>;
  raw: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves `dir` (or a path to its model.json) to the model folder, or throws the right UserError. */
function modelFolder(dir: string): string {
  const target = path.resolve(dir);
  recoverInterruptedSave(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new UserError('not-found', `model folder not found: ${dir}`);
    throw new UserError('bad-file', `cannot read model folder ${dir}: ${reasonOf(e)}`);
  }
  if (!stat.isDirectory()) {
    if (path.basename(target) === MODEL_JSON) return path.dirname(target);
    throw new UserError('bad-file', `${dir} is a file; expected a model folder holding ${MODEL_JSON} and ${WEIGHTS_BIN}`);
  }
  return target;
}

function readModelJson(folder: string, dir: string): ModelJsonFile {
  const file = path.join(folder, MODEL_JSON);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      throw new UserError('bad-file', `${dir}: no ${MODEL_JSON} in this folder; it is not a saved model`);
    }
    throw new UserError('bad-file', `cannot read ${file}: ${reasonOf(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
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
  return { modelTopology: raw.modelTopology as Record<string, unknown>, weightsManifest: manifest.data, raw };
}

/** Every class_name in the topology (the model's own and its layers'). */
function classNamesIn(topology: Record<string, unknown>): string[] {
  const t = isRecord(topology.model_config) ? topology.model_config : topology;
  const names = typeof t.class_name === 'string' ? [t.class_name] : [];
  const config = isRecord(t.config) ? t.config : {};
  if (Array.isArray(config.layers)) {
    for (const layer of config.layers) if (isRecord(layer) && typeof layer.class_name === 'string') names.push(layer.class_name);
  }
  return names;
}

function unknownLayerError(file: string, className: string): UserError {
  return new UserError('bad-file',
    `${file}: unknown layer class ${className} — this model was not made by LeNet Lab or needs a newer version`);
}

function checkLayerClasses(modelJson: ModelJsonFile, file: string): void {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const name of classNamesIn(modelJson.modelTopology)) {
    if (!(name in registered)) throw unknownLayerError(file, name);
  }
}

function metaFrom(modelJson: ModelJsonFile, file: string): ModelMeta {
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

function entryBytes(entry: ManifestEntry): number {
  const count = entry.shape.reduce((a, d) => a * d, 1);
  return count * (BYTES_PER[entry.quantization?.dtype ?? entry.dtype] ?? 4);
}

function readWeights(folder: string, dir: string, modelJson: ModelJsonFile): ArrayBuffer {
  const chunks: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      if (p !== path.basename(p) || p === '.' || p === '..' || p.includes('\\')) {
        throw new UserError('bad-file', `${path.join(folder, MODEL_JSON)}: weights path "${p}" must be a file name inside the model folder`);
      }
      const file = path.join(folder, p);
      try {
        chunks.push(fs.readFileSync(file));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') throw new UserError('bad-file', `${dir}: weights file ${p} is missing (${MODEL_JSON} lists it)`);
        throw new UserError('bad-file', `cannot read ${file}: ${reasonOf(e)}`);
      }
    }
  }
  const actual = chunks.reduce((n, c) => n + c.byteLength, 0);
  const expected = modelJson.weightsManifest.flatMap((g) => g.weights).reduce((n, w) => n + entryBytes(w), 0);
  if (actual !== expected) {
    const files = modelJson.weightsManifest.flatMap((g) => g.paths).join(', ');
    throw new UserError('bad-file',
      `${dir}: ${files} holds ${actual} bytes but ${MODEL_JSON}'s weights manifest describes ${expected} bytes (truncated or from another model)`);
  }
  const joined = new Uint8Array(actual);
  let offset = 0;
  for (const c of chunks) {
    joined.set(c, offset);
    offset += c.byteLength;
  }
  return joined.buffer;
}

/** Weight names/shapes and layer names/classes of a fresh model of the variant the metadata names. */
interface VariantShape { weights: Map<string, number[]>; layers: string }

const describeLayers = (m: tfl.LayersModel): string => m.layers.map((l) => `${l.name}:${l.getClassName()}`).join(' ');

function variantShape(variant: VariantName): VariantShape {
  const model = VARIANTS[variant].build(0);
  try {
    return {
      weights: new Map(model.weights.map((w) => [w.originalName, w.shape.map((d) => d ?? -1)])),
      layers: describeLayers(model),
    };
  } finally {
    model.dispose();
  }
}

function checkWeightsAgainstVariant(modelJson: ModelJsonFile, meta: ModelMeta, expected: VariantShape, dir: string): void {
  const entries = modelJson.weightsManifest.flatMap((g) => g.weights);
  const present = new Set(entries.map((e) => e.name));
  const missing = [...expected.weights.keys()].filter((n) => !present.has(n));
  const unexpected = entries.map((e) => e.name).filter((n) => !expected.weights.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [
      missing.length ? `missing ${missing.slice(0, 4).join(', ')}` : '',
      unexpected.length ? `unexpected ${unexpected.slice(0, 4).join(', ')}` : '',
    ].filter(Boolean).join('; ');
    throw new UserError('bad-file',
      `${dir}: the weights do not match the ${meta.variant} variant named in its metadata (${parts}); the model may be from another variant`);
  }
  for (const e of entries) {
    const want = expected.weights.get(e.name)!;
    if (want.length !== e.shape.length || want.some((d, i) => d !== e.shape[i])) {
      throw new UserError('bad-file',
        `${dir}: shape mismatch for weight ${e.name}: ${MODEL_JSON} says [${e.shape.join(',')}], the ${meta.variant} variant has [${want.join(',')}]`);
    }
  }
}

/** The metadata of a saved model, without loading any tensors. Synchronous and cheap. */
export function readModelMeta(dir: string): ModelMeta {
  const folder = modelFolder(dir);
  const modelJson = readModelJson(folder, dir);
  return metaFrom(modelJson, path.join(folder, MODEL_JSON));
}

/**
 * Loads a model folder written by saveModel, validating it step by step so each fault gets its own
 * message (UserError 'not-found' for a missing folder, 'bad-file' for everything else).
 */
export async function loadModel(dir: string, opts: { expectVariant?: VariantName } = {}): Promise<{ model: tfl.LayersModel; meta: ModelMeta }> {
  const folder = modelFolder(dir);
  const file = path.join(folder, MODEL_JSON);
  const modelJson = readModelJson(folder, dir);
  checkLayerClasses(modelJson, file);
  const meta = metaFrom(modelJson, file);
  if (opts.expectVariant && meta.variant !== opts.expectVariant) {
    throw new UserError('bad-file', `${dir} holds a ${meta.variant} model; expected a ${opts.expectVariant} model`);
  }
  const weightData = readWeights(folder, dir, modelJson);
  const expected = variantShape(meta.variant);
  checkWeightsAgainstVariant(modelJson, meta, expected, dir);

  const raw = modelJson.raw;
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData,
      format: 'layers-model',
      generatedBy: typeof raw.generatedBy === 'string' ? raw.generatedBy : undefined,
      convertedBy: null,
      userDefinedMetadata: isRecord(raw.userDefinedMetadata) ? raw.userDefinedMetadata as Record<string, {}> : undefined,
    }));
  } catch (e) {
    const message = errorMessage(e);
    const unknown = /Unknown (?:layer|class|object)[^:]*:\s*([\w>.-]+)/i.exec(message);
    if (unknown?.[1]) throw unknownLayerError(file, unknown[1]);
    if (/shape/i.test(message)) throw new UserError('bad-file', `${dir}: shape mismatch between ${MODEL_JSON} and its weights (${message})`);
    throw new UserError('bad-file', `${dir}: cannot build the model from ${MODEL_JSON} (${message})`);
  }
  if (describeLayers(model) !== expected.layers) {
    model.dispose();
    throw new UserError('bad-file',
      `${dir}: the layers do not match the ${meta.variant} variant named in its metadata; the model may be from another variant`);
  }
  applyConnectionMasks(model);
  return { model, meta };
}
