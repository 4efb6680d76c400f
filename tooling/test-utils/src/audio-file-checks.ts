import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { detectTone } from './signals.js';

/**
 * Checks on the audio files the apps write, with the real tools: their length as ffprobe reads
 * it, their samples as ffmpeg decodes them, and how much of their power is a test tone.
 */

const run = promisify(execFile);

/** Duration in seconds of an audio file, as ffprobe reads it. */
export async function probeSeconds(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'default=noprint_wrappers=1:nokey=1',
    file,
  ]);
  return Number(stdout.trim());
}

/** Decodes any audio file with ffmpeg to mono float32 at `rate`. */
export async function decodeWithFfmpeg(file: string, rate = 16_000): Promise<Float32Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-ac', '1', '-ar', String(rate), '-f', 'f32le', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const bytes = stdout as Buffer;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Share of the power at `freq` (0..1) in `samples`, measured over a whole number of the tone's
 * periods so the Goertzel bin sits exactly on the tone (no leakage from a fractional bin).
 */
export function toneShare(samples: Float32Array, rate: number, freq: number): number {
  const step = rate / gcd(rate, freq);
  const n = Math.floor(samples.length / step) * step;
  return detectTone(samples.subarray(0, n), rate, freq);
}
