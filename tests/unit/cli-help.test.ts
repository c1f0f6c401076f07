// The help a student reads: every command's and every option's description, as literal text (commander wraps
// lines to the terminal's width, so whitespace is compared collapsed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Io } from '../../cli/commands.js';
import { runCli } from '../../cli/lenet-lab.js';

const HELP: Record<string, string> = {
  "": "Usage: lenet-lab [options] [command] Train LeNet-5 on MNIST and look inside it. Works offline. Options: -V, --version output the version number -h, --help display help for command Commands: train [options] train a LeNet-5 variant and save the model eval [options] test accuracy, loss and confusion matrix of a model predict [options] <files...> read the digit in PNG or JPEG files, preprocessed like the drawing pad info [options] backend, versions and dataset location conv [options] one convolution of a test digit (standard, depthwise separable, transposed or dilated): numbers, sizes and counts export [options] write a saved model as one .lenetlab file, to copy to another PC import [options] <file> check a .lenetlab file like a model folder and save it as a new model help [command] display help for command",
  "train": "Usage: lenet-lab train [options] train a LeNet-5 variant and save the model Options: --variant <name> which network (choices: \"lenet5\", \"seed\", \"modern\", \"linear\", \"lenet1\", \"lenet4\") --epochs <n> passes over the training set --batch <n> images per step --lr <x> learning rate --momentum <x> SGD momentum --optimizer <name> optimizer (choices: \"sgd\", \"adam\") --lr-decay <x> multiply the learning rate by this after each epoch --augment-shift <px> shift each training digit by up to this many pixels (0–2; 0 = off) --limit <n> train on the first N training images --test-limit <n> evaluate on the first N test images --seed <n> random seed, for a reproducible run on the same backend --backend <name> force a backend instead of the fastest that loads (choices: \"tensorflow\", \"wasm\", \"cpu\") --workers <n> training engines: 2 trains data-parallel on two cores, the same run up to float rounding (default: 2 where there are two cores, 1 on tfjs-node) (choices: \"1\", \"2\") --data <dir> a folder of IDX files (train-images-idx3-ubyte, …) instead of MNIST --out <dir> where to save the trained model --json one JSON object per line on stdout -h, --help display help for command",
  "eval": "Usage: lenet-lab eval [options] test accuracy, loss and confusion matrix of a model Options: --model <dir> model folder (default: the shipped modern model) --data <dir> a folder of IDX files (default: the data the model was trained on) --limit <n> evaluate on the first N test images --backend <name> force a backend instead of the fastest that loads (choices: \"tensorflow\", \"wasm\", \"cpu\") --json one JSON object on stdout -h, --help display help for command",
  "predict": "Usage: lenet-lab predict [options] <files...> read the digit in PNG or JPEG files, preprocessed like the drawing pad Arguments: files image files Options: --model <dir> model folder (default: the shipped modern model) --backend <name> force a backend instead of the fastest that loads (choices: \"tensorflow\", \"wasm\", \"cpu\") --json one JSON object per file on stdout -h, --help display help for command",
  "info": "Usage: lenet-lab info [options] backend, versions and dataset location Options: --backend <name> force a backend instead of the fastest that loads (choices: \"tensorflow\", \"wasm\", \"cpu\") --json one JSON object on stdout -h, --help display help for command",
  "conv": "Usage: lenet-lab conv [options] one convolution of a test digit (standard, depthwise separable, transposed or dilated): numbers, sizes and counts Options: --kind <kind> which convolution (choices: \"standard\", \"depthwise-separable\", \"transposed\", \"dilated\") --kernel-size <K> K×K kernels (default 5, as in LeNet-5) --stride <S> step of the window (default 1; 2 for transposed) --padding <P> valid, same or a number of zero pixels on each side (default valid) --dilation <D> spacing of the kernel taps (default 2 for dilated, else 1) --filters <F> output channels (default 6 like C1; 16 like C3 for depthwise separable) --digit <N> test digit number N of the MNIST test set (default 0) --image <file> a PNG or JPEG of a digit instead, read like the drawing pad --seed <N> seed of the random kernels (default 0) --out <file> write the output maps as one PNG sheet (blue negative, white zero, red positive) --json one JSON object on stdout: settings, counts, input, weights, bias and output (row-major HWC) -h, --help display help for command",
  "export": "Usage: lenet-lab export [options] write a saved model as one .lenetlab file, to copy to another PC Options: --model <dir> model folder --out <file> the file to write (ends in .lenetlab) --json one JSON object on stdout -h, --help display help for command",
  "import": "Usage: lenet-lab import [options] <file> check a .lenetlab file like a model folder and save it as a new model Arguments: file a .lenetlab file Options: --name <name> the new model's name (default: the name inside the file) --models <dir> the models folder (default: LENET_LAB_MODELS_DIR or ~/.lenet-lab/models, as `npm run serve` uses) --json one JSON object on stdout -h, --help display help for command",
};

describe('--help', () => {
  it.each(Object.keys(HELP))('lenet-lab %s --help', async (command) => {
    let text = '';
    const io: Io = { out: (line) => (text += line + '\n'), log: (t) => (text += t), interactive: false };
    const code = await runCli([...(command ? [command] : []), '--help'], io);
    expect(code).toBe(0);
    expect(text.split(/\s+/).filter(Boolean).join(' ')).toBe(HELP[command]);
  });
});

describe('the terminal', () => {
  it('results go to stdout one line each; progress goes to stderr as it is', async () => {
    const { terminalIo } = await import('../../cli/lenet-lab.js');
    const written: [string, string][] = [];
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => { written.push(['stdout', chunk]); return true; }) as typeof process.stdout.write),
      vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => { written.push(['stderr', chunk]); return true; }) as typeof process.stderr.write),
    ];
    try {
      terminalIo.out('7 (99.00%)');
      terminalIo.log('epoch 1/2');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(written).toEqual([['stdout', '7 (99.00%)\n'], ['stderr', 'epoch 1/2']]);
    expect(terminalIo.interactive).toBe(Boolean(process.stderr.isTTY));
  });
});

describe('internal errors and defaults', () => {
  it('a thrown value that is not an Error, or an Error without a stack, is printed without one (exit 1)', async () => {
    for (const thrown of ['stdout closed', Object.assign(new Error('stdout closed'), { stack: undefined })]) {
      let err = '';
      const io: Io = { out: () => { throw thrown; }, log: (t) => (err += t), interactive: false };
      expect(await runCli(['info'], io)).toBe(1);
      expect(err).toBe('lenet-lab: internal error: stdout closed\n\n');
    }
  });

  it('import\'s models folder: LENET_LAB_MODELS_DIR, else ~/.lenet-lab/models', async () => {
    const { defaultModelsDir } = await import('../../cli/model-file-command.js');
    const saved = process.env.LENET_LAB_MODELS_DIR;
    try {
      process.env.LENET_LAB_MODELS_DIR = '/srv/class-models';
      expect(defaultModelsDir()).toBe('/srv/class-models');
      process.env.LENET_LAB_MODELS_DIR = '';
      expect(defaultModelsDir()).toBe(path.join(os.homedir(), '.lenet-lab', 'models'));
    } finally {
      if (saved === undefined) delete process.env.LENET_LAB_MODELS_DIR;
      else process.env.LENET_LAB_MODELS_DIR = saved;
    }
  });
});

describe('export refusals carry their code', () => {
  it('an --out without .lenetlab is an invalid request; an --out that is a folder is a bad file', async () => {
    const { exportCommand } = await import('../../cli/model-file-command.js');
    const io: Io = { out: () => {}, log: () => {}, interactive: false };
    const linear = path.resolve('assets/models/linear');
    await expect(exportCommand({ model: linear, out: 'model.zip' }, io))
      .rejects.toMatchObject({ code: 'invalid-request', message: '--out must end in .lenetlab, got "model.zip"' });
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-export-')) + '.lenetlab';
    fs.mkdirSync(folder);
    try {
      await expect(exportCommand({ model: linear, out: folder }, io))
        .rejects.toMatchObject({ code: 'bad-file', message: `cannot write ${folder}: it is not a regular file` });
      const unwritable = path.join(folder, 'missing', 'm.lenetlab');
      await expect(exportCommand({ model: linear, out: unwritable }, io))
        .rejects.toMatchObject({ code: 'bad-file', message: expect.stringMatching(new RegExp(`^cannot write ${unwritable.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)) });
    } finally {
      fs.rmSync(folder, { recursive: true });
      fs.rmSync(folder.slice(0, -'.lenetlab'.length), { recursive: true });
    }
  });

  it('an export leaves no tensors behind', async () => {
    const { exportCommand } = await import('../../cli/model-file-command.js');
    const tf = await import('@tensorflow/tfjs-core');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-export-'));
    const io: Io = { out: () => {}, log: () => {}, interactive: false };
    try {
      await exportCommand({ model: path.resolve('assets/models/linear'), out: path.join(dir, 'a.lenetlab') }, io);
      const before = tf.memory().numTensors;
      await exportCommand({ model: path.resolve('assets/models/linear'), out: path.join(dir, 'b.lenetlab') }, io);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
