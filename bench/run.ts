// `npm run bench`: training throughput of every variant on the active backend, side by side
// with PyTorch on the same machine (when Debian's python3-torch is installed), inference
// latency of the drawing pad's path, memory and tensor counts. Not part of `npm test`.
//
//   node dist/bench/run.js [--json] [--backend wasm|cpu|tensorflow] [--variants modern,seed,lenet5]
//                          [--images 6400] [--warmup 1920] [--rounds 3] [--scaling] [--no-torch]
//                          [--markdown BENCHMARKS.md] [--workers 1|2]
//
// --workers 2 (the default with two cores, as in the Trainer) also measures data-parallel training on
// both cores (this thread and one worker thread, parallel-trainer.ts) next to one engine, and runs the
// --scaling Trainer that way; --workers 1 measures one engine only.
// --rounds: each engine runs that many times, interleaved, and keeps its best round.
//
// --markdown rewrites the part of that file between <!-- bench:begin --> and <!-- bench:end -->
// with this run's results, command and machine (the rest of the file is left as written).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendReport } from '../engine/backends/ladder.js';
import { wasmThreadsInUse } from '../engine/backends/wasm-threads.js';
import { loadDataset, mnistDir, type Dataset, type DataSplit } from '../engine/data/dataset.js';
import { createPredictor } from '../common/network/predict.js';
import { torchArguments } from './torch-command.js';
import { VARIANTS, type VariantSpec } from '../common/network/variants.js';
import { BackendName, VARIANT_NAMES, type Recipe, type VariantName } from '../common/protocol.js';
import { rangeIndices } from '../engine/training/batches.js';
import { ParallelStepper, endParallelThreads, startEngineForRun, warmParallelEngine } from '../engine/training/parallel-trainer.js';
import { LocalStepper, type Stepper } from '../engine/training/step.js';
import { Trainer } from '../engine/training/trainer.js';
import { lowerRuntimeThreads, recordRuntimeThreads } from '../engine/training/runtime-threads.js';
import { errorMessage, isUserError } from '../common/errors.js';


interface Options {
  json: boolean;
  backend?: BackendName;
  variants: VariantName[];
  images: number;
  warmup: number;
  rounds: number;
  scaling: boolean;
  torch: boolean;
  predictRuns: number;
  markdown?: string;
  workers: 1 | 2;
  /** Images of the end-to-end runs (0: none). */
  e2eImages: number;
  /** PyTorch thread counts to try (the faster is the reference). */
  torchThreads: number[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
      variants: { type: 'string', default: VARIANT_NAMES.join(',') },
      images: { type: 'string', default: '6400' },
      warmup: { type: 'string', default: '1920' },
      rounds: { type: 'string', default: '3' },
      scaling: { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      'predict-runs': { type: 'string', default: '300' },
      markdown: { type: 'string' },
      workers: { type: 'string', default: os.cpus().length >= 2 ? '2' : '1' },
      'e2e-images': { type: 'string', default: '12000' },
      'no-e2e': { type: 'boolean', default: false },
      'torch-threads': { type: 'string', default: '2,1' },
    },
    strict: true,
  });
  const positive = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const variants = (values.variants ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of variants) {
    if (!(VARIANT_NAMES as readonly string[]).includes(v)) throw new Error(`--variants: unknown variant ${v} (expected ${VARIANT_NAMES.join(', ')})`);
  }
  if (values.workers !== '1' && values.workers !== '2') throw new Error(`--workers must be 1 or 2, got ${values.workers}`);
  let backend: BackendName | undefined;
  if (values.backend !== undefined) {
    const parsed = BackendName.safeParse(values.backend);
    if (!parsed.success) throw new Error(`--backend must be one of tensorflow, wasm, cpu; got ${values.backend}`);
    backend = parsed.data;
  }
  return {
    json: values.json ?? false,
    ...(backend ? { backend } : {}),
    variants: variants as VariantName[],
    images: positive('images', values.images),
    warmup: positive('warmup', values.warmup),
    rounds: positive('rounds', values.rounds),
    scaling: values.scaling ?? false,
    torch: !(values['no-torch'] ?? false),
    predictRuns: positive('predict-runs', values['predict-runs']),
    ...(values.markdown ? { markdown: values.markdown } : {}),
    workers: values.workers === '2' ? 2 : 1,
    e2eImages: values['no-e2e'] ? 0 : positive('e2e-images', values['e2e-images']),
    torchThreads: [...new Set((values['torch-threads'] ?? '').split(',').map((t) => positive('torch-threads', t.trim())))],
  };
}

// ---- machine -----------------------------------------------------------------------

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const rssMb = (): number => process.memoryUsage().rss / 1024 / 1024;

// ---- PyTorch -----------------------------------------------------------------------

/** A python3 that can import torch: PATH's first, then Debian's (python3-torch installs there). */
function findTorchPython(): { python: string; version: string } | { reason: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return { reason: "no python3 can import torch (apt-get install -y python3-torch to compare)" };
}

interface TorchResult { imagesPerSecond: number; images: number; seconds: number; threads: number; data: string; cpuMsPerImage: number }

function runTorchOnce(python: string, spec: VariantSpec, recipe: Recipe, images: number, warmup: number, threads: number, endToEnd = false): TorchResult | { error: string } {
  let dir = '';
  try { dir = mnistDir(); } catch { /* torch falls back to random images */ }
  const args = torchArguments(spec, recipe, { images, warmup, threads, endToEnd, mnistDir: dir });
  try {
    const out = execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    return JSON.parse(out.trim().split('\n').at(-1)!) as TorchResult;
  } catch (e) {
    return { error: errorMessage(e).split('\n')[0]! };
  }
}

/**
 * PyTorch with 2 threads (one per core here), and with 1: OpenMP's spinning threads lose
 * badly when anything else runs, so the faster of the two is the fair reference.
 */
/** PyTorch's thread counts (--torch-threads): 2 (one per core here) and 1 unless told. */
let torchThreads = [2, 1];

function runTorch(python: string, spec: VariantSpec, recipe: Recipe, images: number, warmup: number, endToEnd = false):
  (TorchResult & { byThreads: Record<string, number>; cpuMsPerOneThreadImage?: number }) | { error: string } {
  const results = torchThreads.map((threads) => runTorchOnce(python, spec, recipe, images, warmup, threads, endToEnd));
  const ok = results.filter((r): r is TorchResult => 'imagesPerSecond' in r);
  if (ok.length === 0) return results[0] as { error: string };
  const best = ok.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const oneThread = ok.find((r) => r.threads === 1);
  return {
    ...best, byThreads: Object.fromEntries(ok.map((r) => [String(r.threads), r.imagesPerSecond])),
    ...(oneThread ? { cpuMsPerOneThreadImage: oneThread.cpuMsPerImage } : {}),
  };
}

/** The faster of two measurements (either may be missing). */
function faster<T extends { imagesPerSecond: number }>(a: T | null, b: T | null): T | null {
  if (!a) return b;
  if (!b) return a;
  return b.imagesPerSecond > a.imagesPerSecond ? b : a;
}

// ---- tfjs training -----------------------------------------------------------------

interface TrainMeasure {
  imagesPerSecond: number;
  images: number;
  seconds: number;
  stepMs: number;
  /** CPU time of the whole process (every thread) per image: what the machine's load changes least. */
  cpuMsPerImage: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

/**
 * The trainer's own step (Stepper: forward, loss, probabilities, gradients, divergence check, optimizer
 * update, loss read back) on consecutive MNIST batches: `warmup` images untimed, then `images` timed.
 * On this thread alone, or data-parallel on this thread and one worker thread (half of each batch each).
 */
async function measureTraining(spec: VariantSpec, recipe: Recipe, train: DataSplit, images: number, warmup: number, workers: 1 | 2, backend: BackendName): Promise<TrainMeasure> {
  const batch = recipe.batchSize;
  const model = spec.build(1);
  const stepper: Stepper = workers === 1
    ? new LocalStepper(model, spec, recipe, train, 10)
    : await ParallelStepper.start({ model, spec, recipe, split: train, count: train.count, numClasses: 10, backend });
  const order = rangeIndices(train.count);
  let cursor = 0;
  const step = async (): Promise<void> => {
    if (cursor + batch > train.count) cursor = 0;
    const { fault } = await stepper.step(order, cursor, cursor + batch, undefined, false);
    if (fault) throw new Error(`${spec.name} diverged in the bench: ${fault}`);
    cursor += batch;
  };
  try {
    const warmSteps = Math.max(1, Math.ceil(warmup / batch));
    for (let i = 0; i < warmSteps; i++) await step();
    const tensorsBefore = tf.memory().numTensors;
    const steps = Math.max(1, Math.round(images / batch));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) await step();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const tensorsAfter = tf.memory().numTensors;
    return {
      imagesPerSecond: (steps * batch) / seconds, images: steps * batch, seconds, stepMs: (seconds * 1000) / steps,
      cpuMsPerImage: (cpu.user + cpu.system) / 1000 / (steps * batch), tensorsBefore, tensorsAfter,
    };
  } finally {
    await stepper.dispose();
    model.dispose();
  }
}

/**
 * One image through the drawing pad's path (every activation map), `runs` times after a warm-up, with the
 * model's weights on `backend`: the engine's (the CLI and the lab worker) or 'cpu' (the renderer's drawing pad).
 * Switches back to the backend that was active, so what follows runs where it ran before.
 */
async function measurePredict(spec: VariantSpec, train: DataSplit, runs: number, backend: BackendName): Promise<{ p50Ms: number; p95Ms: number; runs: number }> {
  const previous = tf.getBackend();
  if (backend !== previous && !(await tf.setBackend(backend))) throw new Error(`bench: the ${backend} backend did not start`);
  try {
    const model = spec.build(1);
    const predictor = createPredictor(model, spec);
    const pixels = new Float32Array(28 * 28);
    const times: number[] = [];
    for (let i = 0; i < runs + 20; i++) {
      const index = i % train.count;
      for (let p = 0; p < pixels.length; p++) pixels[p] = train.images[index * 784 + p]! / 255;
      const t0 = performance.now();
      predictor.predict(pixels);
      if (i >= 20) times.push(performance.now() - t0);
    }
    predictor.dispose();
    model.dispose();
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    return { p50Ms: at(0.5), p95Ms: at(0.95), runs };
  } finally {
    // main() checks that training runs on the engine's backend.
    if (tf.getBackend() !== previous) await tf.setBackend(previous);
  }
}

/**
 * Images/s of the real Trainer over one epoch of the first `limit` images (the linear-cost
 * check), and how many tensors are left once its model is disposed (0 = nothing leaked).
 */
async function measureTrainer(spec: VariantSpec, dataset: Dataset, limit: number, backend: BackendName, workers: 1 | 2, epochs = 1) {
  const recipe: Recipe = { ...spec.recipe, epochs };
  const tensorsBefore = tf.memory().numTensors;
  const perEpoch: { epoch: number; rssMb: number; tensors: number }[] = [];
  const trainer = new Trainer({
    runId: 'bench', spec, recipe, dataset, limit, testLimit: 500, seed: 1, backend,
    emit: (e) => { if (e.type === 'epoch') perEpoch.push({ epoch: e.epoch, rssMb: rssMb(), tensors: tf.memory().numTensors }); },
    throttle: { batch: Infinity, weights: Infinity, gradients: Infinity }, workers,
  });
  const { done, model } = await trainer.run();
  model.dispose();
  return { imagesPerSecond: done.imagesPerSecond, tensorsLeft: tf.memory().numTensors - tensorsBefore, rssMb: rssMb(), perEpoch };
}

/**
 * The real Trainer end to end, as a run in the app or the CLI: one epoch over the first `limit` images,
 * from `new Trainer` (the model built, the engines started) to its last batch, first steps included;
 * evaluation is left out (PyTorch's side has none). With `coldEngine`, rank 1's thread is ended first and
 * started inside the time, as the CLI does: the run begins on one engine and rank 1 joins when ready; else
 * it is the warm one a worker keeps. Also the Trainer's own images/s (step time only: what the CLI and the Train view report).
 */
async function measureEndToEnd(spec: VariantSpec, dataset: Dataset, limit: number, backend: BackendName, workers: 1 | 2, coldEngine: boolean) {
  if (coldEngine) await endParallelThreads();
  else if (workers === 2) await warmParallelEngine(backend);
  const recipe: Recipe = { ...spec.recipe, epochs: 1 };
  let lastBatchAt = 0;
  const t0 = performance.now();
  // Cold, as the CLI does it: rank 1 starts now and joins the run when ready (the run is left to choose its engines).
  if (coldEngine) startEngineForRun(backend, spec.name);
  const trainer = new Trainer({
    runId: 'bench-e2e', spec, recipe, dataset, limit, testLimit: 100, seed: 1, backend, ...(coldEngine ? {} : { workers }),
    emit: (e) => { if (e.type === 'batch' && e.batch === e.batchesPerEpoch) lastBatchAt = performance.now(); },
    throttle: { batch: Infinity, weights: Infinity, gradients: Infinity },
  });
  const { done, model } = await trainer.run();
  model.dispose();
  const seconds = (lastBatchAt - t0) / 1000;
  return { imagesPerSecond: limit / seconds, seconds, trainerImagesPerSecond: done.imagesPerSecond, joinedAtStep: trainer.parallelReport.joinedAtStep ?? null };
}

// ---- output ------------------------------------------------------------------------

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head!), line(head!.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(line)].join('\n');
}

/** Replaces the generated section `name` of `file` (creating the file or the markers if needed), atomically. */
function writeMarkdownSection(file: string, name: string, section: string): void {
  const BEGIN = `<!-- ${name}:begin -->`;
  const END = `<!-- ${name}:end -->`;
  const block = `${BEGIN}\n${section}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const begin = text.indexOf(BEGIN), end = text.indexOf(END);
  text = begin >= 0 && end > begin ? text.slice(0, begin) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n${block}\n`;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

async function main(): Promise<void> {
  // As the CLI and the trainer process do once a run trains on two engines (runtime-threads.ts), here for every
  // measurement: V8's own threads at the lowest priority.
  recordRuntimeThreads();
  const lowered = lowerRuntimeThreads();
  const opts = parseOptions(process.argv.slice(2));
  torchThreads = opts.torchThreads;
  const say = (line: string) => { if (!opts.json) process.stdout.write(line + '\n'); };
  const emit = (obj: Record<string, unknown>) => { if (opts.json) process.stdout.write(JSON.stringify(obj) + '\n'); };

  let report: BackendReport;
  try {
    report = await initBackend(opts.backend);
  } catch (e) {
    process.stderr.write(`bench: ${errorMessage(e)}\n`);
    process.exitCode = isUserError(e) ? 2 : 1;
    return;
  }
  const engineThreads = report.name === 'wasm' ? `${wasmThreadsInUse()} thr` : report.name === 'tensorflow' ? 'all cores' : '1 thr';
  const machine = { cores: os.cpus().length, cpu: cpuModel(), node: process.version, tfjs: tf.version_core, loadAverage: os.loadavg()[0]! };
  emit({ type: 'environment', backend: report.name, note: report.note, attempts: report.attempts, ...machine });
  say(`LeNet Lab bench — backend ${report.name} (${report.note})`);
  for (const a of report.attempts.filter((x) => !x.ok)) say(`  (${a.name} not used: ${a.reason})`);
  say(`machine: ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, tfjs ${machine.tfjs}`);
  if (machine.loadAverage > 0.5 * machine.cores) {
    say(`warning: load average ${machine.loadAverage.toFixed(2)} — other processes are running; numbers will be low and noisy`);
  }

  let dataset: Dataset;
  try {
    dataset = loadDataset({ kind: 'mnist' });
  } catch (e) {
    process.stderr.write(`bench: MNIST is needed for the benchmark: ${errorMessage(e)}\n`);
    process.exitCode = 2;
    return;
  }

  const torch = opts.torch ? findTorchPython() : { reason: 'disabled with --no-torch' };
  if ('reason' in torch) {
    emit({ type: 'torch', available: false, reason: torch.reason });
    say(`PyTorch: not compared — ${torch.reason}`);
  } else {
    emit({ type: 'torch', available: true, python: torch.python, version: torch.version });
    say(`PyTorch: ${torch.version} via ${torch.python}, same model/batch/optimizer/data; the fastest of ${opts.torchThreads.join(", ")} thread(s)`);
  }
  say('');

  // tfjs-node uses every core itself (and does not run in a second worker thread): one engine there.
  const parallel = opts.workers === 2 && report.name !== 'tensorflow';
  const rows: string[][] = [[
    'variant', 'batch', 'optimizer', `tfjs img/s (${engineThreads})`, ...(parallel ? ['data-parallel img/s', 'speed-up'] : []),
    'torch img/s', 'ratio', ...(parallel ? ['ratio (data-parallel)'] : []), 'step ms', 'CPU ms/img tfjs / torch 1 thr', 'tensors before→after',
  ]];
  // The engine's backend (the CLI, the lab worker) and the renderer's (its drawing pad runs on cpu).
  const predictBackends: BackendName[] = report.name === 'cpu' ? ['cpu'] : [report.name, 'cpu'];
  const predictRows: string[][] = [[
    'variant', ...predictBackends.flatMap((b) => [`${b}${b === 'cpu' ? ' (renderer)' : ''} p50 ms`, `${b} p95 ms`]), 'runs',
  ]];
  // The pad's latency first, before any training in this process: the pad runs while no training shares its
  // heap, and a p95 of 300 runs taken right after a variant's training caught that training's garbage collection.
  for (const name of opts.variants) {
    const cells: string[] = [];
    for (const backend of predictBackends) {
      const predict = await measurePredict(VARIANTS[name], dataset.train, opts.predictRuns, backend);
      emit({ type: 'predict', variant: name, backend, ...predict });
      cells.push(fmt(predict.p50Ms, 2), fmt(predict.p95Ms, 2));
    }
    predictRows.push([name, ...cells, String(opts.predictRuns)]);
  }
  if (tf.getBackend() !== report.name) throw new Error(`bench: training would run on ${tf.getBackend()}, not ${report.name}`);
  for (const name of opts.variants) {
    const spec = VARIANTS[name];
    const recipe = spec.recipe;
    // Rounds interleave the engines, and each keeps its best round: this machine's neighbours
    // slow whichever run they overlap, and the best round is the closest to the machine's speed.
    let single: TrainMeasure | null = null, dual: TrainMeasure | null = null;
    let torchResult: ReturnType<typeof runTorch> | null = null;
    const roundIps: { tfjs: number[]; tfjs2: number[]; torch: number[] } = { tfjs: [], tfjs2: [], torch: [] };
    // PyTorch's CPU time per image on one thread, best so far (its two threads spin while they wait).
    const torchCpu: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const one = await measureTraining(spec, recipe, dataset.train, opts.images, opts.warmup, 1, report.name);
      roundIps.tfjs.push(one.imagesPerSecond);
      single = faster(single, one);
      if (parallel) {
        const two = await measureTraining(spec, recipe, dataset.train, opts.images, opts.warmup, 2, report.name);
        roundIps.tfjs2.push(two.imagesPerSecond);
        dual = faster(dual, two);
      }
      if ('python' in torch) {
        const t = runTorch(torch.python, spec, recipe, opts.images, opts.warmup);
        if ('imagesPerSecond' in t) roundIps.torch.push(t.imagesPerSecond);
        if ('cpuMsPerOneThreadImage' in t && t.cpuMsPerOneThreadImage !== undefined) torchCpu.push(Math.min(t.cpuMsPerOneThreadImage, torchCpu.at(-1) ?? Infinity));
        torchResult = torchResult && 'imagesPerSecond' in torchResult ? faster(torchResult, 'imagesPerSecond' in t ? t : null) : t;
      }
    }
    if (!single) throw new Error('no training round ran');
    const torchIps = torchResult && 'imagesPerSecond' in torchResult ? torchResult.imagesPerSecond : null;
    const ratioOf = (m: TrainMeasure | null): number | null => (torchIps && m ? m.imagesPerSecond / torchIps : null);
    for (const [workers, train] of [[1, single], [2, dual]] as const) {
      if (!train) continue;
      emit({
        type: 'train', variant: name, backend: report.name, workers, batchSize: recipe.batchSize, optimizer: recipe.optimizer,
        images: train.images, seconds: train.seconds, stepMs: train.stepMs, imagesPerSecond: train.imagesPerSecond, cpuMsPerImage: train.cpuMsPerImage,
        torchCpuMsPerImage: torchCpu.at(-1) ?? null,
        torchImagesPerSecond: torchIps, ratio: ratioOf(train),
        rounds: { tfjs: workers === 1 ? roundIps.tfjs : roundIps.tfjs2, torch: roundIps.torch },
        ...(workers === 2 ? { speedup: train.imagesPerSecond / single.imagesPerSecond } : { tensorsBefore: train.tensorsBefore, tensorsAfter: train.tensorsAfter }),
        ...(torchResult && 'byThreads' in torchResult ? { torchThreads: torchResult.threads, torchByThreads: torchResult.byThreads } : {}),
        ...(torchResult && 'error' in torchResult ? { torchError: torchResult.error } : {}),
      });
    }
    const ratioText = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);
    rows.push([
      name, String(recipe.batchSize), `${recipe.optimizer} ${recipe.learningRate}${recipe.momentum ? ` m${recipe.momentum}` : ''}`,
      fmt(single.imagesPerSecond),
      ...(dual ? [fmt(dual.imagesPerSecond), `${(dual.imagesPerSecond / single.imagesPerSecond).toFixed(2)}×`] : []),
      torchResult && 'error' in torchResult ? 'error' : torchResult ? `${fmt(torchIps)} (${torchResult.threads} thr)` : '—',
      ratioText(ratioOf(single)), ...(dual ? [ratioText(ratioOf(dual))] : []),
      dual ? `${fmt(single.stepMs, 1)} / ${fmt(dual.stepMs, 1)}` : fmt(single.stepMs, 1),
      `${fmt(single.cpuMsPerImage, 3)} / ${fmt(torchCpu.at(-1), 3)}`, `${single.tensorsBefore}→${single.tensorsAfter}`,
    ]);
    if (torchResult && 'error' in torchResult) say(`torch ${name}: ${torchResult.error}`);

  }
  say(`Training: ${opts.images} images timed after ${opts.warmup} warm-up images; the best of ${opts.rounds} interleaved rounds`);
  say(table(rows));
  say('');
  say('Inference: one image, probabilities and every activation map (the drawing pad\'s path; the renderer runs it on cpu)');
  say(table(predictRows));

  // End to end: the real Trainer from its construction to its last batch, first steps included, against
  // PyTorch from building its model to its last step; the same interleaved best-of-rounds.
  let e2eTable: string[][] | undefined;
  if (opts.e2eImages > 0) {
    const workers = parallel ? 2 : 1;
    const e2eRows: string[][] = [[
      'variant', 'images', ...(parallel ? ['e2e img/s (engine started in the run)'] : []), 'e2e img/s', 'Trainer\'s img/s', 'torch e2e img/s',
      ...(parallel ? ['ratio (started in the run)'] : []), 'ratio e2e', 'ratio Trainer\'s',
    ]];
    say('');
    say(`End to end: the real Trainer, ${workers === 2 ? 'two engines, ' : ''}one epoch of ${opts.e2eImages} images from new Trainer() to its last batch`);
    for (const name of opts.variants) {
      const spec = VARIANTS[name];
      const limit = Math.min(opts.e2eImages, dataset.train.count);
      type E2E = Awaited<ReturnType<typeof measureEndToEnd>>;
      let cold: E2E | null = null, warm: E2E | null = null;
      let torchE2E: TorchResult | null = null;
      for (let round = 0; round < opts.rounds; round++) {
        if (parallel) cold = faster(cold, await measureEndToEnd(spec, dataset, limit, report.name, 2, true));
        warm = faster(warm, await measureEndToEnd(spec, dataset, limit, report.name, workers, false));
        if ('python' in torch) {
          const t = runTorch(torch.python, spec, spec.recipe, limit, 0, true);
          if ('imagesPerSecond' in t) torchE2E = faster(torchE2E, t);
        }
      }
      const ratio = (ips: number | undefined): string => (torchE2E && ips ? `${(ips / torchE2E.imagesPerSecond).toFixed(2)}×` : '—');
      emit({ type: 'e2e', variant: name, backend: report.name, workers, images: limit, engineStartedInRun: cold, warm, torch: torchE2E });
      e2eRows.push([
        name, String(limit), ...(parallel ? [`${fmt(cold?.imagesPerSecond)}${cold?.joinedAtStep ? ` (joined at step ${cold.joinedAtStep})` : ''}`] : []), fmt(warm?.imagesPerSecond), fmt(warm?.trainerImagesPerSecond),
        torchE2E ? `${fmt(torchE2E.imagesPerSecond)} (${torchE2E.threads} thr)` : '—',
        ...(parallel ? [ratio(cold?.imagesPerSecond)] : []), ratio(warm?.imagesPerSecond), ratio(warm?.trainerImagesPerSecond),
      ]);
    }
    say(table(e2eRows));
    e2eTable = e2eRows;
  }

  let scaleTable: string[][] | undefined;
  let memoryTable: string[][] | undefined;
  if (opts.scaling) {
    say('');
    say(`Scaling: the real Trainer${parallel ? ', data-parallel' : ''}, one epoch over the first N training images`);
    const scaleRows: string[][] = [['variant', 'images', 'img/s', 'tensors left', 'RSS MB']];
    for (const name of opts.variants) {
      for (const limit of [6000, 30000, 60000]) {
        const { perEpoch: _, ...r } = await measureTrainer(VARIANTS[name], dataset, Math.min(limit, dataset.train.count), report.name, parallel ? 2 : 1);
        emit({ type: 'scaling', variant: name, backend: report.name, workers: parallel ? 2 : 1, images: limit, ...r });
        scaleRows.push([name, String(limit), fmt(r.imagesPerSecond), String(r.tensorsLeft), fmt(r.rssMb)]);
      }
    }
    say(table(scaleRows));
    scaleTable = scaleRows;
    // Memory over a longer run: the real Trainer, three epochs of 20,000 images.
    say('');
    say('Memory over three epochs: the real Trainer on 20,000 images, RSS and live tensors at each epoch end');
    const memoryRows: string[][] = [['variant', 'epoch 1 RSS MB', 'epoch 2 RSS MB', 'epoch 3 RSS MB', 'tensors at epoch ends']];
    for (const name of opts.variants) {
      const { perEpoch } = await measureTrainer(VARIANTS[name], dataset, Math.min(20000, dataset.train.count), report.name, parallel ? 2 : 1, 3);
      emit({ type: 'memory-epochs', variant: name, backend: report.name, perEpoch });
      memoryRows.push([name, ...perEpoch.map((e) => fmt(e.rssMb)), perEpoch.map((e) => e.tensors).join(' / ')]);
    }
    say(table(memoryRows));
    memoryTable = memoryRows;
  }

  const memory = { peakRssMb: peakRssMb(), rssMb: rssMb(), numTensors: tf.memory().numTensors };
  emit({ type: 'memory', ...memory });
  say('');
  say(`Memory: peak RSS ${fmt(memory.peakRssMb)} MB, RSS now ${fmt(memory.rssMb)} MB, live tensors ${memory.numTensors}`);

  if (opts.markdown) {
    const command = `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
    const lines = [
      `Generated by \`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      '',
      `- Machine: ${machine.cores} cores (\`nproc\`), ${machine.cpu}; Node ${machine.node}; tfjs ${machine.tfjs}; load average ${machine.loadAverage.toFixed(2)} at the start.`,
      `- Backend: **${report.name}** — ${report.note}.${report.attempts.filter((a) => !a.ok).map((a) => ` ${a.name} not used: ${a.reason}.`).join('')}`,
      `- V8's own threads (compiler, tier-up, GC helpers): ${lowered > 0 ? `${lowered} at the lowest priority, as a training host sets them` : 'left as they were (not Linux)'}.`,
      ...(machine.loadAverage > 0.5 * machine.cores
        ? [`- **Busy machine:** load average ${machine.loadAverage.toFixed(2)} on ${machine.cores} cores — other processes were running, so every number here is low and noisy (PyTorch's 2-thread run suffers most).`]
        : []),
      `- PyTorch: ${'reason' in torch ? `not compared (${torch.reason})` : `${torch.version} (${torch.python}), the fastest of ${opts.torchThreads.join(", ")} thread(s), same architecture, batch, optimizer and MNIST images`}.`,
      '',
      `Training: ${opts.images} images timed after ${opts.warmup} warm-up images, the best of ${opts.rounds} rounds that interleave the engines (the trainer's step: forward, loss, probabilities, gradients, divergence check, optimizer update)` +
        (parallel ? '; "data-parallel" is the same step on this thread and one worker thread (half of each batch each, gradients averaged through shared memory), each engine on one XNNPACK thread; step ms as one engine / data-parallel.' : '.'),
      '',
      markdownTable(rows),
      '',
      `Inference: one image through the drawing pad's path (probabilities and every activation map), measured before any training in the process, ${opts.predictRuns} runs after 20 warm-up runs, with the model on ${predictBackends.length > 1 ? `the engine's backend (${report.name}) and on the renderer's (cpu)` : 'cpu (the renderer\'s backend too)'}.`,
      '',
      markdownTable(predictRows),
      ...(e2eTable ? ['', `End to end: the real Trainer${parallel ? ' on two engines' : ''}, one epoch of ${opts.e2eImages} images, timed from \`new Trainer()\` (model built, engines started) to its last batch, first steps included, evaluation left out; "engine started in the run" starts rank 1's thread inside that time, as the CLI does: the run begins on one engine and rank 1 joins it when ready (the step it joined at in brackets); the other column finds rank 1 started and warmed, as the app's trainer process does before a run; "Trainer's img/s" is the run's own figure (step time only, what the CLI and the Train view report). PyTorch: from building its model to its last step, no warm-up. Best of ${opts.rounds} interleaved rounds.`, '', markdownTable(e2eTable)] : []),
      ...(scaleTable ? ['', `Scaling: the real Trainer${parallel ? ', data-parallel' : ''}, one epoch over the first N training images.`, '', markdownTable(scaleTable)] : []),
      ...(memoryTable ? ['', 'Memory over three epochs: the real Trainer on 20,000 images, RSS and live tensors at each epoch end.', '', markdownTable(memoryTable)] : []),
      '',
      `Memory: peak RSS ${fmt(memory.peakRssMb)} MB; live tensors at the end ${memory.numTensors}.`,
    ];
    // Each mode has its own section: the default (two engines where there are two cores) and --workers 1.
    writeMarkdownSection(opts.markdown, parallel ? 'bench' : 'bench-one-engine', lines.join('\n'));
    say(`wrote ${opts.markdown}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
