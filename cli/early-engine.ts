// `lenet-lab train` starts its second training engine as its process starts (bin/lenet-lab.js calls this before
// importing the rest of the CLI): the engine's thread loads tfjs and warms up on the other core while this one
// loads its own modules and MNIST, about a second, so the run trains on two engines from its first step instead
// of waiting for the second through its first half second. Light imports only. A wrong guess costs nothing but
// that thread's start: the run adopts the thread only if its backend matches (parallel-trainer.ts).
import { VARIANT_NAMES } from '../common/names.js';
import type { BackendName, VariantName } from '../common/protocol.js';
import { likelyBackend } from '../engine/backends/tfjs-node-addon.js';
import { availableCores, startThreadEarly } from '../engine/training/early-thread.js';

export { recordRuntimeThreads } from '../engine/training/runtime-threads.js';

/** The value of `--name value` or `--name=value` (the last one, as commander takes it), or undefined. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === name) value = argv[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

export interface EarlyEngineDeps {
  cores: () => number;
  backendFor: (requested: BackendName | undefined) => BackendName;
  start: (backend: BackendName, warmUp: VariantName[]) => unknown;
}

const defaults: EarlyEngineDeps = { cores: availableCores, backendFor: (requested) => likelyBackend(requested), start: startThreadEarly };

/**
 * Starts the second engine for the run `argv` asks for, where that run will train on two engines
 * (trainingWorkers: a wasm or cpu backend, two cores, --workers not 1). Returns whether it started one. A bad
 * command line starts nothing: the CLI reports it as usual.
 */
export function startSecondEngineEarly(argv: readonly string[], deps: EarlyEngineDeps = defaults): boolean {
  if (argv[0] !== 'train' || argv.includes('--help') || argv.includes('-h')) return false;
  const variant = flagValue(argv, '--variant');
  if (!VARIANT_NAMES.includes(variant as VariantName)) return false;
  const workers = flagValue(argv, '--workers');
  if (workers !== undefined && workers !== '2') return false;
  const requested = flagValue(argv, '--backend');
  if (requested !== undefined && requested !== 'wasm' && requested !== 'cpu') return false;
  const backend = deps.backendFor(requested as BackendName | undefined);
  if (backend === 'tensorflow') return false;
  if (workers === undefined && deps.cores() < 2) return false;
  return deps.start(backend, [variant as VariantName]) !== null;
}
