// Builds the renderer into dist/renderer/ for both hosts (Electron loads the
// files from disk, the browser-mode server serves them), so paths are relative.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [svelte({ configFile: false })],
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // tfjs is large by nature; the warning would only repeat that.
    chunkSizeWarningLimit: 4096,
    // No inlined assets: the CSP forbids nothing in data: for scripts, but keep files plain.
    assetsInlineLimit: 0,
  },
  server: {
    host: '127.0.0.1',
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
