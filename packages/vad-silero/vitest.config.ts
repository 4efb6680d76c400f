import { createVitestConfig } from '@audex/vitest-config';

export default createVitestConfig();
