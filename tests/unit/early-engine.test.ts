// Which command lines start the second engine with the process (cli/early-engine.ts): exactly the runs that
// will train on two engines (trainCommand's trainingWorkers rule), guessed before anything heavy loads.
import { describe, expect, it } from 'vitest';
import { startSecondEngineEarly } from '../../cli/early-engine.js';
import type { BackendName, VariantName } from '../../common/protocol.js';

function decide(argv: string[], opts: { cores?: number; installed?: BackendName } = {}): [BackendName, VariantName[]] | null {
  let started: [BackendName, VariantName[]] | null = null;
  const returned = startSecondEngineEarly(argv, {
    cores: () => opts.cores ?? 2,
    backendFor: (requested) => requested ?? opts.installed ?? 'wasm',
    start: (backend, warmUp) => { started = [backend, warmUp]; return {}; },
  });
  expect(returned).toBe(started !== null);
  return started;
}

describe('startSecondEngineEarly', () => {
  it('a training run on the default engine starts rank 1 on wasm, warming the run\'s variant', () => {
    expect(decide(['train', '--variant', 'modern', '--out', 'm'])).toEqual(['wasm', ['modern']]);
    expect(decide(['train', '--out', 'm', '--variant=seed', '--limit', '64'])).toEqual(['wasm', ['seed']]);
    // commander takes the last of a repeated option
    expect(decide(['train', '--variant', 'seed', '--variant', 'lenet5', '--out', 'm'])).toEqual(['wasm', ['lenet5']]);
  });

  it.each([
    ['another command', ['eval', '--variant', 'modern']],
    ['the command not first', ['--variant', 'modern', 'train']],
    ['help', ['train', '--variant', 'modern', '--help']],
    ['short help', ['train', '-h', '--variant', 'modern']],
    ['no variant', ['train', '--out', 'm']],
    ['a variant that does not exist', ['train', '--variant', 'lenet6', '--out', 'm']],
    ['a variant flag without its value', ['train', '--out', 'm', '--variant']],
    ['one engine asked for', ['train', '--variant', 'modern', '--workers', '1']],
    ['an invalid engine count', ['train', '--variant', 'modern', '--workers=3']],
    ['tfjs-node asked for', ['train', '--variant', 'modern', '--backend', 'tensorflow']],
    ['a backend that does not exist', ['train', '--variant', 'modern', '--backend', 'webgl']],
  ])('%s: nothing starts', (_, argv) => {
    expect(decide(argv)).toBeNull();
  });

  it('the backend asked for is the thread\'s; where tfjs-node is installed a default run keeps one engine', () => {
    expect(decide(['train', '--variant', 'modern', '--backend', 'cpu'])).toEqual(['cpu', ['modern']]);
    expect(decide(['train', '--variant', 'modern', '--backend=wasm'], { installed: 'tensorflow' })).toEqual(['wasm', ['modern']]);
    expect(decide(['train', '--variant', 'modern'], { installed: 'tensorflow' })).toBeNull();
    // --workers 2 on tfjs-node: trainingWorkers gives two, so the thread starts (on the engine asked for)
    expect(decide(['train', '--variant', 'modern', '--workers', '2', '--backend', 'cpu'], { installed: 'tensorflow' })).toEqual(['cpu', ['modern']]);
  });

  it('one core: only an explicit --workers 2 starts it', () => {
    expect(decide(['train', '--variant', 'modern'], { cores: 1 })).toBeNull();
    expect(decide(['train', '--variant', 'modern', '--workers', '2'], { cores: 1 })).toEqual(['wasm', ['modern']]);
  });

  it('a thread that could not start is reported as not started', () => {
    expect(startSecondEngineEarly(['train', '--variant', 'modern'], { cores: () => 2, backendFor: () => 'wasm', start: () => null })).toBe(false);
  });
});
