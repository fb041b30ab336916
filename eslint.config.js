// Lint, and the boundaries from DESIGN.md enforced as import rules:
// renderer/ is browser code, electron/core is plain Node, shared/ is contracts only.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'url', 'util', 'stream', 'events', 'worker_threads'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/out/**', 'release/**', 'e2e/artifacts/**', 'e2e/report/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'electron/*'], message: 'renderer/ reaches the main process through window.cims only.' },
          { group: NODE_BUILTINS, message: 'renderer/ is browser code: no Node modules.' },
          { group: ['**/electron/**', '**/api/**'], message: 'renderer/ imports shared/ and itself only.' },
        ],
      }],
    },
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'electron/*'], message: 'electron/core must not import electron: pass OS capabilities in.' },
          { group: ['**/renderer/**', '**/shell/**', '**/api/**'], message: 'electron/core imports shared/ and itself only.' },
        ],
      }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: String.raw`^(?!zod$|\./)`, message: 'shared/ holds contracts only: it imports zod and itself.' },
        ],
      }],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/electron/**', '**/renderer/**', 'electron'], message: 'api/ imports shared/ and itself only.' },
          { group: ['**/devstack/**', '@cims/devstack', '@cims/devstack/**'], message: 'api/ never imports the demo stack: devstack/ depends on api/, not the other way.' },
        ],
      }],
    },
  },
  {
    // The server itself; its tests (api/test) may use testing/.
    files: ['api/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/electron/**', '**/renderer/**', 'electron'], message: 'api/ imports shared/ and itself only.' },
          { group: ['**/devstack/**', '@cims/devstack', '@cims/devstack/**'], message: 'api/ never imports the demo stack: devstack/ depends on api/, not the other way.' },
          { group: ['**/testing/**'], message: 'api/src is the server: test support belongs to tests.' },
        ],
      }],
    },
  },
  {
    // The demo stack: api/, shared/ and itself; testing/ in its tests only. The console is started as a process, never imported.
    files: ['devstack/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/electron/**', '**/renderer/**', 'electron'], message: 'devstack/ imports api/, shared/ and itself (testing/ in tests).' }],
      }],
    },
  },
  {
    files: ['devstack/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/electron/**', '**/renderer/**', 'electron'], message: 'devstack/ imports api/, shared/ and itself (testing/ in tests).' },
          { group: ['**/testing/**', '**/test/**'], message: 'devstack/src runs the demo: test support belongs to tests.' },
        ],
      }],
    },
  },
);
