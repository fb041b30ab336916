import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../testing/chromium';

// `npm run bench:console`: the console report (a report, not a timed test) on the
// same harness as the e2e specs: the built renderer, the real core, the stack.
export default defineConfig({
  testDir: '.',
  testMatch: /.*\.report\.ts$/,
  outputDir: '../artifacts/perf-output',
  workers: 1,
  timeout: 900_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  use: {
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 800 },
  },
});
