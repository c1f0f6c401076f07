// ESLint (flat config): typescript-eslint and eslint-plugin-svelte, plus the
// layer rule. Each folder may import only the layers below it:
//   common/    nothing of the project outside common/ (isomorphic: no node: either)
//   engine/    common/ and engine/
//   renderer/  common/ and renderer/ (no node:)
//   preload/   the channel names (common/channels.ts), and types
//   hosts/, cli/   engine/ and common/, not main/ or renderer/
//   main/      hosts/, engine/ and common/
// ARCHITECTURE.md explains the layers.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Relative imports that climb into one of these top-level folders. */
const into = (...folders) => ({
  regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`,
  message: `This layer may not import ${folders.map((f) => `${f}/`).join(', ')} (see eslint.config.js and ARCHITECTURE.md).`,
});
const nodeBuiltins = {
  regex: '^node:',
  message: 'common/ and renderer/ run in every process, the browser included: no Node built-ins.',
};
const layer = (files, patterns) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'release/**',
      'release-e2e/**',
      'node_modules/**',
      'assets/**',
      'docs/**',
      'coverage/**',
      'reports/**',
      '.stryker-tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // The compiler checks these (noUnusedLocals); underscore-prefixed parameters are placeholders.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', varsIgnorePattern: '^_' }],
      // Slices of Electron's and tfjs's loosely typed APIs say `any` on purpose; each is at a boundary.
      '@typescript-eslint/no-explicit-any': 'off',
      // tfjs's own types say {} (ModelArtifacts.userDefinedMetadata); code that meets them must too.
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
      // Flags the initialise-then-try idiom (`let x = 0; try { x = read() } catch {}`) the engine uses for defaults.
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      // The stores' and views' Maps and Sets are caches and listener lists, deliberately not reactive:
      // $state fields are replaced whole when the page must update.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  layer(['common/**'], [into('engine', 'hosts', 'main', 'preload', 'renderer', 'cli', 'bench'), nodeBuiltins]),
  layer(['engine/**'], [into('hosts', 'main', 'preload', 'renderer', 'cli', 'bench')]),
  layer(['renderer/**'], [into('engine', 'hosts', 'main', 'preload', 'cli', 'bench')]),
  layer(['renderer/src/**'], [into('engine', 'hosts', 'main', 'preload', 'cli', 'bench'), nodeBuiltins]),
  layer(['hosts/**', 'cli/**'], [into('main', 'preload', 'renderer', 'bench')]),
  layer(['main/**'], [into('preload', 'renderer', 'cli', 'bench')]),
  layer(
    ['preload/preload.ts'],
    [
      into('engine', 'hosts', 'main', 'preload', 'renderer', 'cli', 'bench'),
      {
        // Values from the channel names only; types from the contract are erased from the bundle.
        regex: '^\\.\\./common/(?!channels\\.js$)',
        allowTypeImports: true,
        message: 'The preload imports only the channel names (common/channels.ts): the bundle must stay free of zod.',
      },
    ],
  ),
);
