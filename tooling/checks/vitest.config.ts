import { createVitestConfig } from '@audex/vitest-config';

export default createVitestConfig({ test: { testTimeout: 300_000 } });
