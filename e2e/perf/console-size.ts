// The console's initial JavaScript: the entry script of the built renderer
// (dist/renderer/index.html) and every chunk it preloads, gzip-compressed as a
// server would send them (level 9; the console loads them from app://, so this
// is a measure of parse and compile work more than of transfer). Screens loaded
// on demand (dynamic imports) are listed apart. A report, not a test.
//
//   npm run build:renderer && npx tsx e2e/perf/console-size.ts
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'renderer');
export const INITIAL_JS_GOAL_KB = 250;

export interface BundleSize {
  initial: { file: string; kb: number }[];
  initialKb: number;
  lazyKb: number;
}

export function measureBundle(dist = DIST): BundleSize {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\.\/([^"]+\.js)"/g)].map((m) => m[1]!);
  const gz = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length / 1024;
  const initial = refs.map((file) => ({ file, kb: gz(file) }));
  const lazy = readdirSync(join(dist, 'assets'))
    .filter((f) => f.endsWith('.js') && !refs.includes(`assets/${f}`))
    .reduce((kb, f) => kb + gz(`assets/${f}`), 0);
  return { initial, initialKb: initial.reduce((kb, f) => kb + f.kb, 0), lazyKb: lazy };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const size = measureBundle();
  for (const f of size.initial) console.log(`${f.kb.toFixed(1).padStart(8)} kB  ${f.file}`);
  console.log(`${size.initialKb.toFixed(1).padStart(8)} kB  initial JavaScript, gzip (goal ≤ ${INITIAL_JS_GOAL_KB} kB): ${size.initialKb <= INITIAL_JS_GOAL_KB ? 'met' : 'NOT met'}`);
  console.log(`${size.lazyKb.toFixed(1).padStart(8)} kB  loaded on demand (screens, the usage chart)`);
}
