// Lint, and the boundaries from DESIGN.md enforced as import rules:
// renderer/ is browser code, electron/core is plain Node, shared/ is contracts only.
import path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'url', 'util', 'stream', 'events', 'worker_threads'];
const ROOT = import.meta.dirname;

/**
 * Import zones by folder, checked on the path an import resolves to, so
 * `../../audit/api` and `../features/audit/api` are the same arrow (import strings
 * alone cannot say that). Dynamic import() counts too. Options: zones of
 * { from?: regex on the importing file, forbid: regex on the imported file (both
 * relative to the repository; `$1` in forbid is from's first group), allow?: regex
 * let through anyway, packages?: true to match package names instead of files,
 * message }.
 */
const importZones = {
  meta: { type: 'problem', schema: false, messages: { zone: '{{message}}' } },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const zones = context.options.flatMap((zone) => {
      const from = zone.from ? new RegExp(zone.from).exec(file) : [file];
      if (!from) return [];
      const forbid = new RegExp(zone.forbid.replace(/\$(\d)/g, (_, n) => from[Number(n)] ?? ''));
      return [{ forbid, allow: zone.allow ? new RegExp(zone.allow) : null, packages: zone.packages === true, message: zone.message }];
    });
    const check = (source) => {
      if (!source || typeof source.value !== 'string') return;
      const spec = source.value;
      const relative = spec.startsWith('.');
      const target = relative ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec;
      for (const zone of zones) {
        if (zone.packages !== !relative) continue;
        if (zone.forbid.test(target) && !zone.allow?.test(target)) {
          context.report({ node: source, messageId: 'zone', data: { message: zone.message } });
        }
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};
// One implementation under a name per concern: a file in several zones gets every
// concern's options (flat config replaces a rule's options, it does not merge them).
const boundaries = { rules: { zones: importZones, features: importZones, 'electron-in-shell-only': importZones } };

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
  { plugins: { boundaries } },
  {
    // Only the shell (window, preload, OS events) talks to Electron itself.
    files: ['**/*.{ts,tsx,js,mjs}'],
    ignores: ['electron/shell/**'],
    rules: {
      'boundaries/electron-in-shell-only': ['error', {
        packages: true,
        forbid: '^electron(/|$)',
        message: 'Only electron/shell imports electron: the core gets OS capabilities passed in, the renderer has window.cims.',
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^electron(/|$)', message: 'renderer/ reaches the main process through window.cims only.' },
          { group: NODE_BUILTINS, message: 'renderer/ is browser code: no Node modules.' },
        ],
      }],
      'boundaries/zones': ['error',
        { forbid: '^(?!renderer/|shared/)', message: 'renderer/ imports shared/ and itself only.' },
        // One way: ui/ and bridge/ → features/ → app/.
        { from: '^renderer/(ui|bridge)/', forbid: '^renderer/(features|app)/', message: 'renderer/ui and renderer/bridge are shared by every feature: they import neither a feature nor the app.' },
        { from: '^renderer/features/', forbid: '^renderer/app/', message: 'A feature does not import the app layer: the app composes features.' },
      ],
      'boundaries/features': ['error', {
        from: '^renderer/features/([^/]+)/',
        forbid: '^renderer/features/(?!$1/)',
        message: 'A feature never imports another feature: put what both need in renderer/ui or renderer/bridge, and compose them in renderer/app.',
      }],
    },
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^(?!electron/core/|shared/)', message: 'electron/core imports shared/ and itself only.' }],
    },
  },
  {
    files: ['electron/shell/**/*.ts'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^(renderer|api|devstack)/', message: 'electron/shell loads the built renderer and talks HTTP through the core: it imports neither the renderer nor the server.' }],
    },
  },
  {
    // The typed IPC wiring (main.ts) and the preload are the only doors between the processes.
    files: ['electron/shell/**/*.ts'],
    ignores: ['electron/shell/main.ts', 'electron/shell/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'IPC is wired in electron/shell/main.ts and exposed by the preload only: use the channel table from shared/ipc.' }],
      }],
    },
  },
  {
    files: ['e2e/**/*.ts'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^(renderer|api|devstack)/', message: 'e2e drives the built app (dist/renderer) and the running stack (through testing/): it never imports their source.' }],
    },
  },
  {
    files: ['bench/**/*.ts'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^(electron|renderer)/', message: 'bench/ measures the API: it imports neither the desktop app nor the renderer.' }],
    },
  },
  {
    // Real processes: the server, the console core, the demo provider and test support; never the renderer.
    files: ['faults/**/*.ts'],
    rules: {
      'boundaries/zones': ['error', {
        forbid: '^(?!faults/|api/src/|electron/core/|devstack/src/|testing/|shared/)',
        message: 'faults/ imports api/src, electron/core, devstack/src, testing/ and shared/: it never imports the renderer.',
      }],
    },
  },
  {
    files: ['build/**/*.{ts,js,mjs}'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^(renderer|api|devstack)/', message: 'build/ packages what was built: it imports no renderer or server source.' }],
    },
  },
  {
    files: ['scripts/**/*.{ts,js,mjs}'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^renderer/', message: 'scripts/ run the project from outside: they do not import renderer/ source.' }],
    },
  },
  {
    // Screenshots of every screen from demo data: the demo data is all it may take from the renderer.
    files: ['scripts/renderer-screenshots.ts'],
    rules: {
      'boundaries/zones': ['error', { forbid: '^renderer/', allow: '^renderer/dev/', message: 'The screenshot script serves the built renderer: it takes demo data from renderer/dev and nothing else.' }],
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
