import { defineConfig } from 'vitest/config';

// The contract fuzzer (test/fuzz/): one long test against a real PostgreSQL, run as
// its own step of `npm test`; its count, seed and time limit come from FUZZ_* variables.
export default defineConfig({
  root: import.meta.dirname,
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    environment: 'node',
    testTimeout: 1_200_000,
    hookTimeout: 120_000,
  },
});
