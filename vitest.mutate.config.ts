import { defineConfig } from 'vitest/config';

// The tests that pin the rules StrykerJS mutates (`npm run mutate`): pure and fast, so each mutant
// is judged in seconds. The full suite (vitest.config.ts) runs in CI.
export default defineConfig({
  test: {
    include: [
      'test/names.test.ts',
      'test/lifecycle.test.ts',
      'test/grant-rules.test.ts',
      'test/rules.test.ts',
      'test/layout.test.ts',
      'test/errors.test.ts',
    ],
    globalSetup: ['test/support/global-temp.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
