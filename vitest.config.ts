import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-temp.ts'],
    // Many tests start real servers and CLI processes (through the TypeScript loader); on a 2-core
    // machine under load one call can take seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
