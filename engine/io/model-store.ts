// Saving and loading model folders (model.json + weights.bin; the format is in model-format.ts, the atomic
// folder swap in atomic-folder.ts). Node only.
//
// Loading is read-only: it never deletes or renames anything, whatever sits beside the folder. Finishing an
// interrupted save is recoverModelsFolder's job, called only on the app's own models folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { UserError } from '../../common/errors.js';
import { checkModelName } from '../../common/model-name.js';
import type { VariantName } from '../../common/protocol.js';
import { errnoCode, writeFileSynced } from './atomic-file.js';
import { leftBehindOldFolders, recoverInterruptedSaves, replaceFolderAtomically, swapInProgress, SAVE_MARKER, type SwapOptions } from './atomic-folder.js';
import {
  MODEL_JSON, ModelMeta, WEIGHTS_BIN, buildVariantModel, checkLayerClasses, checkManifestAgainstVariant, checkTopology,
  metaFrom, readModelJson, readWeights, reasonOf, serialise, setWeights, type ModelMetaInput,
} from './model-format.js';

export {
  EpochHistory, META_KEY, MODEL_FORMAT_VERSION, MODEL_JSON, ModelMeta, WEIGHTS_BIN, type ModelMetaInput,
} from './model-format.js';

/** Test seam: the swap's phases, and the file-system calls Windows may briefly block. */
export type SaveHooks = SwapOptions;

/** What a model folder may hold; anything else means it is not ours to replace. */
const MODEL_FOLDER_FILES = new Set([MODEL_JSON, WEIGHTS_BIN, SAVE_MARKER]);

/**
 * Checks a save target before anything is written (the CLI calls it before training, so a bad --out fails in
 * a second, not after the run): its name obeys the model-name rule, and replacing it would destroy nothing
 * but a model folder. Returns whether a model folder is there now.
 */
export function checkSaveTarget(dir: string): boolean {
  const target = path.resolve(dir);
  const base = path.basename(target);
  if (target === path.dirname(target) || base === '') throw new UserError('bad-file', `cannot save model to ${dir}: not a folder name`);
  const name = checkModelName(base);
  if (!name.ok) throw new UserError('invalid-request', `cannot save model to ${dir}: ${name.reason}`);
  if (name.name !== base) throw new UserError('invalid-request', `cannot save model to ${dir}: write the name in Unicode NFC form`);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return checkParent(target, dir);
    throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
  }
  if (stat.isSymbolicLink()) throw new UserError('bad-file', `cannot save model to ${dir}: it is a link; name a folder`);
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

/** A missing target's nearest existing ancestor must be a folder (it is created at save time). */
function checkParent(target: string, dir: string): false {
  for (let p = path.dirname(target); ; p = path.dirname(p)) {
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
    }
    if (stat) {
      if (!stat.isDirectory()) throw new UserError('bad-file', `cannot save model to ${dir}: a part of the path is a file, not a folder`);
      return false;
    }
    if (p === path.dirname(p)) return false;
  }
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
  if (swapInProgress(target)) throw new UserError('busy', `cannot save model to ${dir}: another save to it is in progress`);
  checkSaveTarget(dir);
  try {
    // JSON-round-trip the metadata so NaN/Infinity become null exactly as they will read back.
    const { modelJson, weights } = await serialise(model, ModelMeta.parse(JSON.parse(JSON.stringify(checked.data))));
    await replaceFolderAtomically(target, async (temp) => {
      await writeFileSynced(path.join(temp, WEIGHTS_BIN), weights);
      await writeFileSynced(path.join(temp, MODEL_JSON), JSON.stringify(modelJson));
    }, () => checkSaveTarget(dir), hooks);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('bad-file', `cannot save model to ${dir}: ${reasonOf(e)}`);
  }
}

/** Whether `dir` holds a LeNet Lab model.json (the marker recovery needs before it touches an old copy). */
function holdsAppModel(dir: string): boolean {
  try {
    metaFrom(readModelJson(fs.realpathSync(dir), dir), dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finishes saves that were interrupted in `modelsDir`, the app's own models folder (and only there): a model
 * whose save was killed between its two renames gets its folder back; stale temp and old copies are removed.
 * `name` limits it to one model.
 */
export function recoverModelsFolder(modelsDir: string, name?: string): void {
  recoverInterruptedSaves(modelsDir, holdsAppModel, name, holdsOnlyModelFiles);
}

/** Whether `dir` holds nothing but plain files a model folder has (what a cut-short removal leaves of one). */
function holdsOnlyModelFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
      .every((entry) => entry.isFile() && [MODEL_JSON, WEIGHTS_BIN, SAVE_MARKER].includes(entry.name));
  } catch {
    return false;
  }
}

/** Resolves `dir` (or a path to its model.json) to the model folder's real path, or throws the right UserError. */
function modelFolder(dir: string): string {
  const target = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      const old = leftBehindOldFolders(target)[0];
      throw new UserError('not-found', old
        ? `model folder not found: ${dir} (an interrupted save left the previous model in ${path.join(path.dirname(target), old)}; open the models list in LeNet Lab, or rename that folder back)`
        : `model folder not found: ${dir}`);
    }
    throw new UserError('bad-file', `cannot read model folder ${dir}: ${reasonOf(e)}`);
  }
  let folder = target;
  if (!stat.isDirectory()) {
    if (path.basename(target) !== MODEL_JSON) {
      throw new UserError('bad-file', `${dir} is a file; expected a model folder holding ${MODEL_JSON} and ${WEIGHTS_BIN}`);
    }
    folder = path.dirname(target);
  }
  try {
    return fs.realpathSync(folder);
  } catch (e) {
    throw new UserError('bad-file', `cannot read model folder ${dir}: ${reasonOf(e)}`);
  }
}

/** The metadata of a saved model, without loading any tensors. Synchronous and cheap. */
export function readModelMeta(dir: string): ModelMeta {
  const folder = modelFolder(dir);
  return metaFrom(readModelJson(folder, dir), path.join(folder, MODEL_JSON));
}

/**
 * Loads a model folder written by saveModel, validating it step by step so each fault gets its own
 * message (UserError 'not-found' for a missing folder, 'bad-file' for everything else). The model is the
 * variant's own, built from our code; the file gives only its weight values.
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
  const { model, weights } = buildVariantModel(meta.variant);
  try {
    checkManifestAgainstVariant(modelJson, meta, weights, dir);
    checkTopology(modelJson, meta, model, dir);
    setWeights(model, readWeights(folder, dir, modelJson));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta };
}
