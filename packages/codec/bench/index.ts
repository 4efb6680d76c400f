/**
 * `pnpm bench` for @audex/codec: resampling against `sox … rate -v`, WAV write throughput against
 * wavefile, the PCM transform, FLAC encode against Debian's flac, and (when `bench/lossy.ts` exists) the MP3/Opus sections.
 * `AUDEX_BENCH_QUICK=1` runs fewer repetitions.
 */
import { existsSync } from 'node:fs';
import { type BenchSection, writeBenchReport } from '@audex/test-utils/bench';
import { flacBench } from './flac-bench.js';
import { resampleBench } from './resample-bench.js';
import { wavBench } from './wav-bench.js';

const sections: BenchSection[] = [...(await resampleBench()), ...(await wavBench()), ...(await flacBench())];
const lossy = new URL('./lossy.ts', import.meta.url);
if (existsSync(lossy)) {
  const mod = (await import(lossy.href)) as { lossyBench: () => Promise<BenchSection[]> };
  sections.push(...(await mod.lossyBench()));
}
writeBenchReport('@audex/codec', sections);
