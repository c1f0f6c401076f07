#!/usr/bin/env node
// The `lenet-lab` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/lenet-lab.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('lenet-lab: not built yet: run `npm run build` in the lenet-lab folder first\n');
  process.exit(2);
}
// First, before the CLI's modules load: a training run's second engine starts now, on the other core.
const { recordRuntimeThreads, startSecondEngineEarly } = await import(new URL('../dist/cli/early-engine.js', import.meta.url).href);
recordRuntimeThreads(); // before any thread of ours: V8's and Node's own, lowered while a run trains on two engines
startSecondEngineEarly(process.argv.slice(2));
const { runCli, terminalIo } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2), terminalIo);
