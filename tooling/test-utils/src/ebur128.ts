// The loudness reference for tests: ffmpeg's ebur128 filter with true peak (integrated loudness and
// loudness range to 3 decimals from its frame metadata, true peak from its per-channel linear peaks).
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ffmpeg's `ebur128=peak=true` reading of a file. */
export interface Ebur128Reading {
  /** Integrated loudness, LUFS. */
  readonly integratedLufs: number;
  /** Loudness range, LU. */
  readonly loudnessRangeLu: number;
  /** True peak over all channels, dBTP. */
  readonly truePeakDbtp: number;
}

/** Measures a file with ffmpeg's `ebur128=peak=true` filter. */
export async function ffmpegEbur128(file: string): Promise<Ebur128Reading> {
  const meta = join(tmpdir(), `ebur128-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  try {
    await run('ffmpeg', [
      '-nostats',
      '-hide_banner',
      '-v',
      'error',
      '-i',
      file,
      '-af',
      `ebur128=peak=true:metadata=1,ametadata=print:file=${meta}`,
      '-f',
      'null',
      '-',
    ]);
    const last: Record<string, number> = {};
    for (const line of (await readFile(meta, 'utf8')).split('\n')) {
      const m = /^lavfi\.r128\.([^=]+)=(.*)$/.exec(line);
      if (m) last[m[1]!] = Number(m[2]);
    }
    const peaks = Object.entries(last)
      .filter(([k]) => k.startsWith('true_peaks_ch'))
      .map(([, v]) => v);
    return {
      integratedLufs: last.I!,
      loudnessRangeLu: last.LRA!,
      truePeakDbtp: 20 * Math.log10(Math.max(...peaks)),
    };
  } finally {
    await rm(meta, { force: true });
  }
}
