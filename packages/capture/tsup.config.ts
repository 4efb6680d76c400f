import { createTsupConfig } from '@audex/tsup-config';

export default createTsupConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
