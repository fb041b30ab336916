#!/usr/bin/env node
// `npm test`: lint, typecheck and every test suite, each in its own process,
// then one closing line `N passed, N failed[, N skipped]` over all of them.
// A suite that cannot run says why; any failure makes the exit code non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const results = join(process.cwd(), '.test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

/** Checks count as one test each; suites report their own counts through a JSON reporter. */
const steps = [
  // The runtime the project supports (engines); a run on another major would prove nothing about it.
  { name: 'runtime (Node.js 24 LTS)', kind: 'check', command: `node -e "process.exit(process.versions.node.split('.')[0] === '24' ? 0 : (console.error('Node ' + process.version + ' is not the project runtime (24 LTS): run scripts/setup-system.sh or npm ci'), 1))"` },
  { name: 'lint', kind: 'check', command: 'npx eslint .' },
  { name: 'typecheck', kind: 'check', command: 'npm run -s typecheck' },
  { name: 'unit (shared, electron, renderer)', kind: 'vitest', report: 'unit.json', command: 'npx vitest run' },
  { name: 'api (real PostgreSQL)', kind: 'vitest', report: 'api.json', command: 'npx vitest run --root api' },
  // 100,000 generated requests (FUZZ_REQUESTS) over every endpoint of shared/http.ts; prints its seed and a summary line.
  { name: 'fuzz (every endpoint, every caller)', kind: 'vitest', report: 'fuzz.json', command: 'npx vitest run --config api/vitest.fuzz.config.ts' },
  { name: 'devstack (provider, seeder, stack, PGlite)', kind: 'vitest', report: 'devstack.json', command: 'npx vitest run --root devstack' },
  // The churn and upsell models trained on a generated history (Debian's python3-sklearn), published through the real API.
  { name: 'models (model job: training, held-out AUC, published contributions)', kind: 'vitest', report: 'models.json', command: 'npx vitest run --root models' },
  // A private PostgreSQL cluster stopped and started, API processes killed, the provider taken down, many clients (faults/).
  { name: 'faults (real processes)', kind: 'vitest', report: 'faults.json', command: 'npx vitest run --root faults' },
  // The API's container image laid out and started from exactly the files it copies; the Kubernetes overlays rendered and validated.
  { name: 'deploy (container image, Kubernetes manifests)', kind: 'vitest', report: 'deploy.json', command: 'npx vitest run --root deploy' },
  // The steps below use the built app (dist/renderer, dist/electron).
  { name: 'build (renderer and Electron main/preload)', kind: 'check', command: 'npm run -s build:renderer && npm run -s build:electron' },
  { name: 'end-to-end (Playwright: built renderer in Chromium, real core, stack, PostgreSQL, keychain)', kind: 'playwright', report: 'e2e.json', command: 'npx playwright test -c e2e/playwright.config.ts' },
  { name: 'packaging (a real electron-builder --dir run of the built app)', kind: 'vitest', report: 'packaging.json', command: 'CIMS_PACKAGE_TEST=1 npx vitest run --project unit build/package-dir.test.ts' },
  { name: 'electronegativity (electron/, accepted findings only)', kind: 'check', command: 'node scripts/electronegativity.mjs' },
];

const only = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

for (const step of steps) {
  if (only.length && !only.some((o) => step.name.startsWith(o))) continue;
  console.log(`\n=== ${step.name} ===`);
  const reportPath = step.report ? join(results, step.report) : null;
  const reporterArgs =
    step.kind === 'vitest' ? ` --reporter=default --reporter=json --outputFile.json=${reportPath}` : '';
  const env = { ...process.env, ...(step.kind === 'playwright' ? { PLAYWRIGHT_JSON_OUTPUT_NAME: reportPath } : {}) };
  const run = spawnSync(step.command + reporterArgs, { shell: true, stdio: 'inherit', env });
  const ok = run.status === 0;

  if (step.kind === 'check') {
    if (ok) totals.passed++;
    else {
      totals.failed++;
      failures.push(step.name);
    }
    continue;
  }
  const counts = reportPath && existsSync(reportPath) ? readCounts(step.kind, reportPath) : null;
  if (!counts) {
    totals.failed++;
    failures.push(`${step.name} (no report: the suite did not run)`);
    continue;
  }
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  if (!ok || counts.failed > 0) failures.push(step.name);
}

function readCounts(kind, path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  if (kind === 'vitest') {
    return { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests };
  }
  const s = report.stats;
  return { passed: s.expected + s.flaky, failed: s.unexpected, skipped: s.skipped };
}

console.log('');
if (failures.length) console.log(`Failed: ${failures.join('; ')}`);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(failures.length ? 1 : 0);
