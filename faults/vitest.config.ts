import { defineConfig } from 'vitest/config';

// Faults with real processes: a private PostgreSQL cluster that is stopped and
// started, API processes killed with SIGKILL, the identity provider taken down,
// many clients at once. Files run one at a time: each one loads the machine.
export default defineConfig({
  test: {
    include: ['*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
