import { defineConfig } from 'vitest/config';

// The real electron-builder run needs the built app; `npm test` runs it as its own
// step after the build (scripts/test-all.mjs), with CIMS_PACKAGE_TEST=1.
const PACKAGING = 'build/package-dir.test.ts';
const packagingEnabled = process.env.CIMS_PACKAGE_TEST === '1';

// Unit and component tests of the desktop side. The API has its own config in api/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/**/*.test.ts', 'electron/**/*.test.ts', 'scripts/**/*.test.ts', 'build/**/*.test.ts'],
          exclude: packagingEnabled ? [] : [PACKAGING],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'renderer',
          include: ['renderer/**/*.test.tsx'],
          environment: 'jsdom',
          setupFiles: ['renderer/test/setup.ts'],
          // Typing goes key by key through React; the shared 2-core machine is slow.
          testTimeout: 30_000,
        },
      },
      {
        // The core against the real OpenID provider, keychain and Chromium (needs scripts/with-keyring.sh).
        test: {
          name: 'electron-core',
          include: ['electron/test/**/*.integration.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
