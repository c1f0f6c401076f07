#!/usr/bin/env node
// `npm start` runs this first. npm install does not fetch Electron's binary (package.json allowScripts keeps
// electron's postinstall off, so an offline school PC can install); it is fetched here, on the first start.
// Where it cannot be had, one line says what is missing and that browser mode works; the exit code is 1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const SERVE_HINT = 'browser mode works without it: npm run serve';

/** The Electron executable when its binary is installed, else null (require('electron') throws then). */
function installedElectron() {
  try {
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function fail(why) {
  process.stderr.write(`LeNet Lab: the desktop window needs Electron's binary, ${why}; ${SERVE_HINT}\n`);
  process.exit(1);
}

if (!installedElectron()) {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) fail('and ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it is not downloaded');
  let installer;
  try {
    installer = require.resolve('electron/install.js');
  } catch {
    fail('and the electron package is not installed (npm install first)');
  }
  process.stderr.write('LeNet Lab: downloading Electron\'s binary (first start only, about 100 MB)…\n');
  const result = spawnSync(process.execPath, [installer], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
  if (!installedElectron()) {
    // install.js prints a stack trace; its first line says why (ENOTFOUND when offline).
    const firstLine = (result.stderr ?? '').split('\n').map((line) => line.trim()).find(Boolean) ?? (result.error?.message ?? `exit code ${result.status}`);
    fail(`which could not be downloaded (${firstLine.slice(0, 160)})`);
  }
}
