import { createTsupConfig } from '@audex/tsup-config';

// The testing entry imports the main entry by name (kept external) so CodecError has one identity.
export default createTsupConfig({ entry: ['src/index.ts', 'src/testing.ts'], external: ['@audex/codec'] });
