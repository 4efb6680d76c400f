/**
 * `pnpm bench` for @audex/analysis: loudness measurement speed against ffmpeg's ebur128 filter on a
 * 60 min file (voice activity CPU is @audex/vad-silero's bench). `AUDEX_BENCH_QUICK=1` uses a 5 min file.
 */
import { type BenchSection, writeBenchReport } from '@audex/test-utils/bench';
import { loudnessBench } from './loudness-bench.js';

const sections: BenchSection[] = await loudnessBench();
writeBenchReport('@audex/analysis', sections);
