// The work behind each CLI command. Output goes through `out` (stdout: results,
// JSON lines) and `log` (stderr: progress and chatter), so tests can capture both.
import path from 'node:path';
import cliProgress from 'cli-progress';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendReport } from '../engine/backends/ladder.js';
import { loadDataset, mnistDir } from '../engine/data/dataset.js';
import { decodeImageFile } from '../engine/data/image-file.js';
import { preprocessDrawing } from '../common/preprocess.js';
import { UserError, errorMessage, isUserError } from '../common/errors.js';
import { createPredictor } from '../common/network/predict.js';
import { checkSaveTarget, loadModel, saveModel } from '../engine/io/model-store.js';
import { getVariant } from '../common/network/variants.js';
import { VARIANT_NAMES, type BackendName, type DatasetRef, type TrainerEvent, type TrainerEventOf, type VariantName } from '../common/protocol.js';
import { networkTotals } from '../common/network/specs.js';
import { evaluate } from '../engine/training/evaluate.js';
import { trainingWorkers } from '../engine/training/trainer.js';
import { prepareTrainingRun } from '../engine/training/run.js';
import { availableCores, startEngineForRun } from '../engine/training/parallel-trainer.js';
import { earlyWasmModule } from '../engine/training/early-thread.js';
import { appVersion, assetsDir } from '../hosts/app-paths.js';
import { builtinModelsDir } from '../hosts/lab-service.js';

export interface Io {
  out: (line: string) => void;
  log: (text: string) => void;
  /** Whether stderr is a terminal (progress bars) or a pipe (plain lines). */
  interactive: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
// Stored in the model's metadata, so always absolute: `eval` may run from another folder.
const datasetRef = (dir?: string): DatasetRef => (dir ? { kind: 'folder', dir: path.resolve(dir) } : { kind: 'mnist' });
export const defaultModelDir = (): string => path.join(builtinModelsDir(assetsDir()), 'modern');

async function backendFor(requested: string | undefined, io: Io): Promise<BackendReport> {
  // The second engine, started with the process, may have compiled the wasm module already: its code, warmed.
  const wasmModule = earlyWasmModule();
  const report = await initBackend(requested as BackendName | undefined, wasmModule ? { wasmModule } : {});
  io.log(`backend: ${report.name} (${report.note})\n`);
  return report;
}

export interface TrainFlags {
  variant: VariantName;
  epochs?: number;
  batch?: number;
  lr?: number;
  momentum?: number;
  optimizer?: 'sgd' | 'adam';
  lrDecay?: number;
  augmentShift?: number;
  limit?: number;
  testLimit?: number;
  seed?: number;
  backend?: string;
  /** Training engines (1 or 2); default: two where there are two cores (trainingWorkers). */
  workers?: number;
  data?: string;
  out: string;
  json?: boolean;
}

/** The first layer's gradient at most this fraction of the last one's: the signal dies on the way back. */
export const VANISHING_RATIO = 1e-3;
/** Or every gradient at most this large: nothing flows at all (the lesson's RBF head gives ≈ 1e-19). */
export const VANISHING_NORM = 1e-6;

/** A one-paragraph reading of the gradient norms for students, only when they are vanishing. */
export function explainGradients(norms: { layer: string; norm: number }[], testAccuracy: number): string | null {
  const finite = norms.filter((n) => Number.isFinite(n.norm) && n.norm > 0);
  if (finite.length < 2) return null;
  const first = finite[0]!;
  const last = finite[finite.length - 1]!;
  const ratio = first.norm / last.norm;
  const largest = Math.max(...finite.map((n) => n.norm));
  if (ratio > VANISHING_RATIO && largest > VANISHING_NORM) return null;
  const chance = testAccuracy < 0.2 ? ' With accuracy near chance (10%) this is the vanishing gradient.' : ' This is the vanishing gradient: the first layers barely learn.';
  return `The gradient reaching ${first.layer} is ${ratio.toExponential(1)} × the one at ${last.layer}, and the largest is ` +
    `${largest.toExponential(1)}: almost nothing flows back.${chance} Sigmoid units pass back at most a quarter of the gradient (σ′ ≤ 0.25), less where ` +
    'they saturate; and a Gaussian RBF head exp(−‖x−c‖²/2) over 84 units sits so far from its centres that every output ' +
    'is ≈ 0 and so is its slope. Try `--variant modern` ' +
    '(ReLU, Adam) or `--variant lenet5` (scaled tanh).';
}

/** Exit code of a train that was interrupted (Ctrl-C) before it trained anything: 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

/** Trains and saves; returns the exit code (a diverged run throws a UserError: exit 2). */
export async function trainCommand(flags: TrainFlags, io: Io): Promise<number> {
  const spec = getVariant(flags.variant);
  checkSaveTarget(flags.out); // before the run, with the rules saving applies: a bad --out fails now, not in an hour
  const overrides = {
    ...(flags.optimizer !== undefined && { optimizer: flags.optimizer }),
    ...(flags.lr !== undefined && { learningRate: flags.lr }),
    ...(flags.momentum !== undefined && { momentum: flags.momentum }),
    ...(flags.batch !== undefined && { batchSize: flags.batch }),
    ...(flags.epochs !== undefined && { epochs: flags.epochs }),
    ...(flags.lrDecay !== undefined && { lrDecay: flags.lrDecay }),
    ...(flags.augmentShift !== undefined && { augmentShift: flags.augmentShift }),
  };
  const prepared = prepareTrainingRun({
    variant: spec.name, recipe: overrides, dataset: datasetRef(flags.data), limit: flags.limit, testLimit: flags.testLimit,
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
  });
  const { dataset, trainCount, seed, recipe } = prepared;
  // End to end is timed from here, as PyTorch's is from building its model: the engines' start-up (backend,
  // what is left of the second thread's, warm-ups) and the run's first steps are inside; the process's start and
  // MNIST's reading are not. Run from bin/, the second thread started with the process (cli/early-engine.ts).
  const enginesStart = performance.now();
  const backend = await backendFor(flags.backend, io);
  // The second engine (started with the process, or now): the run begins on this thread at once and it joins when ready.
  if (trainingWorkers(flags.workers, backend.name, availableCores()) === 2) startEngineForRun(backend.name, spec.name);
  io.log(`training ${spec.name} (${spec.title}) on ${dataset.name}: ${trainCount} images, ${recipe.epochs} epoch${recipe.epochs === 1 ? "" : "s"}, ` +
    `${recipe.optimizer} lr ${recipe.learningRate}${recipe.optimizer === 'sgd' ? ` momentum ${recipe.momentum}` : ''}` +
    `${recipe.lrDecay !== 1 ? ` ×${recipe.lrDecay}/epoch` : ''}, batch ${recipe.batchSize}` +
    `${recipe.augmentShift ? `, digits shifted ±${recipe.augmentShift} px` : ''}, seed ${seed}\n`);

  const bars = io.interactive && !flags.json
    ? new cliProgress.SingleBar({
        format: 'epoch {epoch}/{epochs} |{bar}| batch {value}/{total} · loss {loss} · acc {acc} · {ips} img/s · ETA {eta_formatted}',
        hideCursor: true, clearOnComplete: true, stream: process.stderr,
      }, cliProgress.Presets.shades_classic)
    : null;
  let lastGradients: TrainerEventOf<'gradients'> | null = null;
  let runStart = NaN, lastBatchAt = NaN;
  const emit = (event: TrainerEvent): void => {
    if (event.type === 'batch' && event.batch === event.batchesPerEpoch) lastBatchAt = performance.now();
    switch (event.type) {
      case 'started':
        runStart = performance.now();
        io.log(event.engines === 2 ? 'engines: 2, data-parallel on two cores\n' : `engines: 1${event.enginesNote ? ` (${event.enginesNote})` : ''}\n`);
        break;
      case 'engines':
        io.log(event.engines === 2 ? `engines: 2 from batch ${event.step} (the second joined when ready)\n` : `engines: 1 (${event.enginesNote ?? 'the second could not start'})\n`);
        break;
      case 'batch': {
        const payload = { epoch: event.epoch, epochs: recipe.epochs, loss: event.loss.toFixed(3), acc: pct(event.accuracy), ips: Math.round(event.imagesPerSecond) };
        if (!bars) break;
        if (event.batch === 1) bars.start(event.batchesPerEpoch, 1, payload);
        else bars.update(event.batch, payload);
        break;
      }
      case 'gradients':
        lastGradients = event;
        if (flags.json) io.out(JSON.stringify({ type: 'gradients', epoch: event.epoch, batch: event.batch, step: event.step, norms: event.norms }));
        break;
      case 'epoch':
        bars?.stop();
        if (flags.json) io.out(JSON.stringify(event));
        else {
          io.log(`epoch ${event.epoch}/${event.epochs}: train loss ${event.trainLoss.toFixed(4)} acc ${pct(event.trainAccuracy)} · ` +
            `test loss ${event.testLoss.toFixed(4)} acc ${pct(event.testAccuracy)} · ${event.seconds.toFixed(1)} s · ${Math.round(event.imagesPerSecond)} img/s\n`);
          if (lastGradients) {
            io.log(`  gradient norms: ${lastGradients.norms.map((n) => `${n.layer} ${n.norm.toExponential(2)}`).join('  ')}\n`);
          }
        }
        break;
      default:
        break;
    }
  };
  const { trainer, finish } = prepared.start({
    runId: 'cli', backend: backend.name, emit,
    ...(flags.workers === 1 || flags.workers === 2 ? { workers: flags.workers } : {}),
    throttle: { batch: bars ? 100 : Infinity, weights: Infinity, gradients: Infinity },
  });
  const onSigint = (): void => {
    io.log('\nstopping after this batch (Ctrl-C again to abort)…\n');
    trainer.stop();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const { model, done, meta, steps } = await finish(path.basename(path.resolve(flags.out)));
  process.removeListener('SIGINT', onSigint);
  bars?.stop();
  if (steps === 0 && done.reason === 'stopped') {
    model.dispose();
    io.log(`${done.message} No model saved.\n`);
    return EXIT_INTERRUPTED;
  }
  await saveModel(model, flags.out, meta);
  model.dispose();
  if (flags.json) {
    // imagesPerSecond: the steps' time only (as the Train view shows it); endToEndImagesPerSecond: every epoch's
    // images over the time from the engines' start to the last batch (completed runs only; evaluations between epochs are inside).
    const endToEnd = done.reason === 'completed' && Number.isFinite(lastBatchAt) ? trainCount * done.epochsCompleted / ((lastBatchAt - enginesStart) / 1000) : null;
    io.out(JSON.stringify({
      type: 'done', reason: done.reason, message: done.message, testAccuracy: done.testAccuracy, testLoss: done.testLoss, backend: done.backend,
      imagesPerSecond: done.imagesPerSecond, endToEndImagesPerSecond: endToEnd, startupSeconds: Number.isFinite(runStart) ? (runStart - enginesStart) / 1000 : null,
      epochs: done.epochsCompleted, seconds: done.seconds, model: path.resolve(flags.out),
    }));
  } else {
    io.log(`${done.message}\n`);
    const explanation = lastGradients ? explainGradients((lastGradients as TrainerEventOf<'gradients'>).norms, done.testAccuracy) : null;
    if (explanation) io.log(`\nWhy: ${explanation}\n`);
    io.out(`saved ${spec.name} model to ${path.resolve(flags.out)} (test accuracy ${pct(done.testAccuracy)}, ${Math.round(done.imagesPerSecond)} img/s on ${done.backend})`);
  }
  if (done.reason === 'diverged') throw new UserError('diverged', done.message);
  return 0;
}

export async function evalCommand(flags: { model?: string; data?: string; json?: boolean; backend?: string; limit?: number }, io: Io): Promise<void> {
  const backend = await backendFor(flags.backend, io);
  const dir = flags.model ?? defaultModelDir();
  const { model, meta } = await loadModel(dir);
  const spec = getVariant(meta.variant);
  // By default a model is tested on the test set of the data it was trained on.
  const dataset = loadDataset(flags.data ? datasetRef(flags.data) : meta.datasetSource ?? { kind: 'mnist' });
  const result = evaluate(model, spec, dataset.test, dataset.numClasses, flags.limit);
  model.dispose();
  if (flags.json) {
    io.out(JSON.stringify({ type: 'eval', model: path.resolve(dir), variant: meta.variant, dataset: dataset.name, backend: backend.name, count: result.count, testAccuracy: result.accuracy, testLoss: result.loss, confusion: result.confusion }));
    return;
  }
  io.out(`${meta.variant} model ${path.resolve(dir)} on ${dataset.name} test set (${result.count} images, ${backend.name}):`);
  io.out(`test accuracy ${pct(result.accuracy)} (error ${pct(1 - result.accuracy)}), loss ${result.loss.toFixed(4)}`);
  io.out('confusion matrix (rows: true digit, columns: predicted):');
  io.out('      ' + result.confusion.map((_, c) => String(c).padStart(5)).join(''));
  result.confusion.forEach((row, r) => io.out(`  ${String(r).padStart(2)}  ` + row.map((v) => String(v).padStart(5)).join('')));
}

export async function predictCommand(files: string[], flags: { model?: string; json?: boolean; backend?: string }, io: Io): Promise<number> {
  await backendFor(flags.backend, io);
  const { model, meta } = await loadModel(flags.model ?? defaultModelDir());
  const predictor = createPredictor(model, getVariant(meta.variant));
  let failures = 0;
  for (const file of files) {
    try {
      const image = decodeImageFile(file);
      const { pixels, hasInk } = preprocessDrawing(image);
      if (!hasInk) throw new UserError('bad-file', `${file}: no ink: the image is blank, so there is no digit to read`);
      const { digit, probabilities } = predictor.predict(pixels);
      if (flags.json) io.out(JSON.stringify({ file, digit, probabilities: probabilities.map((p) => Number(p.toFixed(6))) }));
      else io.out(`${file}: ${digit} (${pct(probabilities[digit]!)})`);
    } catch (e) {
      if (!isUserError(e)) throw e;
      failures++;
      const message = e.message.startsWith(file) ? e.message : `${file}: ${e.message}`;
      if (flags.json) io.out(JSON.stringify({ file, error: message }));
      else io.log(`lenet-lab: ${message}\n`);
    }
  }
  predictor.dispose();
  model.dispose();
  return failures === 0 ? 0 : 2;
}

/** Every variant the CLI and the app can train, with its size and input, from its layer specs. */
export function variantList(): { name: VariantName; title: string; trainableParams: number; inputSize: number }[] {
  return VARIANT_NAMES.map((name) => {
    const spec = getVariant(name);
    return { name, title: spec.title, trainableParams: networkTotals(spec.layers).trainableParams, inputSize: spec.input.size };
  });
}

export async function infoCommand(flags: { backend?: string; json?: boolean }, io: Io): Promise<void> {
  const report = await initBackend(flags.backend as BackendName | undefined);
  let dataset: { dir: string; train: number; test: number } | { error: string };
  try {
    const mnist = loadDataset({ kind: 'mnist' });
    dataset = { dir: mnistDir(), train: mnist.train.count, test: mnist.test.count };
  } catch (e) {
    dataset = { error: errorMessage(e) };
  }
  const info = {
    lenetLab: appVersion(), node: process.versions.node, tfjs: tf.version_core, backend: report.name, backendNote: report.note,
    trainingEngines: trainingWorkers(undefined, report.name, availableCores()),
    ladder: report.attempts, mnist: dataset, models: builtinModelsDir(assetsDir()),
    variants: variantList(),
  };
  if (flags.json) {
    io.out(JSON.stringify({ type: 'info', ...info }));
    return;
  }
  io.out(`lenet-lab ${info.lenetLab} · node ${info.node} · tfjs ${info.tfjs}`);
  io.out(`backend: ${report.name} — ${report.note}`);
  io.out(info.trainingEngines === 2 ? 'training: 2 engines, data-parallel on two cores (--workers 1 for one)' : 'training: 1 engine');
  for (const attempt of report.attempts) io.out(`  ${attempt.ok ? '✓' : '✗'} ${attempt.name}${attempt.reason ? `: ${attempt.reason}` : ''}`);
  io.out('error' in dataset ? `MNIST: unavailable: ${dataset.error}` : `MNIST: ${dataset.dir} (${dataset.train} train, ${dataset.test} test)`);
  io.out(`pretrained models: ${info.models}`);
  io.out('variants:');
  for (const v of info.variants) io.out(`  ${v.name.padEnd(7)} ${v.title} · ${v.trainableParams.toLocaleString('en-US')} trainable parameters · ${v.inputSize}×${v.inputSize} input`);
}
