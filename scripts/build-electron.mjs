#!/usr/bin/env node
// Builds the Electron main process and preload with esbuild:
//   dist/electron/main.js     (ESM, Node target; electron and keytar stay external)
//   dist/electron/preload.cjs (CommonJS for the sandboxed preload: only `electron` is required)
// The preload needs only the channel and event names from shared/ipc.ts, not
// zod: they are read from the contract at build time and inlined, so the
// bridge stays a few hundred lines.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const common = { bundle: true, sourcemap: true, legalComments: 'none', logLevel: 'info' };

async function contractNames() {
  const dir = mkdtempSync(join(tmpdir(), 'cims-ipc-'));
  try {
    const outfile = join(dir, 'ipc.mjs');
    await build({ entryPoints: ['shared/ipc.ts'], outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
    const { CHANNEL_NAMES, EVENT_NAMES } = await import(pathToFileURL(outfile).href);
    return { CHANNEL_NAMES, EVENT_NAMES };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = await contractNames();
const ipcNamesOnly = {
  name: 'ipc-names-only',
  setup(b) {
    b.onResolve({ filter: /shared\/ipc$/ }, (args) => ({ path: args.path, namespace: 'ipc-names' }));
    b.onLoad({ filter: /.*/, namespace: 'ipc-names' }, () => ({
      contents: `export const CHANNEL_NAMES = ${JSON.stringify(names.CHANNEL_NAMES)};\nexport const EVENT_NAMES = ${JSON.stringify(names.EVENT_NAMES)};\n`,
      loader: 'js',
    }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['electron/shell/entry.ts'],
    outfile: 'dist/electron/main.js',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // keytar is native (loaded with require at run time); electron is the host.
    external: ['electron', 'keytar'],
    banner: { js: "import { createRequire as __cimsCreateRequire } from 'node:module'; const require = __cimsCreateRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: ['electron/shell/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
    plugins: [ipcNamesOnly],
  }),
]);
