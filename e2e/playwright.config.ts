import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../testing/chromium';

// End-to-end specs: a CRM's and a support lead's day. One worker: the specs
// share one stack (OpenID provider, API, PostgreSQL) and the machine has two cores.
export default defineConfig({
  testDir: './specs',
  outputDir: './artifacts/test-output',
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { outputFolder: 'report', open: 'never' }], ['json']],
  use: {
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
