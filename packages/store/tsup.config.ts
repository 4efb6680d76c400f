import { createTsupConfig } from '@audex/tsup-config';

// dist/index, dist/s3 (S3Store; the AWS SDK stays an external optional peer) and dist/testing. The
// testing entry imports the main entry by name (kept external); StoreError is branded, so
// `instanceof` holds across the copies bundled into each entry.
export default createTsupConfig({
  entry: { index: 'src/index.ts', s3: 'src/s3/index.ts', testing: 'src/testing.ts' },
  external: ['@audex/store'],
});
