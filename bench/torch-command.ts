// The PyTorch reference's command line for a variant: the same architecture, batch, optimizer, input scaling and
// C3 table as the app's. `npm run bench` (run.ts) and bench/cli-vs-torch.mjs both run it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LENET5_C3_CONNECTIONS } from '../common/network/layers.js';
import type { VariantSpec } from '../common/network/variants.js';
import type { Recipe } from '../common/protocol.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The source folder's torch script, whether we run from bench/ or from the compiled dist/bench/. */
export const TORCH_SCRIPT = [path.join(HERE, 'torch_reference.py'), path.resolve(HERE, '../../bench/torch_reference.py')]
  .find((p) => existsSync(p)) ?? path.join(HERE, 'torch_reference.py');

export interface TorchRun { images: number; warmup: number; threads: number; endToEnd: boolean; mnistDir: string }

/** The script and its arguments (without the python that runs them). */
export function torchArguments(spec: VariantSpec, recipe: Recipe, run: TorchRun): string[] {
  const c3Mask = LENET5_C3_CONNECTIONS[0]!.map((_, out) => LENET5_C3_CONNECTIONS.map((row) => row[out]!));
  return [
    TORCH_SCRIPT, '--variant', spec.name, '--batch', String(recipe.batchSize), '--optimizer', recipe.optimizer,
    '--lr', String(recipe.learningRate), '--momentum', String(recipe.momentum), '--images', String(run.images),
    '--warmup', String(run.warmup), '--threads', String(run.threads), '--mnist-dir', run.mnistDir,
    '--background', String(spec.input.background), '--ink', String(spec.input.ink), '--c3-mask', JSON.stringify(c3Mask),
    ...(run.endToEnd ? ['--end-to-end'] : []),
  ];
}
