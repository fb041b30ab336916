import { defineConfig } from 'vitest/config';

// API and database tests run against a real PostgreSQL (see ../testing/db.ts); each
// file gets its own database, so files may run in parallel.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
