import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { detectTone } from '@audex/test-utils/signals';

const run = promisify(execFile);

/** The web demo launcher, as `pnpm start` runs it. */
export const WEB_BIN = new URL('../bin/audex-web.mjs', import.meta.url).pathname;
/** Where screenshots are kept (gitignored). */
export const ARTIFACTS = new URL('../.test-artifacts/', import.meta.url).pathname;

/** A web demo server running as its own process. */
export interface RunningServer {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the web demo on a free port; resolves once it prints its URL. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [WEB_BIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    process: child,
    output: () => log,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
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
