// Synchronous data-parallel training on both cores (Node only). One tfjs-wasm engine uses one core,
// so the training loop's own thread (rank 0, with the caller's model) computes the gradients of one
// half of every batch while one worker thread (rank 1, with a copy of the model) computes the other.
// They meet through shared memory only (data-parallel.ts), so a step costs no message and no extra
// thread: the two cores run two engines and nothing else. Both apply the same averaged gradient, so
// the copies stay bit-identical and the run equals one engine's run up to float rounding, with the
// same shuffled order and augmentation draws.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import type { BackendName, Recipe, VariantName } from '../../common/protocol.js';
import { VARIANT_NAMES } from '../../common/names.js';
import type { VariantSpec } from '../../common/network/variants.js';
import { getVariant } from '../../common/network/variants.js';
import { errorMessage } from '../../common/errors.js';
import { compiledWasmModule } from '../backends/ladder.js';
import { adoptSimdModules } from '../backends/wasm-simd.js';
import { Command, Control, DataParallelRank, Numbers, PROTOCOL, createSharedBuffers, meanOfHalves } from './data-parallel.js';
import { parallelWorkerUrl, takeEarlyThread } from './early-thread.js';
import { defaultStepKind, trainableVariables, type Augment, type LocalStepper, type StepKind, type StepOutcome, type Stepper } from './step.js';
import type { HelperSetup, ToCoordinator, ToHelper } from './parallel-worker.js';

export { availableCores, parallelWorkerUrl } from './early-thread.js';

export interface ParallelReport {
  workerTensorCounts: number[][];
  copiesIdentical: boolean | null;
  helperTensorsAfterRun?: number;
  /** A run begun on one engine (JoiningStepper): the step rank 1 joined at, or why it never could. */
  joinedAtStep?: number;
  joinFailure?: string;
}

export interface ParallelStepperOptions {
  /** The training loop's model: rank 0 trains it in place; rank 1 starts from its weights. */
  model: tfl.LayersModel;
  spec: VariantSpec;
  recipe: Recipe;
  split: DataSplit;
  /** Train on the first `count` images of `split`. */
  count: number;
  numClasses: number;
  backend: BackendName;
  /**
   * Filled in as the run goes: both ranks' tensor counts at each sync(), whether both copies matched
   * every time, and rank 1's tensor count once it dropped the run's model.
   */
  report?: ParallelReport;
  /** How both ranks compute gradients (rank 0 decides 'auto'; rank 1 follows it). */
  step?: StepKind;
}

/**
 * Rank 1's thread. It outlives a run: the next run on the same backend reuses it, warm (its JIT and
 * backend ready), instead of starting a thread that runs its first steps at half speed. While idle it
 * does not keep the process alive.
 */
class Helper {
  private readonly messages: ToCoordinator[] = [];
  private readonly waiters: ((m: ToCoordinator) => void)[] = [];
  private gone = false;
  readonly exited: Promise<void>;

  /** `said`: what the thread sent before this took it over (a thread started early). */
  constructor(readonly backend: BackendName, readonly worker: Worker, said: ToCoordinator[] = []) {
    this.messages.push(...said);
    threads.add(this);
    this.exited = new Promise((resolve) => worker.once('exit', () => {
      this.gone = true;
      threads.delete(this);
      if (idle === this) idle = null;
      this.deliver({ type: 'error', message: 'the thread exited' });
      resolve();
    }));
    worker.on('message', (m: ToCoordinator) => this.deliver(m));
    worker.on('error', (e) => this.deliver({ type: 'error', message: errorMessage(e) }));
  }

  get alive(): boolean {
    return !this.gone;
  }

  private deliver(m: ToCoordinator): void {
    if (m.type === 'modules') return void adoptSimdModules(m.simd); // an early thread's (early-thread.ts), taken before its warm-up ended
    const waiter = this.waiters.shift();
    if (waiter) waiter(m);
    else this.messages.push(m);
  }

  /** The next message from the thread; an error message becomes a rejection. */
  async next<T extends ToCoordinator['type']>(type: T): Promise<Extract<ToCoordinator, { type: T }>> {
    const m = this.messages.shift() ?? await new Promise<ToCoordinator>((resolve) => this.waiters.push(resolve));
    if (m.type === 'error') throw new Error(`training thread 1: ${m.message}`);
    if (m.type !== type) throw new Error(`training thread 1 answered '${m.type}', expected '${type}'`);
    return m as Extract<ToCoordinator, { type: T }>;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}

const threads = new Set<Helper>();
let idle: Helper | null = null;

/** Rank 1 threads alive (busy in a run or idle, waiting for the next). */
export const liveParallelThreads = (): number => threads.size;
/** Rank 1 threads in a run right now (0 whenever no parallel run is in progress). */
export const busyParallelThreads = (): number => [...threads].filter((t) => t !== idle).length;

/** Ends the idle rank 1 thread, if any (an idle one never keeps the process alive; tests end it to start cold). */
export async function endParallelThreads(): Promise<void> {
  const helper = idle;
  idle = null;
  await helper?.terminate();
}

/** A rank 1 thread being started ahead of a run by warmParallelEngine. */
let starting: { backend: BackendName; helper: Promise<Helper> } | null = null;

/**
 * A rank 1 thread with `backend` loaded (and `warmUp`'s variants warmed): the one started early
 * (early-thread.ts) if it runs `backend`, else a new one. A thread built from other sources (a dist/ older
 * than the code running here) is ended and refused: its shared memory would not match. Exported for tests,
 * which start a stand-in build (`url`; never the early thread).
 */
export async function startHelper(backend: BackendName, warmUp: VariantName[] = [], url?: URL): Promise<Helper> {
  const early = url ? null : takeEarlyThread(backend);
  const wasmModule = backend === 'wasm' ? compiledWasmModule() : undefined;
  url ??= parallelWorkerUrl();
  const helper = early ? new Helper(backend, early.worker, early.messages) : new Helper(backend, new Worker(url, {
    workerData: { backend, ...(wasmModule ? { wasmModule } : {}), warmUp } satisfies HelperSetup,
  }));
  try {
    const { protocol } = await helper.next('backend');
    if (protocol !== PROTOCOL) throw new Error(`the compiled training thread ${fileURLToPath(url)} is out of date (another shared-memory layout): run npm run build:node`);
  } catch (e) {
    await helper.terminate(); // a failed start leaves no thread behind
    throw e;
  }
  return helper;
}

/** A rank 1 thread with `backend` loaded: the one being started or the idle one if it matches, else a new one. */
async function takeHelper(backend: BackendName): Promise<Helper> {
  if (starting) await starting.helper.catch(() => undefined);
  const reusable = idle;
  idle = null;
  if (reusable?.alive && reusable.backend === backend) {
    reusable.worker.ref();
    return reusable;
  }
  await reusable?.terminate();
  return startHelper(backend);
}

/**
 * Starts rank 1's thread now, ahead of any run, and warms its JIT and backend on `variants` (warm-up.ts),
 * so that the first run finds it ready: the app's trainer process calls this when it starts, the CLI as
 * soon as its backend is up. The thread then waits idle (not keeping the process alive). Resolves once it
 * is ready; a thread that cannot start is reported here and tried again by the run itself.
 */
export async function warmParallelEngine(backend: BackendName, variants: VariantName[] = [...VARIANT_NAMES]): Promise<void> {
  if (starting?.backend === backend) return void await starting.helper;
  if (idle?.alive && idle.backend === backend) return;
  const helper = startHelper(backend, variants);
  starting = { backend, helper };
  try {
    const ready = await helper;
    // Idle before anything else can run: a run waiting in takeHelper takes it next.
    const previous = idle;
    idle = ready;
    ready.worker.unref();
    if (previous && previous !== ready) await previous.terminate(); // at most one idle thread
  } finally {
    if (starting?.helper === helper) starting = null;
  }
}

/**
 * Starts rank 1's thread for a run about to begin (the CLI, where the process is the run): the run begins on
 * this thread at once and the thread joins it when ready (JoiningStepper), after 30 warm-up steps on `variant`
 * (joining cold instead measured the same end to end: BENCHMARKS.md; warm, the pair's steps are even).
 */
export function startEngineForRun(backend: BackendName, variant: VariantName): void {
  warmParallelEngine(backend, [variant]).catch(() => undefined); // a failure is the run's to report
}

/** The Trainer's step on both cores: this thread takes the first half of each batch, a worker thread the rest. */
export class ParallelStepper implements Stepper {
  readonly layerNames: string[];
  /** Which step computes the gradients, on both ranks. */
  readonly kind: 'direct' | 'tape';
  private sentOrder: Uint32Array | null = null;
  private sequence = 0;
  private syncedAt = -1;
  private learningRate: number;

  private constructor(private readonly rank: DataParallelRank, private readonly helper: Helper,
    private readonly options: ParallelStepperOptions) {
    this.layerNames = rank.updater.layerNames;
    this.kind = rank.gradients.kind;
    this.learningRate = rank.updater.learningRate;
  }

  /**
   * Both engines from the next step on. `continues`: the run so far trained on this thread alone; rank 0 carries
   * on with its optimizer and rank 1 starts from its weights and state. `helper`: rank 1's thread, if already taken.
   */
  static async start(options: ParallelStepperOptions, continues?: LocalStepper, helper?: Helper): Promise<ParallelStepper> {
    const { model, spec, recipe, split, count, numClasses, backend } = options;
    if (getVariant(spec.name) !== spec) throw new Error(`parallel training needs a registered variant; '${spec.name}' was changed after registration`);
    const variables = trainableVariables(model);
    const parameters = variables.reduce((sum, v) => sum + v.size, 0);
    const shared = createSharedBuffers(split, count, parameters, recipe.batchSize);
    const rank = new DataParallelRank(0, model, spec, recipe, split, numClasses, shared, options.step ?? defaultStepKind(), continues);
    const thread = helper ?? await takeHelper(backend);
    try {
      thread.worker.postMessage({
        type: 'run',
        setup: {
          variant: spec.name, recipe, numClasses, shared, weights: variables.map((v) => Float32Array.from(v.dataSync())), step: rank.gradients.kind,
          ...(continues ? { state: rank.updater.state() } : {}),
        },
      } satisfies ToHelper);
      await thread.next('ready');
    } catch (e) {
      await thread.terminate();
      throw e;
    }
    return new ParallelStepper(rank, thread, options);
  }

  /** Publishes a command for rank 1 and wakes it. */
  private command(command: number): number {
    const { control } = this.rank;
    const sequence = ++this.sequence;
    control[Control.Command] = command;
    Atomics.store(control, Control.Sequence, sequence);
    Atomics.notify(control, Control.Sequence);
    return sequence;
  }

  step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome {
    const { rank } = this;
    if (order !== this.sentOrder) {
      rank.order.set(order.subarray(0, rank.order.length));
      this.sentOrder = order;
    }
    const n = end - start;
    // The same draws, in the same order, as BatchMaker.make on the whole batch: two per image.
    const draws = augment ? Float64Array.from({ length: 2 * n }, () => augment.random()) : null;
    const firstHalf = Math.ceil(n / 2);
    const { control, numbers } = rank;
    control[Control.Start] = start + firstHalf;
    control[Control.End] = end;
    numbers[Numbers.LearningRate] = this.learningRate;
    numbers[Numbers.MaxShift] = augment?.maxShift ?? 0;
    if (draws) numbers.set(draws.subarray(2 * firstHalf), Numbers.Draws);
    const sequence = this.command(Command.Step);
    try {
      rank.computeHalf(sequence, start, start + firstHalf, draws, augment?.maxShift ?? 0);
    } catch (e) {
      rank.fail(errorMessage(e));
      throw e;
    }
    rank.arrive(sequence);
    const { loss, correct, fault, norms } = rank.combine(sequence, wantNorms);
    return { loss, correct, fault, ...(norms ? { norms } : {}) };
  }

  /** The model is trained in place; this checks (and reports) that rank 1's copy still equals it. */
  sync(): void {
    if (this.syncedAt === this.sequence) return;
    const sequence = this.command(Command.Weights);
    this.syncedAt = sequence;
    this.rank.arrive(sequence);
    const theirs = this.rank.published(sequence);
    const report = this.options.report;
    if (report) {
      report.workerTensorCounts.push([tf.memory().numTensors, theirs.tensors]);
      report.copiesIdentical = (report.copiesIdentical ?? true) && bitEqual(this.rank.updater.readFlat(), theirs.weights);
    }
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
    this.rank.updater.setLearningRate(learningRate);
  }

  /**
   * Ends the run. Rank 1 drops its model and waits, idle, for the next run; a thread that failed
   * (or does not answer) is ended instead. After this resolves no training thread is busy.
   */
  async dispose(): Promise<void> {
    const { helper } = this;
    if (!helper.alive) return;
    if (Atomics.load(this.rank.control, Control.Failed) === 0) {
      this.command(Command.End);
      try {
        const ended = await Promise.race([helper.next('ended'), new Promise<null>((resolve) => setTimeout(resolve, END_TIMEOUT_MS, null).unref())]);
        if (ended) {
          if (this.options.report) this.options.report.helperTensorsAfterRun = ended.tensors;
          await parkIdle(helper);
          return;
        }
      } catch { /* it failed while ending: end it */ }
    }
    await helper.terminate();
  }
}

/**
 * Two engines for a run whose second thread is not ready yet (the CLI starts it with the run; it takes
 * 0.5–1 s): this thread trains alone from the first step, and rank 1 joins at the first step boundary after
 * it is ready, with the weights and the optimizer's state of that moment. Alone, this thread computes each
 * batch as the two ranks would, half by half, and averages the halves with their arithmetic: its code and
 * caches are warm for the half-batch when rank 1 joins, and the run's weights do not depend on when that
 * was. A thread that cannot start leaves the run on one engine (the reason in the report's `joinFailure`).
 */
export class JoiningStepper implements Stepper {
  private parallel: ParallelStepper | null = null;
  private ready: Helper | null = null;
  private readonly taking: Promise<void>;
  private readonly halves: Float32Array[];
  private readonly mean: Float32Array;
  private steps = 0;
  /** Why rank 1 cannot join, until the next step says so (a thread can fail before the run has started). */
  private failure: string | null = null;

  /** `joined`: told once, when rank 1 joins (from step `step` on) or cannot (`failure`, after `step` steps). */
  constructor(private readonly local: LocalStepper, private readonly options: ParallelStepperOptions,
    private readonly joined: (outcome: { step: number; failure?: string }) => void = () => undefined,
    helper: Promise<Helper> = takeHelper(options.backend)) {
    this.taking = helper.then(
      (h) => void (this.ready = h),
      (e: unknown) => this.failed(e),
    );
    const size = local.updater.size;
    this.halves = [new Float32Array(size), new Float32Array(size)];
    this.mean = new Float32Array(size);
  }

  get layerNames(): string[] {
    return this.local.layerNames;
  }

  step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome | Promise<StepOutcome> {
    if (this.parallel) return this.parallel.step(order, start, end, augment, wantNorms);
    if (this.failure !== null) {
      this.joined({ step: this.steps, failure: this.failure });
      this.failure = null;
    }
    this.steps++;
    const helper = this.ready;
    if (!helper) return this.stepAlone(order, start, end, augment, wantNorms);
    this.ready = null;
    return ParallelStepper.start(this.options, this.local, helper).then(
      (parallel) => {
        this.parallel = parallel;
        if (this.options.report) this.options.report.joinedAtStep = this.steps;
        this.joined({ step: this.steps });
        return parallel.step(order, start, end, augment, wantNorms);
      },
      (e: unknown) => {
        this.failed(e);
        return this.stepAlone(order, start, end, augment, wantNorms);
      },
    );
  }

  private failed(e: unknown): void {
    this.failure = errorMessage(e);
    if (this.options.report) this.options.report.joinFailure = this.failure;
  }

  /** Both ranks' work on this thread: the halves' gradients one after the other (the same draws, in order), one update. */
  private stepAlone(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome {
    const { gradients, updater } = this.local;
    const middle = start + Math.ceil((end - start) / 2);
    const halves = [[start, middle], [middle, end]]
      .map(([from, to], i) => ({ n: to! - from!, slot: this.halves[i]!, ...(to! > from! ? gradients.compute(order, from!, to!, augment, this.halves[i]!) : { loss: 0, correct: 0 }) }))
      .filter((h) => h.n > 0);
    const total = end - start;
    const loss = halves.reduce((sum, h) => sum + h.loss * (h.n / total), 0);
    meanOfHalves(halves, total, this.mean, 0, this.mean.length);
    const { fault, norms } = updater.update(loss, this.mean, wantNorms);
    const correct = halves.reduce((sum, h) => sum + h.correct, 0);
    return { loss, correct: fault ? 0 : correct, fault, ...(norms ? { norms } : {}) };
  }

  sync(): void {
    this.parallel?.sync();
  }

  setLearningRate(learningRate: number): void {
    (this.parallel ?? this.local).setLearningRate(learningRate);
  }

  /** Ends the run (saying why rank 1 never joined, if it failed); a rank 1 that never joined is kept idle for the next run once it is ready. */
  async dispose(): Promise<void> {
    if (this.parallel) return this.parallel.dispose();
    await this.taking; // a thread still starting is waited for, then kept idle below
    if (this.failure !== null) this.joined({ step: this.steps, failure: this.failure });
    const helper = this.ready;
    this.ready = null;
    if (helper) await parkIdle(helper);
  }
}

/** Keeps `helper` as the one idle thread, waiting for the next run without keeping the process alive. */
async function parkIdle(helper: Helper): Promise<void> {
  await endParallelThreads(); // at most one idle thread
  idle = helper;
  helper.worker.unref();
}

/** Whether a rank 1 thread on `backend` waits idle, ready for a run (else a run's rank 1 would have to start or finish starting). */
export const parallelEngineReady = (backend: BackendName): boolean => !!idle?.alive && idle.backend === backend && !starting;

/** How long a run's end may take before the thread is ended instead of kept. */
const END_TIMEOUT_MS = 5000;

function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
