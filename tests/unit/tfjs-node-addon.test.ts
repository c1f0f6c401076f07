// The quick look for tfjs-node's native addon before importing the package (engine/backends/tfjs-node-addon.ts):
// installed JavaScript without the addon fails at once with the folder it looked in; an addon in any N-API
// build folder lets the import go ahead; no package at all is left to the import's own message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { likelyBackend, missingTfjsNodeAddon } from '../../engine/backends/tfjs-node-addon.js';

function installed(files: string[]): { root: string; resolve: (id: string) => string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-node-'));
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"@tensorflow/tfjs-node"}');
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), '');
  }
  return { root, resolve: (id) => (id === '@tensorflow/tfjs-node/package.json' ? path.join(root, 'package.json') : '') };
}

describe('missingTfjsNodeAddon', () => {
  it('no lib folder: the addon is missing, and the message names where it was looked for', () => {
    const { root, resolve } = installed([]);
    expect(missingTfjsNodeAddon(resolve)).toBe(`its native addon (tfjs_binding.node) is missing from ${path.join(root, 'lib')}`);
  });

  it('a build folder without the addon, or the addon outside a napi-v<N> folder: still missing', () => {
    expect(missingTfjsNodeAddon(installed(['lib/napi-v8/other.node']).resolve)).toMatch(/^its native addon \(tfjs_binding\.node\) is missing from /);
    expect(missingTfjsNodeAddon(installed(['lib/tfjs_binding.node']).resolve)).toMatch(/is missing from /);
    expect(missingTfjsNodeAddon(installed(['lib/napi-vX/tfjs_binding.node']).resolve)).toMatch(/is missing from /);
  });

  it('the addon in a napi-v<N> folder (any N): present, the import goes ahead', () => {
    expect(missingTfjsNodeAddon(installed(['lib/napi-v8/tfjs_binding.node']).resolve)).toBeNull();
    expect(missingTfjsNodeAddon(installed(['lib/napi-v3/tfjs_binding.node', 'lib/napi-v8/readme']).resolve)).toBeNull();
  });

  it('no package: left to the import (which says it is not installed)', () => {
    expect(missingTfjsNodeAddon(() => { throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' }); })).toBeNull();
  });
});

describe('likelyBackend: the engine a CLI run will get, guessed before loading any', () => {
  const absent = (): string => { throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' }); };

  it('a requested backend is the answer, whatever is installed', () => {
    expect(likelyBackend('cpu', installed(['lib/napi-v8/tfjs_binding.node']).resolve)).toBe('cpu');
    expect(likelyBackend('wasm', installed(['lib/napi-v8/tfjs_binding.node']).resolve)).toBe('wasm');
    expect(likelyBackend('tensorflow', absent)).toBe('tensorflow');
  });

  it('none requested: tfjs-node only where it is installed with its addon, else wasm', () => {
    expect(likelyBackend(undefined, installed(['lib/napi-v8/tfjs_binding.node']).resolve)).toBe('tensorflow');
    expect(likelyBackend(undefined, installed([]).resolve)).toBe('wasm');
    expect(likelyBackend(undefined, absent)).toBe('wasm');
  });
});
