// Lint rules, including the layer rules of DESIGN.md: pure folders touch no
// I/O, clock, randomness, timers or process; I/O folders never reach up into
// api, gateway or cli; production code never imports the simulator.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureFolders = ['core', 'raft', 'koorde', 'kv', 'cache', 'registry', 'logs'];
const ioFolders = ['storage', 'transport', 'node', 'discovery'];
const testFiles = ['**/*.test.ts', '**/testdata/**'];

const impureGlobals = [
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'process',
  'performance',
  'fetch',
  'require',
].map((name) => ({ name, message: 'Pure layers take time and I/O as parameters (DESIGN.md).' }));

export default tseslint.config(
  { ignores: ['node_modules/', '.weft/', 'web/dist/', 'coverage/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/sim/**', ...testFiles],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/sim/**'], message: 'Production code never imports the simulator.' }] },
      ],
    },
  },
  {
    files: pureFolders.map((folder) => `src/${folder}/**/*.ts`),
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Pure layers import no Node built-ins (DESIGN.md).' },
            {
              group: [...ioFolders, 'api', 'gateway', 'cli', 'sim'].map((folder) => `**/${folder}/**`),
              message: 'A pure layer imports only src/core and other pure folders.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the injected seeded Prng (src/core/prng.ts).' },
      ],
    },
  },
  {
    files: ['src/client/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...ioFolders,
                ...pureFolders.filter((folder) => folder !== 'core' && folder !== 'kv'),
                'api',
                'gateway',
                'cli',
                'sim',
              ].map((folder) => `**/${folder}/**`),
              message: 'The client imports no server code: only src/core and src/kv (pure shared types and mappings).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ioFolders.map((folder) => `src/${folder}/**/*.ts`),
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/api/**', '**/gateway/**', '**/cli/**'],
              message: 'I/O layers never reach up into api, gateway or cli.',
            },
            { group: ['**/sim/**'], message: 'Production code never imports the simulator.' },
          ],
        },
      ],
    },
  },
  {
    // The one rule here that needs types. A promise returned from inside try/finally without await lets the
    // finally run before it settles: `weft member list` closed its client before its call went out.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/return-await': ['error', 'in-try-catch'] },
  },
);
