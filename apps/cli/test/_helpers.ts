import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { detectTone } from '@audex/test-utils/signals';

const run = promisify(execFile);

/** The CLI launcher, run exactly as a user would: `node apps/cli/bin/audex.mjs`. */
export const BIN = new URL('../bin/audex.mjs', import.meta.url).pathname;

/** Result of one CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** What the CLI itself wrote to stderr: the native audio stack's chatter (below) removed. */
  stderr: string;
}

/**
 * Lines the system's ALSA and JACK libraries print straight to the process's stderr while
 * PortAudio probes devices (no sound card in CI containers, no JACK server): not the CLI's output.
 */
const NATIVE_NOISE = /^(ALSA lib |Cannot connect to server|jack server is not running|JackShmReadWritePtr)/;

function withoutNativeNoise(text: string): string {
  return text
    .split('\n')
    .filter((line) => !NATIVE_NOISE.test(line) && line.trim() !== '')
    .join('\n');
}

/** Starts the CLI with `args`; `env` is merged over this process's environment. */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a started CLI process's output until it exits. */
export function finish(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: withoutNativeNoise(err) }),
    );
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return finish(startCli(args, env));
}

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
