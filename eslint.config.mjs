// Lint rules, most importantly the ones that keep workflow code deterministic and replayable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url',
  'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.state/**', 'runs/**', 'dist/**', 'bin/**', '*.config.js', '*.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Workflow and experiment code is replayed: no I/O, no clocks of its own, no model clients, no activity code.
    files: ['src/workflows/**/*.ts', 'src/experiment/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((m) => [
              { name: m, message: 'Node built-ins break workflow determinism; do I/O in an activity.' },
              { name: `node:${m}`, message: 'Node built-ins break workflow determinism; do I/O in an activity.' },
            ]),
            { name: 'openai', message: 'Model calls belong in activities (src/activities).' },
            { name: '@temporalio/activity', message: 'Workflow code cannot use the activity API.' },
            { name: '@temporalio/worker', message: 'Workflow code cannot import the worker.' },
            { name: '@temporalio/client', message: 'Workflow code cannot import the client.' },
            { name: '../config', message: 'config/index reads files; import config/schema or config/validate.' },
          ],
          patterns: [
            { group: ['node:*'], message: 'Node built-ins break workflow determinism.' },
            { group: ['**/activities', '**/activities/*'], allowTypeImports: true, message: 'Import activity types only (import type).' },
            { group: ['**/config/load', '**/config/index'], message: 'config/load reads files; import config/schema or config/validate.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/experiment/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', ...nodeBuiltins], message: 'src/experiment is pure: no Node built-ins.' },
            { group: ['@temporalio/*', 'openai'], message: 'src/experiment is pure: no Temporal or model clients.' },
            { group: ['**/activities', '**/activities/*', '**/workflows', '**/workflows/*'], message: 'src/experiment imports nothing outside itself.' },
          ],
        },
      ],
    },
  },
);
