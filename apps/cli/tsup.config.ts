// @audex/cli's build: the `audex` executable as plain ESM JavaScript in dist/ (no tsx at run time).
// Code splitting keeps each command in its own chunk, so `audex --version` loads no audio package.
import { createTsupConfig } from '@audex/tsup-config';

export default createTsupConfig({
  entry: { audex: 'src/main.ts' },
  format: ['esm'],
  dts: false,
  splitting: true,
});
