import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AudioSource, SyntheticSource, type SyntheticSourceOptions } from '@audex/capture';
import { parseWavHeader } from '@audex/codec';
import { type AudioConfig, fromFloat32, type SampleFormat } from '@audex/pcm';
import { MemoryStore, type Store } from '@audex/store';
import { afterEach } from 'vitest';
import { AudioRecorder, type AudioRecorderOptions } from '../src/index.js';

/** A deterministic, non-periodic-looking test signal: two tones whose sum never repeats in a test. */
export function testSignal(frame: number, channel: number, rate: number): number {
  const t = frame / rate;
  return 0.4 * Math.sin(2 * Math.PI * (330 + 110 * channel) * t) + 0.2 * Math.sin(2 * Math.PI * 1234.5 * t);
}

/**
 * {@link testSignal} with deterministic white noise at -16 dBFS added: audio FLAC cannot shrink
 * much (a tone alone compresses 4:1), for tests that need a FLAC of many upload parts.
 */
export function noisySignal(frame: number, channel: number, rate: number): number {
  const hash = Math.sin(frame * 12.9898 + channel * 78.233) * 43_758.5453;
  return 0.6 * testSignal(frame, channel, rate) + 0.3 * (2 * (hash - Math.floor(hash)) - 1);
}

/** The bytes SyntheticSource produces for frames [start, end) of `signal`. */
export function expectedPcm(
  start: number,
  end: number,
  config: Pick<AudioConfig, 'rate' | 'channels' | 'sampleFormat'>,
  signal = testSignal,
): Uint8Array {
  const { rate, channels } = config;
  const samples = new Float32Array((end - start) * channels);
  for (let f = start; f < end; f++) {
    for (let c = 0; c < channels; c++) samples[(f - start) * channels + c] = signal(f, c, rate);
  }
  return fromFloat32(samples, config.sampleFormat as SampleFormat);
}

/** A temp directory removed by the returned function. */
export function tempDir(prefix = 'audex-recorder-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Rig {
  recorder: AudioRecorder;
  store: Store;
  source: SyntheticSource;
  spoolDir: string;
  cleanup(): Promise<void>;
}

/** What {@link makeRig} builds the rig from. */
export interface RigOptions {
  config?: Partial<AudioConfig>;
  source?: SyntheticSourceOptions;
  recorder?: Omit<AudioRecorderOptions, 'source' | 'spoolDir'>;
  store?: Store;
  startTime?: number;
  /** A source of the test's own (fault injection) instead of the SyntheticSource. */
  customSource?: AudioSource;
}

/** A recorder on a MemoryStore (unless given) with a fast SyntheticSource playing `testSignal`. */
export function makeRig(options: RigOptions = {}): Rig {
  const spool = tempDir();
  const store = options.store ?? new MemoryStore();
  const source = new SyntheticSource({ generate: testSignal, speed: 0, ...options.source });
  const recorder = new AudioRecorder(store, options.config ?? {}, {
    retryDelayMs: 10,
    ...options.recorder,
    source: options.customSource ?? source,
    spoolDir: spool.dir,
  });
  return {
    recorder,
    store,
    source,
    spoolDir: spool.dir,
    async cleanup() {
      await recorder.close().catch(() => {});
      spool.remove();
    },
  };
}

/** The per-test rigs and cleanups of one test file (see {@link rigsPerTest}). */
export interface RigsPerTest {
  /** Makes a rig (as {@link makeRig}) that is closed and whose spool is removed after the current test. */
  make(options?: RigOptions): Rig;
  /** Runs `cleanup` after the current test, once its rigs are closed. */
  defer(cleanup: () => unknown): void;
}

/**
 * Per-test teardown for a test file; call it once at the file's top level. After each test every
 * rig made through `make` is closed (in order), then every `defer`red cleanup runs (in order).
 */
export function rigsPerTest(): RigsPerTest {
  const rigs: Rig[] = [];
  const deferred: (() => unknown)[] = [];
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.cleanup();
    for (const cleanup of deferred.splice(0)) await cleanup();
  });
  return {
    make(options) {
      const rig = makeRig(options);
      rigs.push(rig);
      return rig;
    },
    defer(cleanup) {
      deferred.push(cleanup);
    },
  };
}

/** Resolves once the recorder's current recording holds at least `frames` frames. */
export async function waitForFrames(
  recorder: AudioRecorder,
  frames: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (recorder.frameCount < frames) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${frames} frames (have ${recorder.frameCount})`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The data chunk of a WAV file (checks the header first). */
export function wavData(file: Uint8Array): { info: ReturnType<typeof parseWavHeader>; data: Uint8Array } {
  const info = parseWavHeader(file);
  const end = info.dataBytes === null ? file.byteLength : info.dataOffset + info.dataBytes;
  return { info, data: file.subarray(info.dataOffset, end) };
}

/** Collects an async iterable of byte chunks. */
export async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

/**
 * Decodes a file with ffmpeg to interleaved s16le at its own rate/channels (or those given);
 * returns the samples and ffmpeg's complaints (empty for a clean file).
 */
export function ffmpegDecode(
  file: Uint8Array,
  ext: string,
  out: { rate?: number; channels?: number } = {},
): { samples: Int16Array; stderr: string } {
  const dir = tempDir('audex-ffmpeg-');
  try {
    const path = join(dir.dir, `in.${ext}`);
    writeFileSync(path, file);
    const args = ['-v', 'error', '-i', path, '-f', 's16le'];
    if (out.rate) args.push('-ar', String(out.rate));
    if (out.channels) args.push('-ac', String(out.channels));
    args.push('-');
    const result = spawnSync('ffmpeg', args, { maxBuffer: 1 << 30 });
    if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr.toString()}`);
    const bytes = new Uint8Array(result.stdout);
    return {
      samples: new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1),
      stderr: result.stderr.toString(),
    };
  } finally {
    dir.remove();
  }
}

/** Frequency (Hz) of the strongest tone in `samples` (mono), by a coarse DFT scan. */
export function dominantFrequency(
  samples: ArrayLike<number>,
  rate: number,
  maxHz = 4000,
  stepHz = 5,
): number {
  let best = 0;
  let bestPower = -1;
  const n = samples.length;
  for (let f = stepHz; f <= maxHz; f += stepHz) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * f) / rate;
    for (let i = 0; i < n; i++) {
      re += samples[i]! * Math.cos(w * i);
      im += samples[i]! * Math.sin(w * i);
    }
    const p = re * re + im * im;
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

/**
 * Checks a stored FLAC with Debian's `flac`: `flac -t` (frame CRCs and the STREAMINFO MD5 against
 * the decoded samples) and decodes it to raw little-endian signed PCM with `flac -d`. Returns that
 * PCM and `metaflac`'s STREAMINFO facts.
 */
export function flacChecks(file: Uint8Array): {
  testLog: string;
  testOk: boolean;
  pcm: Uint8Array;
  totalSamples: number;
  md5: string;
  bitsPerSample: number;
} {
  const dir = tempDir('audex-flac-');
  try {
    const path = join(dir.dir, 'stored.flac');
    writeFileSync(path, file);
    const test = spawnSync('flac', ['-t', path], { encoding: 'utf8' });
    const testLog = test.stderr ?? '';
    const decoded = spawnSync(
      'flac',
      ['-d', '-s', '-c', '--force-raw-format', '--endian=little', '--sign=signed', path],
      { maxBuffer: 1 << 30 },
    );
    if (decoded.status !== 0) throw new Error(`flac -d failed: ${decoded.stderr.toString()}`);
    const info = spawnSync('metaflac', ['--show-total-samples', '--show-md5sum', '--show-bps', path], {
      encoding: 'utf8',
    });
    const [total, md5, bps] = info.stdout.trim().split('\n');
    return {
      testLog,
      testOk:
        test.status === 0 &&
        / ok\s*$/m.test(testLog.replaceAll('\b', ' ')) &&
        !/WARNING|mismatch/i.test(testLog),
      pcm: new Uint8Array(decoded.stdout),
      totalSamples: Number(total),
      md5: md5 ?? '',
      bitsPerSample: Number(bps),
    };
  } finally {
    dir.remove();
  }
}
