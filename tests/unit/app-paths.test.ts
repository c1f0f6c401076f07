// Where the app's own files are (hosts/app-paths.ts): the nearest package.json named lenet-lab above a folder,
// past other packages and unreadable manifests; the assets folder and the version from it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appVersion, assetsDir, packageRoot } from '../../hosts/app-paths.js';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '');
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-paths-')));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const savedAssets = process.env.LENET_LAB_ASSETS_DIR;
afterEach(() => {
  if (savedAssets === undefined) delete process.env.LENET_LAB_ASSETS_DIR;
  else process.env.LENET_LAB_ASSETS_DIR = savedAssets;
});

function folder(...parts: string[]): string {
  const dir = path.join(tmp, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

describe('packageRoot', () => {
  it('is this repository from the module itself', () => {
    expect(packageRoot()).toBe(repo);
  });

  it('walks up past another package and an unreadable manifest to the one named lenet-lab', () => {
    const app = folder('app');
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'lenet-lab', version: '1.2.3' }));
    fs.writeFileSync(path.join(folder('app', 'node_modules', 'dep'), 'package.json'), JSON.stringify({ name: 'dep' }));
    fs.writeFileSync(path.join(folder('app', 'node_modules', 'dep', 'broken'), 'package.json'), '{ not json');
    expect(packageRoot(folder('app', 'node_modules', 'dep', 'broken', 'dist'))).toBe(app);
    expect(packageRoot(app)).toBe(app);
  });

  it('says where it looked when no lenet-lab package is above', () => {
    const lost = folder('elsewhere', 'deep');
    fs.writeFileSync(path.join(tmp, 'elsewhere', 'package.json'), JSON.stringify({ name: 'other' }));
    expect(() => packageRoot(lost)).toThrow(new Error(`lenet-lab's package.json was not found above ${lost}`));
  });
});

describe('assetsDir and appVersion', () => {
  it('assets: the setting wins, else the package root\'s assets folder', () => {
    delete process.env.LENET_LAB_ASSETS_DIR;
    expect(assetsDir()).toBe(path.join(repo, 'assets'));
    process.env.LENET_LAB_ASSETS_DIR = '/somewhere/assets';
    expect(assetsDir()).toBe('/somewhere/assets');
  });

  it('the version is package.json\'s', () => {
    expect(appVersion()).toBe((JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version);
  });
});
