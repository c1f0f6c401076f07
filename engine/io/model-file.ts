// One-file models (.lenetlab), to carry a model between classroom PCs on a USB stick or through a browser
// download. Node only.
//
// The container is small and versioned, with every size declared before any content:
//   "LENETLAB" (8 bytes) · version u32 LE (1) · header length u32 LE · header (UTF-8 JSON)
//   · model.json bytes · weights.bin bytes · nothing after.
// The header is {"files":[{"name":"model.json","bytes":N},{"name":"weights.bin","bytes":M}]}, exactly those two
// files in that order. Unpacking checks every size against the bytes present and the store's own limits first;
// importing then opens the two files exactly like a model folder (loadModel: topology against the variant's own
// network, sizes, finite weights, metadata) from a private temp folder, and saves the model anew under a name
// that passes the model-name rule, never over an existing model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError, errorMessage } from '../../common/errors.js';
import { checkModelName } from '../../common/model-name.js';
import { errnoCode, writeFileSynced } from './atomic-file.js';
import { MAX_MODEL_JSON_BYTES, MODEL_JSON, WEIGHTS_BIN, readCheckedFile, reasonOf, serialise, type ModelMeta } from './model-format.js';
import { loadModel, saveModel } from './model-store.js';

export const MODEL_FILE_EXTENSION = '.lenetlab';
export const MODEL_FILE_MAGIC = 'LENETLAB';
export const MODEL_FILE_VERSION = 1;
const PREAMBLE_BYTES = 16;
export const MAX_HEADER_BYTES = 4096;
/** Far above any variant's weights (≈250 KB); the exact size is then checked against the variant. */
export const MAX_WEIGHTS_BYTES = 16 * 1024 * 1024;
export const MAX_MODEL_FILE_BYTES = PREAMBLE_BYTES + MAX_HEADER_BYTES + MAX_MODEL_JSON_BYTES + MAX_WEIGHTS_BYTES;
const FILES = [{ name: MODEL_JSON, max: MAX_MODEL_JSON_BYTES }, { name: WEIGHTS_BIN, max: MAX_WEIGHTS_BYTES }] as const;

export function packModelFile(modelJson: Uint8Array, weights: Uint8Array): Uint8Array {
  const header = Buffer.from(JSON.stringify({ files: [{ name: MODEL_JSON, bytes: modelJson.length }, { name: WEIGHTS_BIN, bytes: weights.length }] }), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  preamble.write(MODEL_FILE_MAGIC, 0, 'latin1');
  preamble.writeUInt32LE(MODEL_FILE_VERSION, 8);
  preamble.writeUInt32LE(header.length, 12);
  return new Uint8Array(Buffer.concat([preamble, header, modelJson, weights]));
}

/** The container of a model as saved now (the same bytes saveModel would write). */
export async function modelFileOf(model: tfl.LayersModel, meta: ModelMeta): Promise<Uint8Array> {
  const { modelJson, weights } = await serialise(model, meta);
  return packModelFile(Buffer.from(JSON.stringify(modelJson), 'utf8'), weights);
}

export const modelFileName = (name: string): string => `${name}${MODEL_FILE_EXTENSION}`;

/** Splits a container into its two files, trusting nothing in it. `what` names it in messages. */
export function unpackModelFile(bytes: Uint8Array, what: string): { modelJson: Buffer; weights: Buffer } {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (reason: string): UserError => new UserError('bad-file', `${what} is not a LeNet Lab model file: ${reason}`);
  if (data.length < PREAMBLE_BYTES || data.toString('latin1', 0, 8) !== MODEL_FILE_MAGIC) {
    throw bad(`it does not start with "${MODEL_FILE_MAGIC}" (export a model from LeNet Lab to get one)`);
  }
  const version = data.readUInt32LE(8);
  if (version !== MODEL_FILE_VERSION) {
    throw new UserError('bad-file', `${what} is model file version ${version}; this LeNet Lab reads version ${MODEL_FILE_VERSION}${version > MODEL_FILE_VERSION ? ' (it needs a newer LeNet Lab)' : ''}`);
  }
  const headerBytes = data.readUInt32LE(12);
  if (headerBytes > MAX_HEADER_BYTES) throw bad(`its header declares ${headerBytes} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
  if (PREAMBLE_BYTES + headerBytes > data.length) throw bad(`it is truncated (the header needs ${headerBytes} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(data.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes));
  } catch (e) {
    throw bad(`its header is not JSON (${errorMessage(e)})`);
  }
  const files = (header as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length !== FILES.length) throw bad(`its header must list exactly ${FILES.map((f) => f.name).join(' and ')}`);
  const sizes: number[] = [];
  FILES.forEach((want, i) => {
    const entry = files[i] as { name?: unknown; bytes?: unknown } | null;
    if (typeof entry !== 'object' || entry === null || Object.keys(entry).sort().join() !== 'bytes,name' || entry.name !== want.name) {
      throw bad(`its header's file ${i + 1} must be {"name":"${want.name}","bytes":N}`);
    }
    const n = entry.bytes;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw bad(`${want.name} declares ${JSON.stringify(n)?.slice(0, 40)} bytes`);
    if (n > want.max) throw bad(`${want.name} declares ${n} bytes, more than the ${want.max}-byte limit`);
    sizes.push(n);
  });
  const expected = PREAMBLE_BYTES + headerBytes + sizes[0]! + sizes[1]!;
  if (data.length !== expected) {
    throw bad(`it holds ${data.length} bytes but its header declares ${expected} (${data.length < expected ? 'truncated' : 'extra bytes at the end'})`);
  }
  const start = PREAMBLE_BYTES + headerBytes;
  return { modelJson: data.subarray(start, start + sizes[0]!), weights: data.subarray(start + sizes[0]!, expected) };
}

/** Reads a container file from disk: a regular file (never a FIFO or a device), size checked before reading. */
export function readModelFile(file: string): Uint8Array {
  let stat: fs.Stats;
  let real: string;
  try {
    real = fs.realpathSync(file); // a link to a model file is fine; the read itself never follows one
    stat = fs.statSync(real);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new UserError('not-found', `model file not found: ${file}`);
    throw new UserError('bad-file', `cannot read ${file}: ${reasonOf(e)}`);
  }
  if (!stat.isFile()) throw new UserError('bad-file', `${file} is not a regular file`);
  if (stat.size > MAX_MODEL_FILE_BYTES) throw new UserError('bad-file', `${file} is ${stat.size} bytes, more than the ${MAX_MODEL_FILE_BYTES}-byte limit for a model file`);
  return readCheckedFile(real, stat);
}

/**
 * Imports a container into `modelsDir` as a new model folder named `name` (default: the name in its
 * metadata). Everything is checked before anything is written there; a refused file leaves the folder as it
 * was. Returns the saved model's folder and metadata.
 */
export async function importModelFile(bytes: Uint8Array, what: string, modelsDir: string, name?: string): Promise<{ dir: string; meta: ModelMeta }> {
  const { modelJson, weights } = unpackModelFile(bytes, what);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-lab-import-'));
  try {
    await writeFileSynced(path.join(temp, MODEL_JSON), modelJson);
    await writeFileSynced(path.join(temp, WEIGHTS_BIN), weights);
    let loaded: Awaited<ReturnType<typeof loadModel>>;
    try {
      loaded = await loadModel(temp);
    } catch (e) {
      // The temp folder's path means nothing to the user: name the file instead.
      if (e instanceof UserError) throw new UserError(e.code, e.message.split(temp).join(what));
      throw e;
    }
    const { model, meta } = loaded;
    try {
      const wanted = checkModelName(name ?? meta.name);
      if (!wanted.ok) {
        throw new UserError('invalid-request', name === undefined
          ? `${what} names its model "${meta.name.slice(0, 80)}", which cannot be a model name here (${wanted.reason}); give a name`
          : `cannot import as "${name.slice(0, 80)}": ${wanted.reason}`);
      }
      const dir = path.join(path.resolve(modelsDir), wanted.name);
      // Case-blind, so the folder copies to a Windows or macOS PC without clashing.
      const taken = fs.existsSync(modelsDir) && fs.readdirSync(modelsDir).some((entry) => entry.toLowerCase() === wanted.name.toLowerCase());
      if (taken) {
        throw new UserError('busy', `a model named "${wanted.name}" is already in ${modelsDir}; import it under another name`, { reason: 'name-taken', name: wanted.name });
      }
      const saved: ModelMeta = { ...meta, name: wanted.name };
      fs.mkdirSync(modelsDir, { recursive: true });
      await saveModel(model, dir, saved);
      return { dir, meta: saved };
    } finally {
      model.dispose();
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}
