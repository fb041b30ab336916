#!/usr/bin/env node
// Runs Electronegativity over electron/ and fails on any finding that is not in
// electron/electronegativity-accepted.json (each accepted finding carries its
// reason). Electronegativity always exits 0 and its CLI does not start with the
// commander version installed here, so this uses its documented programmatic
// API, writes SARIF, and reads the SARIF back.
// It does not look at IPC sender checks, raw ipcRenderer exposure or the
// app:// protocol: electron/shell/*.test.ts cover those.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);

// The scan runs offline. Electronegativity makes two look-ups through got (newer
// translations, Electron's release list) and carries on without them, but on
// Node 24 got's retry timer after a failed request throws an uncaught error from
// p-cancelable and ends the process. Answer both "offline" at once instead, so the
// result depends on the code scanned only (the Electron version comes from
// electronVersionOverride below).
const scanner = require.resolve('@doyensec/electronegativity');
const gotPath = createRequire(scanner).resolve('got');
const offline = () => Promise.reject(new Error('offline: the scan makes no network requests'));
require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: Object.assign(offline, { head: offline, get: offline }) };
const run = require(scanner);
const electronVersion = JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')).version;

const outDir = existsSync('.test-results') ? '.test-results' : join('dist', 'checks');
mkdirSync(outDir, { recursive: true });
const sarifPath = resolve(outDir, 'electronegativity.sarif');
rmSync(sarifPath, { force: true });

const result = await run(
  {
    input: 'electron',
    output: sarifPath,
    isSarif: true,
    customScan: [],
    excludeFromScan: [],
    isRelative: true,
    isVerbose: false,
    parserPlugins: [],
    electronVersionOverride: electronVersion,
  },
  false,
);

/** The runner resolves before its SARIF file is written: wait for a complete file. */
async function readSarif(path) {
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no SARIF output at ${path}`);
}

const problems = [];
if (result.errors?.length) {
  for (const e of result.errors) problems.push(`could not analyse ${e.file}: ${e.message ?? e.error ?? 'parse error'}`);
}

const sarif = await readSarif(sarifPath);
const findings = sarif.runs.flatMap((r) => r.results).map((r) => ({
  rule: r.ruleId,
  file: r.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? 'N/A',
  line: r.locations?.[0]?.physicalLocation?.region?.startLine ?? 0,
  text: r.message?.text ?? '',
}));

const accepted = JSON.parse(readFileSync('electron/electronegativity-accepted.json', 'utf8')).accepted;
for (const a of accepted) {
  if (!a.reason || a.reason.length < 20) problems.push(`accepted finding ${a.rule} in ${a.file} has no real reason`);
}
const key = (rule, file) => `${rule} ${file}`;
const counts = new Map();
for (const f of findings) counts.set(key(f.rule, f.file), (counts.get(key(f.rule, f.file)) ?? 0) + 1);

for (const [k, n] of counts) {
  const entry = accepted.find((a) => key(a.rule, a.file) === k);
  if (!entry) {
    for (const f of findings.filter((x) => key(x.rule, x.file) === k)) problems.push(`unexplained finding ${f.rule} at ${f.file}:${f.line}: ${f.text}`);
  } else if (entry.occurrences !== n) {
    problems.push(`${k}: ${n} finding(s), but ${entry.occurrences} accepted; review the new ones and update the list`);
  }
}
for (const a of accepted) {
  // A stale entry would silently accept the finding if it came back: the list holds only what occurs.
  if (!counts.has(key(a.rule, a.file))) problems.push(`accepted finding ${a.rule} in ${a.file} no longer occurs; remove it from the list`);
}

console.log(`electronegativity ${electronVersion ? `(Electron ${electronVersion})` : ''}: ${findings.length} finding(s), ${problems.length} problem(s); SARIF at ${sarifPath}`);
for (const p of problems) console.error(`  ${p}`);
process.exit(problems.length ? 1 : 0);
