import { createVitestConfig } from '@audex/vitest-config';

// Real-capture files share one CPU-bound machine and PulseAudio: run files one after another.
export default createVitestConfig({ test: { fileParallelism: false } });
