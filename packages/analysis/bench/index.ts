/**
 * `pnpm bench` for @audex/analysis: voice activity CPU at 16 kHz (and 48 kHz stereo) fed live in
 * 20 ms chunks, and loudness measurement speed against ffmpeg's ebur128 filter on a 60 min file.
 * `AUDEX_BENCH_QUICK=1` uses a 5 min file and shorter runs.
 */
import { type BenchSection, writeBenchReport } from '@audex/test-utils/bench';
import { loudnessBench } from './loudness-bench.js';
import { vadBench } from './vad-bench.js';

const sections: BenchSection[] = [...(await vadBench()), ...(await loudnessBench())];
writeBenchReport('@audex/analysis', sections);
