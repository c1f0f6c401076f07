// `lenet-lab export` and `lenet-lab import`: one .lenetlab file per model, to carry models between classroom PCs.
// Import checks the file exactly like opening a model folder, and saves it as a new model (never over one).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { UserError } from '../common/errors.js';
import { initBackend } from '../engine/backends/ladder.js';
import { writeFileAtomic } from '../engine/io/atomic-file.js';
import { reasonOf } from '../engine/io/model-format.js';
import { MODEL_FILE_EXTENSION, importModelFile, modelFileOf, readModelFile } from '../engine/io/model-file.js';
import { loadModel } from '../engine/io/model-store.js';
import type { Io } from './commands.js';

/** The models folder `lenet-lab serve` uses (LENET_LAB_MODELS_DIR, else ~/.lenet-lab/models). */
export const defaultModelsDir = (): string => process.env.LENET_LAB_MODELS_DIR || path.join(os.homedir(), '.lenet-lab', 'models');

export async function exportCommand(flags: { model: string; out: string; json?: boolean }, io: Io): Promise<void> {
  const out = path.resolve(flags.out);
  if (!out.endsWith(MODEL_FILE_EXTENSION)) throw new UserError('invalid-request', `--out must end in ${MODEL_FILE_EXTENSION}, got "${flags.out}"`);
  let stat: fs.Stats | null = null;
  try {
    stat = fs.lstatSync(out);
  } catch {
    // a new file
  }
  if (stat && !stat.isFile()) throw new UserError('bad-file', `cannot write ${flags.out}: it is not a regular file`);
  await initBackend(); // loading builds the variant's model: tensors need a backend in a fresh process
  const { model, meta } = await loadModel(flags.model);
  let bytes: Uint8Array;
  try {
    bytes = await modelFileOf(model, meta);
  } finally {
    model.dispose();
  }
  try {
    await writeFileAtomic(out, bytes);
  } catch (e) {
    throw new UserError('bad-file', `cannot write ${flags.out}: ${reasonOf(e)}`);
  }
  if (flags.json) io.out(JSON.stringify({ file: out, bytes: bytes.length, name: meta.name, variant: meta.variant }));
  else io.out(`Exported ${meta.name} (${meta.variant}) to ${out} (${bytes.length} bytes).`);
}

export async function importCommand(file: string, flags: { name?: string; models?: string; json?: boolean }, io: Io): Promise<void> {
  const modelsDir = path.resolve(flags.models ?? defaultModelsDir());
  const bytes = readModelFile(file);
  await initBackend();
  const { dir, meta } = await importModelFile(bytes, file, modelsDir, flags.name);
  if (flags.json) io.out(JSON.stringify({ dir, name: meta.name, variant: meta.variant, testAccuracy: meta.testAccuracy }));
  else io.out(`Imported ${meta.name} (${meta.variant}) into ${dir}.`);
}

export function registerModelFileCommands(program: Command, io: Io): void {
  program.command('export')
    .description(`write a saved model as one ${MODEL_FILE_EXTENSION} file, to copy to another PC`)
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--out <file>', `the file to write (ends in ${MODEL_FILE_EXTENSION})`)
    .option('--json', 'one JSON object on stdout')
    .action(async (flags) => exportCommand(flags, io));
  program.command('import')
    .description(`check a ${MODEL_FILE_EXTENSION} file like a model folder and save it as a new model`)
    .argument('<file>', `a ${MODEL_FILE_EXTENSION} file`)
    .option('--name <name>', 'the new model\'s name (default: the name inside the file)')
    .option('--models <dir>', 'the models folder (default: LENET_LAB_MODELS_DIR or ~/.lenet-lab/models, as `npm run serve` uses)')
    .option('--json', 'one JSON object on stdout')
    .action(async (file: string, flags) => importCommand(file, flags, io));
}
