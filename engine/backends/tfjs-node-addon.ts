// Whether tfjs-node can load, judged without importing it (which loads four tfjs packages): the ladder asks
// before trying it, and the CLI guesses from it which engine a run will get before loading any. Node built-ins only.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendName } from '../../common/protocol.js';

const require = createRequire(import.meta.url);

/**
 * Where tfjs-node's JavaScript is installed but its native addon is not (its install script could not fetch it:
 * offline, or no build for the platform), why; else null. Checked before importing it, which loads four tfjs
 * packages (≈ 0.3 s of every start) only to fail at the addon.
 */
export function missingTfjsNodeAddon(resolvePackage: (id: string) => string = (id) => require.resolve(id)): string | null {
  let root: string;
  try {
    root = path.dirname(resolvePackage('@tensorflow/tfjs-node/package.json'));
  } catch {
    return null; // not installed: the import says so
  }
  const lib = path.join(root, 'lib');
  const builds = existsSync(lib) ? readdirSync(lib).filter((d) => /^napi-v\d+$/.test(d) && existsSync(path.join(lib, d, 'tfjs_binding.node'))) : [];
  return builds.length > 0 ? null : `its native addon (tfjs_binding.node) is missing from ${lib}`;
}

/**
 * The backend the ladder will most likely give a process that asks for `requested` (none: the fastest that
 * loads), judged without loading any: tfjs-node where it is installed with its addon, else wasm.
 */
export function likelyBackend(requested: BackendName | undefined, resolvePackage: (id: string) => string = (id) => require.resolve(id)): BackendName {
  if (requested) return requested;
  try {
    resolvePackage('@tensorflow/tfjs-node/package.json');
  } catch {
    return 'wasm';
  }
  return missingTfjsNodeAddon(resolvePackage) === null ? 'tensorflow' : 'wasm';
}
