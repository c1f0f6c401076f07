// scripts/ensure-electron.mjs, the first step of `npm start`: Electron's binary is fetched on first start,
// not at npm install; where it cannot be had, one line says what is missing and that browser mode works.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts', 'ensure-electron.mjs');
const installed = ((): boolean => {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary);
  } catch {
    return false;
  }
})();

const run = (env: Record<string, string>) => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(ELECTRON_|electron_)/.test(name))) as Record<string, string>;
  return spawnSync(process.execPath, [SCRIPT], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
};

describe('npm start without Electron\'s binary', () => {
  it.skipIf(installed)('says in one line that the binary is missing and that npm run serve works, when downloads are switched off', () => {
    const result = run({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('LeNet Lab: the desktop window needs Electron\'s binary, and ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it is not downloaded; browser mode works without it: npm run serve\n');
  });

  it.skipIf(installed)('tries the download on first start, and where it fails ends with one line saying why', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'lenet-electron-cache-'));
    try {
      // A mirror on a closed local port fails at once, as an offline machine does.
      const result = run({ ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache });
      expect(result.status).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^LeNet Lab: downloading Electron's binary/);
      expect(lines[1]).toMatch(/^LeNet Lab: the desktop window needs Electron's binary, which could not be downloaded \(.*ECONNREFUSED.*\); browser mode works without it: npm run serve$/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it.runIf(installed)('does nothing where the binary is installed', () => {
    const result = run({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });

  it('npm install leaves Electron\'s download to npm start', async () => {
    const manifest = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string>; allowScripts: Record<string, boolean> };
    expect(manifest.allowScripts.electron).toBe(false);
    expect(manifest.scripts.start).toBe('node scripts/ensure-electron.mjs && npm run build && electron .');
  });
});
