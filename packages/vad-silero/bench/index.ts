/**
 * `pnpm bench` for @audex/vad-silero: voice activity CPU at 16 kHz (and 48 kHz stereo) fed live in
 * 20 ms chunks through @audex/analysis's detector. `AUDEX_BENCH_QUICK=1` uses shorter runs.
 */
import { type BenchSection, writeBenchReport } from '@audex/test-utils/bench';
import { vadBench } from './vad-bench.js';

const sections: BenchSection[] = await vadBench();
writeBenchReport('@audex/vad-silero', sections);
