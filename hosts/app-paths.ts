// Where the app's own files are, whether run from sources, from dist/ or packaged.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding lenet-lab's package.json, found by walking up from this module. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'lenet-lab') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`lenet-lab's package.json was not found above ${from}`);
  }
}

export const assetsDir = (): string => process.env.LENET_LAB_ASSETS_DIR ?? path.join(packageRoot(), 'assets');
export const appVersion = (): string =>
  (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
