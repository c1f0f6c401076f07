// The layer rule in eslint.config.js, each boundary on its own: a snippet that
// crosses it is refused, and the import the layer may make passes.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The layer-rule messages ESLint gives `code` as if it were the file at `file`. */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

// [file, import it may make, import it may not]
const cases: [string, string, string][] = [
  ['common/network/a.ts', "import { x } from '../errors.js';", "import { x } from '../../engine/io/model-store.js';"],
  ['common/a.ts', "import { x } from './errors.js';", "import { x } from 'node:fs';"],
  ['common/a.ts', "import { x } from 'zod';", "import { x } from '../hosts/host-setup.js';"],
  [
    'engine/training/a.ts',
    "import { x } from '../../common/errors.js';",
    "import { x } from '../../hosts/lab-service.js';",
  ],
  ['engine/a.ts', "import { x } from './data/idx.js';", "import { x } from '../cli/commands.js';"],
  [
    'renderer/src/lib/a.ts',
    "import { x } from '../../../common/contract.js';",
    "import { x } from '../../../engine/data/idx.js';",
  ],
  [
    'renderer/src/lib/a.ts',
    "import { x } from '../stores/app.svelte.js';",
    "import { x } from '../../../hosts/host-setup.js';",
  ],
  ['renderer/src/lib/a.ts', "import { x } from './format.js';", "import { x } from 'node:path';"],
  ['hosts/a.ts', "import { x } from '../engine/data/idx.js';", "import { x } from '../main/ipc.js';"],
  ['hosts/a.ts', "import { x } from '../common/link.js';", "import { x } from '../renderer/src/bridge/ws-bridge.js';"],
  ['cli/a.ts', "import { x } from '../engine/io/model-store.js';", "import { x } from '../main/menu.js';"],
  ['main/a.ts', "import { x } from '../hosts/host-setup.js';", "import { x } from '../renderer/src/App.svelte';"],
  ['main/a.ts', "import { x } from '../engine/errors.js';", "import { x } from '../preload/preload.js';"],
  ['preload/preload.ts', "import { x } from '../common/channels.js';", "import { x } from '../common/contract.js';"],
  ['preload/preload.ts', "import type { x } from '../common/contract.js';", "import { x } from '../common/errors.js';"],
];

describe('the layer rule', () => {
  it.each(cases)('%s: allows %s, refuses %s', { timeout: 60_000 }, async (file, allowed, refused) => {
    expect(await layerErrors(file, allowed)).toEqual([]);
    expect(await layerErrors(file, refused)).toHaveLength(1);
  });
});
