// Bundles preload/preload.ts (and the channel names it imports from
// common/channels.ts; no zod) into ONE CommonJS file, dist/preload/preload.cjs:
// a sandboxed preload can require('electron') but no local files.
// tests/integration/preload-bundle.test.ts keeps it at most 20 KB.
//   npx vite build --config preload/vite.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist/preload',
    emptyOutDir: false, // tsc also writes dist/preload/preload.js (the unit tests import it)
    target: 'es2022',
    minify: false, // small, and readable for review and for Electronegativity's scan of dist/
    sourcemap: false,
    copyPublicDir: false,
    lib: {
      entry: fileURLToPath(new URL('./preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: {
      external: ['electron'],
    },
  },
});
