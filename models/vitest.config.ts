import { defineConfig } from 'vitest/config';

// The model job's tests: a real PostgreSQL (../testing/db.ts), Debian's python3-sklearn, the real API in-process.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
