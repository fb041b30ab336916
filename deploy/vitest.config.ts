import { defineConfig } from 'vitest/config';

// The deployment's checks: the container image laid out and started without a container engine,
// the Kubernetes manifests rendered by kustomize and validated against the API schemas.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
