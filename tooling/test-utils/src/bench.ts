import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One table of a benchmark report. */
export interface BenchSection {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string;
}

/** Median of a list of numbers (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
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
 * Writes a package's benchmark sections where `pnpm bench` expects them (`AUDEX_BENCH_OUT`),
 * or to `fallback` when a bench file is run on its own, and prints them.
 */
export function writeBenchReport(
  pkg: string,
  sections: BenchSection[],
  fallback = `bench-${pkg.replace(/\W+/g, '-')}.json`,
): void {
  const file = process.env.AUDEX_BENCH_OUT ?? fallback;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ package: pkg, sections }, null, 2));
  for (const s of sections) {
    console.log(`\n${s.title}\n${s.columns.join(' | ')}`);
    for (const r of s.rows) console.log(r.join(' | '));
  }
}
