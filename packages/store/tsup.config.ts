import { createTsupConfig } from '@audex/tsup-config';

// Subpath entries import the main entry by name (kept external) so classes have one identity.
export default createTsupConfig({
  entry: ['src/index.ts', 'src/s3.ts', 'src/testing.ts'],
  external: ['@audex/store'],
});
