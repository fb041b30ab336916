import { defineConfig } from 'vitest/config';

// The demo stack's own tests: the OpenID provider, the generator and seeder, the
// one-command stack (as a real `npm run stack` process) and the PGlite adapter.
// The stack tests use PostgreSQL only where they say so (DATABASE_URL).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
