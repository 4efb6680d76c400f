// Benchmark helpers shared by every package's `bench/`: summarising repeated runs under a label that
// says what the figure is (median of N ≥ 3, best of 2, single run), capping figures that go beyond
// what float32 can resolve, and writing one package's sections for the report of one `pnpm bench` run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One table of a benchmark report. */
export interface BenchSection {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string;
}

/**
 * Median of a list of numbers (NaN when empty): the middle value, or the mean of the two middle
 * values for an even count. Only call a figure a median when it summarises at least 3 runs
 * ({@link summarize} picks the right label).
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** A figure summarised from repeated runs, with the label that says what it is. */
export interface Summary {
  /** The figure: the median of 3 or more runs, the best of 2, or the one run. */
  value: number;
  /** How many runs it summarises. */
  runs: number;
  /** `median of N` (N ≥ 3), `best of 2` or `single run`. */
  label: string;
}

/**
 * Summarises `values` (one per run) honestly: the median of 3 or more runs, the best of 2 (a median
 * of 2 would be the mean of a good and a bad run, which no run measured), or the single run.
 * `better` says which end is best: `lower` for times and memory, `higher` for throughput.
 */
export function summarize(values: readonly number[], better: 'lower' | 'higher' = 'lower'): Summary {
  const runs = values.length;
  if (runs === 0) throw new Error('[audex/bench] summarize() needs at least one run, got none');
  return {
    value: runs >= 3 ? median(values) : runs === 2 ? best(values, better) : values[0]!,
    runs,
    label: statLabel(runs),
  };
}

/** The label of a figure summarising `runs` runs: `median of N` (N ≥ 3), `best of 2`, `single run`. */
export function statLabel(runs: number): string {
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`[audex/bench] runs must be a whole number >= 1, got ${runs}`);
  return runs >= 3 ? `median of ${runs}` : runs === 2 ? 'best of 2' : 'single run';
}

function best(values: readonly number[], better: 'lower' | 'higher'): number {
  return better === 'lower' ? Math.min(...values) : Math.max(...values);
}

/** Runs `fn` `runs` times after `warmup` runs, returning each run's duration in ms. */
export async function timeRuns(fn: () => unknown, runs: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Formats a number with `digits` significant decimals for a table cell. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 100
    ? value.toFixed(0)
    : abs >= 1
      ? value.toFixed(Math.min(digits, 2))
      : value.toPrecision(digits);
}

/**
 * SNR in dB of `samples` (one channel of interleaved audio) against a sine of `freq` Hz whose
 * amplitude and phase are fitted by least squares; the noise is the residual, summed sample by
 * sample (not `total − signal`, which cancels to nothing or below zero for a clean tone and used to
 * show up as a clamp value such as 340 dB). `skip` frames at each edge are ignored.
 */
export function sineFitSnrDb(
  samples: Float32Array | Float64Array,
  freq: number,
  rate: number,
  options: { channels?: number; channel?: number; skip?: number } = {},
): number {
  const channels = options.channels ?? 1;
  const channel = options.channel ?? 0;
  const skip = options.skip ?? 0;
  const frames = Math.floor(samples.length / channels);
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let ys = 0;
  let yc = 0;
  for (let i = skip; i < frames - skip; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    const s = Math.sin(w);
    const k = Math.cos(w);
    const y = samples[i * channels + channel]!;
    ss += s * s;
    cc += k * k;
    sc += s * k;
    ys += y * s;
    yc += y * k;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let signal = 0;
  let noise = 0;
  for (let i = skip; i < frames - skip; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    const fit = a * Math.sin(w) + b * Math.cos(w);
    const r = samples[i * channels + channel]! - fit;
    signal += fit * fit;
    noise += r * r;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

/**
 * The highest SNR float32 samples can show for a sine of `amplitude` at `freq`/`rate`: the SNR of
 * the exact (float64) sine rounded to float32, measured with {@link sineFitSnrDb}. A resampler or
 * codec that outputs float32 cannot score above it; a figure at or above it means "as good as
 * float32 can say", not a real SNR.
 */
export function float32SineSnrCeilingDb(freq: number, rate: number, amplitude = 0.5, frames = rate): number {
  const x = new Float32Array(frames);
  for (let i = 0; i < frames; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return sineFitSnrDb(x, freq, rate);
}

/**
 * A dB figure for a table cell, capped at `ceilingDb` (what the sample format can resolve, e.g.
 * {@link float32SineSnrCeilingDb}): within `marginDb` of the ceiling or above it, the cell reads
 * `≥ 151 (float32 limit)` instead of a number the format cannot produce.
 */
export function cappedDb(
  valueDb: number,
  ceilingDb: number,
  limitName = 'float32 limit',
  marginDb = 1,
): string {
  return valueDb >= ceilingDb - marginDb
    ? `≥ ${fmt(ceilingDb - marginDb, 3)} (${limitName})`
    : fmt(valueDb, 4);
}

/**
 * Throws on a label that claims more than the figure is: `median of 1` or `median of 2` (use
 * {@link summarize} / {@link statLabel}: `single run`, `best of 2`).
 */
export function assertHonestLabels(pkg: string, sections: readonly BenchSection[]): void {
  for (const s of sections) {
    for (const text of [s.title, s.notes ?? '', ...s.columns]) {
      const m = /median of (\d+)/i.exec(text);
      if (m && Number(m[1]) < 3) {
        throw new Error(
          `[audex/bench] ${pkg}: "${m[0]}" in "${s.title}" is not a median; label 1 run "single run" and 2 runs "best of 2"`,
        );
      }
    }
  }
}

/**
 * Writes a package's benchmark sections where `pnpm bench` expects them (`AUDEX_BENCH_OUT`, tagged
 * with the run id `AUDEX_BENCH_RUN` so the report never picks up a file from another run), or to
 * `fallback` when a bench file is run on its own, and prints them. Throws on a dishonest label
 * ({@link assertHonestLabels}).
 */
export function writeBenchReport(
  pkg: string,
  sections: BenchSection[],
  fallback = `bench-${pkg.replace(/\W+/g, '-')}.json`,
): void {
  assertHonestLabels(pkg, sections);
  const file = process.env.AUDEX_BENCH_OUT ?? fallback;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify(
      {
        package: pkg,
        run: process.env.AUDEX_BENCH_RUN ?? null,
        writtenAt: new Date().toISOString(),
        sections,
      },
      null,
      2,
    ),
  );
  for (const s of sections) {
    console.log(`\n${s.title}\n${s.columns.join(' | ')}`);
    for (const r of s.rows) console.log(r.join(' | '));
  }
}
