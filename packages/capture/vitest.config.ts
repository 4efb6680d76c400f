import { createVitestConfig } from '@audex/vitest-config';

// Real-capture files share one CPU-bound machine and PulseAudio: run files one after another so
// their timing checks do not measure each other's load.
export default createVitestConfig({ test: { fileParallelism: false } });
