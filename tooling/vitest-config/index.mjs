import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * The vitest setup shared by every audex package. Packages resolve each other's sources
 * through the `@audex/source` export condition, so tests never need a prior build.
 * Results are also written to `.vitest/results.json`, which `pnpm test` sums up.
 *
 * @param {import('vitest/config').UserConfig} [overrides]
 */
export function createVitestConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { conditions: ['@audex/source'] },
      ssr: { resolve: { conditions: ['@audex/source'] } },
      test: {
        include: ['test/**/*.test.ts'],
        typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
        testTimeout: 30_000,
        hookTimeout: 60_000,
        reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
        pool: 'forks',
      },
    }),
    overrides,
  );
}
