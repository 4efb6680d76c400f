import { defineConfig } from 'tsup';

/**
 * The tsup recipe shared by every audex package: ESM + CJS + .d.ts for each entry,
 * Node 20 target, sourcemaps, no bundling of dependencies.
 *
 * @param {Partial<import('tsup').Options>} [options] overrides, e.g. `entry`.
 */
export function createTsupConfig(options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    shims: true,
    outDir: 'dist',
    ...options,
  });
}
