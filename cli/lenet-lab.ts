// `lenet-lab`: train, evaluate and query LeNet-5 from a terminal.
// User errors (bad flags, missing or corrupt files) exit 2 with one line, no stack.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { errorMessage, isUserError } from '../common/errors.js';
import { BACKEND_NAMES, VARIANT_NAMES } from '../common/protocol.js';
import { appVersion } from '../hosts/app-paths.js';
import { evalCommand, infoCommand, predictCommand, trainCommand, type Io } from './commands.js';
import { registerConvCommand } from './conv-command.js';

const integer = (name: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
};
const decimal = (name: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
  return n;
};

export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('lenet-lab')
    .description('Train LeNet-5 on MNIST and look inside it. Works offline.')
    .version(appVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.log(s) });

  const backend = new Option('--backend <name>', 'force a backend instead of the fastest that loads').choices([...BACKEND_NAMES]);

  program.command('train')
    .description('train a LeNet-5 variant and save the model')
    .addOption(new Option('--variant <name>', 'which network').choices([...VARIANT_NAMES]).makeOptionMandatory())
    .option('--epochs <n>', 'passes over the training set', integer('--epochs', 1))
    .option('--batch <n>', 'images per step', integer('--batch', 1))
    .option('--lr <x>', 'learning rate', decimal('--lr'))
    .option('--momentum <x>', 'SGD momentum', decimal('--momentum'))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam']))
    .option('--lr-decay <x>', 'multiply the learning rate by this after each epoch', decimal('--lr-decay'))
    .option('--augment-shift <px>', 'shift each training digit by up to this many pixels (0–2; 0 = off)', integer('--augment-shift', 0))
    .option('--limit <n>', 'train on the first N training images', integer('--limit', 1))
    .option('--test-limit <n>', 'evaluate on the first N test images', integer('--test-limit', 1))
    .option('--seed <n>', 'random seed, for a reproducible run on the same backend', integer('--seed', 0))
    .addOption(backend)
    .addOption(new Option('--workers <n>', 'training engines: 2 trains data-parallel on two cores, the same run up to float rounding (default: 2 where there are two cores, 1 on tfjs-node)')
      .choices(['1', '2']).argParser((value) => {
        if (value !== '1' && value !== '2') throw new InvalidArgumentError(`--workers must be 1 or 2, got "${value}"`);
        return Number(value);
      }))
    .option('--data <dir>', 'a folder of IDX files (train-images-idx3-ubyte, …) instead of MNIST')
    .requiredOption('--out <dir>', 'where to save the trained model')
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags) => trainCommand(flags, io));

  program.command('eval')
    .description('test accuracy, loss and confusion matrix of a model')
    .option('--model <dir>', 'model folder (default: the shipped modern model)')
    .option('--data <dir>', 'a folder of IDX files (default: the data the model was trained on)')
    .option('--limit <n>', 'evaluate on the first N test images', integer('--limit', 1))
    .addOption(backend)
    .option('--json', 'one JSON object on stdout')
    .action(async (flags) => evalCommand(flags, io));

  program.command('predict')
    .description('read the digit in PNG or JPEG files, preprocessed like the drawing pad')
    .argument('<files...>', 'image files')
    .option('--model <dir>', 'model folder (default: the shipped modern model)')
    .addOption(backend)
    .option('--json', 'one JSON object per file on stdout')
    .action(async (files: string[], flags) => setExitCode(await predictCommand(files, flags, io)));

  program.command('info')
    .description('backend, versions and dataset location')
    .addOption(backend)
    .option('--json', 'one JSON object on stdout')
    .action(async (flags) => infoCommand(flags, io));

  registerConvCommand(program, io);
  return program;
}

/** Runs the CLI and returns its exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return 2; // commander already printed the one-line reason
    }
    if (isUserError(e)) {
      io.log(`lenet-lab: ${e.message}\n`);
      return 2;
    }
    io.log(`lenet-lab: internal error: ${errorMessage(e)}\n${e instanceof Error ? e.stack ?? '' : ''}\n`);
    return 1;
  }
}

/** The real terminal. */
export const terminalIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  log: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};
