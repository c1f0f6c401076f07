#!/usr/bin/env node
// `npm run mutation [-- target…]`: Stryker mutation testing, one folder at a time. A measurement like the
// benchmarks, not part of `npm test`. Each target mutates one folder and runs only the unit test files that
// exercise it; incremental mode keeps each target's results in reports/mutation/, so a re-run tests only
// the mutants whose code or covering tests changed. TESTING.md records the scores.
//
//   npm run mutation -- data            one target (several: data io)
//   LENET_MUTATION=data npm run mutation   the same, from the environment
//   npm run mutation -- --list          the targets
//   LENET_MUTATION_CONCURRENCY=2        test runners at once (default 1: the machine is shared)
//   LENET_MUTATION_FORCE=1              ignore the incremental results and test every mutant again
//   LENET_MUTATION_FILES=engine/data/idx.ts   mutate only these files (globs, comma-separated) of the target
//   LENET_MUTATION_TESTS=idx,boundaries       run only these unit test files (names without .test.ts)
//   LENET_MUTATION_STATIC=1             also test the mutants run at load or in a beforeAll, each with every test
//                                       file (a fresh process each: worth it only with fast files)
// While a target runs, `node tests/mutation/progress.mjs <target> --survivors` shows its counts and survivors so far.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const unit = (...names) => names.map((n) => `tests/unit/${n}.test.ts`);
const integration = (...names) => names.map((n) => `tests/integration/${n}.test.ts`);

/**
 * Each target: the files it mutates, and the fast unit test files that exercise them (the slow ones that
 * train, such as faults.test.ts, would make each target take hours on two cores).
 */
export const TARGETS = {
  data: {
    mutate: ['engine/data/**/*.ts'],
    tests: unit('idx', 'idx-files', 'data-refusals', 'dataset-mnist-missing', 'image-file', 'boundaries', 'batches'),
  },
  io: {
    mutate: ['engine/io/**/*.ts'],
    tests: unit('io-refusals', 'io-fs-faults', 'model-store', 'model-file', 'atomic-file', 'atomic-folder', 'boundaries', 'oracle-durability', 'standard-format'),
  },
  // training and hosts run in parts: each group of files with the tests written for it. A mutant runs only the
  // tests that cover it, but a slow test that merely passes through a file (direct-step's two-epoch
  // comparisons go through trainer.ts) would run for every mutant of that file.
  training: {
    mutate: ['engine/training/**/*.ts', '!engine/training/parallel-worker.ts'],
    tests: unit('trainer-loop', 'training-controls', 'training-run', 'batches', 'optimizers', 'direct-step'),
    parts: {
      // trainer-loop runs the loop's controls and bookkeeping in seconds (one engine, 70 synthetic digits);
      // training-controls, the same on MNIST and two engines, takes minutes per mutant here.
      control: {
        mutate: ['engine/training/trainer.ts', 'engine/training/evaluate.ts'],
        // trainer-engines replaces the second engine (a thread) with a stand-in; evaluate checks against plain loops.
        // runtime-threads: when a run lowers V8's threads (a spy for setpriority; two engines for real).
        tests: [...unit('trainer-loop', 'trainer-engines', 'evaluate'), ...integration('runtime-threads')],
      },
      run: {
        mutate: ['engine/training/run.ts', 'engine/training/recipe.ts', 'engine/training/warm-up.ts', 'engine/training/runtime-threads.ts'],
        tests: unit('training-run', 'boundaries', 'warm-up', 'runtime-threads'),
      },
      step: {
        mutate: ['engine/training/step.ts', 'engine/training/optimizers.ts', 'engine/training/batches.ts'],
        // step: the divergence check and one batch against plain loops (no run); step-wasm: the in-place write on
        // wasm (XNNPACK's packed filters); data-parallel: a rank's share of an update. training-controls (MNIST
        // runs, ~75 s for every mutant a step touches) is left out.
        tests: unit('step', 'step-wasm', 'optimizers', 'batches', 'data-parallel', 'trainer-loop', 'trainer-engines'),
      },
      direct: { mutate: ['engine/training/direct-step.ts'], tests: unit('direct-step', 'activation-grad', 'direct-step-layers') },
      parallel: {
        mutate: ['engine/training/parallel-trainer.ts', 'engine/training/data-parallel.ts', 'engine/training/early-thread.ts'],
        // data-parallel runs both ranks' side of the exchange from the sources (rank 1's thread runs dist/);
        // early-thread-files mocks the file system to find (or miss) the compiled thread.
        tests: [...unit('data-parallel', 'early-thread-files', 'parallel-thread', 'shared-buffers'), ...integration('parallel-trainer', 'joining-stepper', 'early-thread')],
      },
    },
  },
  hosts: {
    // The entry points (serve-cli, worker-entry's process wiring) are run by tests/e2e and the integration tier.
    mutate: ['hosts/**/*.ts'],
    tests: [...unit('oracle-security', 'browser-server', 'browser-server-paths', 'node-worker', 'ipc-fuzz', 'oracle-contract', 'electron-ipc', 'electron-trainer-process', 'lab-service', 'host-setup', 'link', 'run-record'), ...integration('browser-server')],
    parts: {
      server: {
        mutate: ['hosts/browser-server.ts', 'hosts/content-types.ts', 'hosts/node-worker.ts'],
        // unit/browser-server: the same server with an in-process worker stand-in (events, backlog, headers, logs) in ~2 s.
        tests: [...unit('oracle-security', 'browser-server', 'browser-server-paths', 'node-worker'), ...integration('browser-server')],
      },
      service: {
        mutate: ['hosts/lab-service.ts', 'hosts/history-csv.ts', 'hosts/app-paths.ts'],
        // lab-service-classroom covers the classroom channels (history, snapshots, CSVs, export/import, recovery,
        // a run's bookkeeping) in ~3 s on hand-made models and 16-digit runs; classroom-service, the same end to
        // end on MNIST runs, costs about half a minute a mutant it covers.
        tests: unit('lab-service-classroom', 'lab-service-recovery-race', 'lab-service', 'lab-service-warm-up', 'run-record', 'app-paths', 'classroom-service'),
      },
      // worker-entry.ts and serve-cli.ts are process entry points (they run on import and exit the process): the
      // integration and e2e tiers run them as processes from dist/, where no mutant is ever active.
      link: {
        mutate: ['hosts/host-handler.ts', 'hosts/host-setup.ts', 'hosts/worker-link.ts'],
        tests: unit('ipc-fuzz', 'oracle-contract', 'electron-ipc', 'electron-trainer-process', 'host-setup', 'link', 'host-handler', 'worker-link'),
      },
    },
  },
  cli: {
    mutate: ['cli/**/*.ts'],
    tests: unit('cli-commands', 'cli-help', 'cli-conv', 'model-file', 'hostile-input', 'training-controls', 'boundaries', 'early-engine'),
    // Each part with the test files written for it: training through the CLI stays tiny (--limit 64, one engine).
    parts: {
      entry: { mutate: ['cli/lenet-lab.ts', 'cli/model-file-command.ts', 'cli/early-engine.ts'], tests: unit('cli-help', 'cli-commands', 'model-file', 'early-engine') },
      // training-controls: the CLI's exit code after a divergence, and Ctrl-C during start-up.
      commands: { mutate: ['cli/commands.ts'], tests: unit('cli-commands', 'training-controls') },
      conv: { mutate: ['cli/conv-command.ts'], tests: unit('cli-conv', 'cli-commands', 'cli-help') },
    },
  },
  backends: {
    mutate: ['engine/backends/**/*.ts'],
    tests: unit('kernels', 'simd-modules'),
    parts: {
      // The convolution loops (wasm-simd.ts) and their routing (wasm-kernels.ts): kernels.test.ts checks them on
      // their own memory against plain loops, and through the registered kernels against the cpu backend's own.
      conv: { mutate: ['engine/backends/wasm-simd.ts', 'engine/backends/wasm-kernels.ts'], tests: unit('kernels') },
    },
  },
  common: {
    mutate: ['common/**/*.ts'],
    tests: unit('preprocess', 'preprocess-edges', 'ipc-fuzz', 'oracle-contract', 'boundaries', 'initial-values', 'variants', 'wire', 'kernels'),
  },
};

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const [name, t] of Object.entries(TARGETS)) {
    console.log(`${name.padEnd(9)} ${t.mutate.join(' ')}`);
    for (const [part, p] of Object.entries(t.parts ?? {})) console.log(`  ${name}:${part}`.padEnd(20) + p.mutate.join(' '));
  }
  process.exit(0);
}
const requested = args.length ? args : (process.env.LENET_MUTATION ?? '').split(/[\s,]+/).filter(Boolean);
const names = requested.length ? requested : Object.keys(TARGETS);
// "training" runs every part of a target that has parts, one after the other; "training:control" one part.
const runs = names.flatMap((n) => {
  const [name, part] = n.split(':');
  const target = TARGETS[name];
  if (!target) return [{ label: n }];
  if (!target.parts) return part ? [{ label: n }] : [{ label: name, ...target }];
  const parts = part ? [part] : Object.keys(target.parts);
  return parts.map((p) => (target.parts[p] ? { label: `${name}-${p}`, vitestConfig: 'tests/mutation/vitest.config.ts', tight: true, ...target.parts[p] } : { label: n }));
});
const unknown = runs.filter((r) => !r.mutate).map((r) => r.label);
if (unknown.length) {
  console.error(`mutation: unknown target ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

const { Stryker } = await import('@stryker-mutator/core');
const reports = path.join(root, 'reports', 'mutation');
mkdirSync(reports, { recursive: true });
const concurrency = Number(process.env.LENET_MUTATION_CONCURRENCY ?? 1);
const scores = [];
for (const target of runs) {
  const name = target.label;
  console.log(`\n== mutation: ${name} (${target.mutate.join(' ')}) ==`);
  process.env.LENET_MUTATION_PROGRESS_FILE = path.join(reports, `${name}-progress.jsonl`);
  const stryker = new Stryker({
    testRunner: 'vitest',
    vitest: { configFile: target.vitestConfig ?? 'vitest.config.ts', related: false },
    testFiles: (process.env.LENET_MUTATION_TESTS ? process.env.LENET_MUTATION_TESTS.split(',').map((n) => (n.includes('/') ? `tests/${n}.test.ts` : `tests/unit/${n}.test.ts`)) : target.tests)
      .filter((f) => existsSync(path.join(root, f))),
    mutate: process.env.LENET_MUTATION_FILES ? process.env.LENET_MUTATION_FILES.split(',') : target.mutate,
    coverageAnalysis: 'perTest',
    // Mutants run at module load only (constants, tables) need a fresh process each: slow, and the
    // constants that matter are pinned by literal tables anyway.
    // A mutant run both in a beforeAll (a service created there) and in a test is "hybrid": with ignoreStatic
    // Stryker runs it against that test only, so one the other tests would kill can survive.
    ignoreStatic: process.env.LENET_MUTATION_STATIC !== '1',
    incremental: true,
    // One incremental file per target; it keeps the files of its last run (a narrowed run keeps only those).
    incrementalFile: path.join(reports, `${name}-incremental.json`),
    force: process.env.LENET_MUTATION_FORCE === '1',
    concurrency,
    // Parts (tight): a mutant that hangs (a removed wake-up) is called a Timeout 5 s past 1.5× its tests' time.
    timeoutMS: target.tight ? 5_000 : 20_000,
    timeoutFactor: target.tight ? 1.5 : 2,
    dryRunTimeoutMinutes: 20,
    plugins: ['@stryker-mutator/*', fileURLToPath(new URL('./progress-reporter.mjs', import.meta.url))],
    reporters: ['clear-text', 'progress-append-only', 'html', 'json', 'lenet-progress'],
    htmlReporter: { fileName: path.join(reports, `${name}.html`) },
    jsonReporter: { fileName: path.join(reports, `${name}.json`) },
    clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
    tempDirName: `.stryker-tmp/${name}`,
    cleanTempDir: true,
    // .stryker-tmp: another target's sandbox, when two targets run at once.
    ignorePatterns: ['release', 'release-e2e', 'test-results', 'reports', '.scratch', 'bench/results', '.stryker-tmp'],
    thresholds: { high: 80, low: 60, break: null },
  });
  const results = await stryker.runMutationTest();
  const counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 };
  for (const r of results) {
    if (r.status === 'Killed') counts.killed++;
    else if (r.status === 'Timeout') counts.timeout++;
    else if (r.status === 'Survived') counts.survived++;
    else if (r.status === 'NoCoverage') counts.noCoverage++;
    else counts.other++;
  }
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  scores.push({ name, score: valid ? (100 * detected) / valid : NaN, ...counts });
}
console.log('\ntarget     score   killed timeout survived no-cov ignored/errors');
for (const s of scores) {
  console.log(`${s.name.padEnd(10)} ${s.score.toFixed(1).padStart(5)}%  ${String(s.killed).padStart(6)} ${String(s.timeout).padStart(7)} ${String(s.survived).padStart(8)} ${String(s.noCoverage).padStart(6)} ${String(s.other).padStart(6)}`);
}
