import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Test signals and measurements shared by the MP3 and Opus tests. */

/** Interleaved sine tones: channel `c` gets `freqs[c % freqs.length]` Hz at amplitude `amp`. */
export function tone(
  rate: number,
  channels: number,
  frames: number,
  freqs: readonly number[],
  amp = 0.5,
): Float32Array {
  const out = new Float32Array(frames * channels);
  for (let c = 0; c < channels; c++) {
    const w = (2 * Math.PI * freqs[c % freqs.length]!) / rate;
    for (let i = 0; i < frames; i++) out[i * channels + c] = amp * Math.sin(w * i);
  }
  return out;
}

/** One channel out of interleaved samples. */
export function channel(samples: Float32Array, channels: number, c: number): Float32Array {
  const out = new Float32Array(samples.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = samples[i * channels + c]!;
  return out;
}

/** Decodes a file with the ffmpeg CLI to interleaved float32 at the file's own rate and channels. */
export function ffmpegDecode(data: Uint8Array, extraArgs: readonly string[] = []): Float32Array {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', ...extraArgs, '-f', 'f32le', 'pipe:1'], {
    input: data,
    maxBuffer: 1 << 30,
  });
  return new Float32Array(out.buffer, out.byteOffset, out.length / 4).slice();
}

/** Runs a CLI tool on the bytes written to a temporary file; returns stdout + stderr and the exit status. */
export function runOnFile(
  tool: string,
  args: readonly string[],
  data: Uint8Array,
  ext: string,
): { output: string; status: number } {
  const dir = mkdtempSync(join(tmpdir(), 'audex-codec-'));
  const file = join(dir, `in.${ext}`);
  try {
    writeFileSync(file, data);
    try {
      const stdout = execFileSync(tool, [...args, file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { output: stdout, status: 0 };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; status?: number };
      return { output: `${e.stdout ?? ''}${e.stderr ?? ''}`, status: e.status ?? 1 };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signal-to-noise ratio in dB of `test` against `ref` over `[from, to)`. */
export function snr(
  ref: Float32Array,
  test: Float32Array,
  from = 0,
  to = Math.min(ref.length, test.length),
): number {
  let s = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    s += ref[i]! ** 2;
    n += (ref[i]! - test[i]!) ** 2;
  }
  return 10 * Math.log10(s / Math.max(n, 1e-30));
}

/** The strongest frequency (Hz) in `samples` (mono), by a Hann-windowed DFT scan with 1 Hz steps around peaks. */
export function dominantFrequency(samples: Float32Array, rate: number): number {
  const n = Math.min(samples.length, 8192);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = samples[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  const power = (f: number): number => {
    const w = (2 * Math.PI * f) / rate;
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      re += x[i]! * Math.cos(w * i);
      im -= x[i]! * Math.sin(w * i);
    }
    return re * re + im * im;
  };
  let best = 0;
  let bestPower = -1;
  const coarse = rate / n;
  for (let f = coarse; f < rate / 2; f += coarse) {
    const p = power(f);
    if (p > bestPower) [best, bestPower] = [f, p];
  }
  for (let f = best - coarse; f <= best + coarse; f += 1) {
    const p = power(f);
    if (p > bestPower) [best, bestPower] = [f, p];
  }
  return best;
}

/** RMS of a range. */
export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! ** 2;
  return Math.sqrt(s / Math.max(1, to - from));
}
