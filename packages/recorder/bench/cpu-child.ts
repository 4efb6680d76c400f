// The recorder's process CPU per second of audio while it records in real time, with its default
// options (spool, journal commits, loudness metering; no listener, no stream), in a fresh process.
// Prints one JSON line.
// Run: node --conditions=@audex/source --import tsx bench/cpu-child.ts <spoolDir> <rate> <channels>
//        <sampleFormat> <warmupS> <measureS> <signal: tone | path of raw interleaved float32> [sourceOnly 0|1]
//
// The source delivers the config's default chunks (1024 frames) at real time from a timer every
// 10 ms, as PortAudioSource's wake-ups do, each chunk a fresh copy of the next piece of the signal
// (looped). CPU is process.cpuUsage() (user + system, every thread: V8, GC, libuv's file writes)
// from the end of the warm-up to the end of the measurement; stop() and the upload are outside.
// With sourceOnly=1 the chunks go nowhere (the harness's own cost). Kept free of newer APIs so the
// same file runs on older trees (AudioConfig gets both `format` and `sampleFormat`).
import { readFileSync } from 'node:fs';
import type { AudioSource, InputDevice } from '@audex/capture';
import { type CapturedChunk, fromFloat32, type SampleFormat } from '@audex/pcm';
import { AudioRecorder } from '../src/index.js';
import { nullStore } from './null-store.js';

const [spoolDir, rateArg, channelsArg, formatArg, warmupArg, measureArg, signalArg, sourceOnlyArg] =
  process.argv.slice(2);
if (!spoolDir || !signalArg) throw new Error('usage: see the header of bench/cpu-child.ts');
const rate = Number(rateArg);
const channels = Number(channelsArg);
const sampleFormat = formatArg as SampleFormat;
const warmupS = Number(warmupArg);
const measureS = Number(measureArg);
const sourceOnly = sourceOnlyArg === '1';
const CHUNK = 1024;
const TICK_MS = 10;

/** Ten seconds of the signal (or the whole file), interleaved float. */
function loadSignal(): Float32Array {
  if (signalArg === 'tone') {
    const x = new Float32Array(rate * 10 * channels);
    for (let i = 0; i < x.length / channels; i++)
      for (let c = 0; c < channels; c++)
        x[i * channels + c] = 0.5 * Math.sin((2 * Math.PI * 997 * i) / rate + c);
    return x;
  }
  const bytes = readFileSync(signalArg!);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** Real-time source: every TICK_MS, the chunks whose last frame is due, each a fresh buffer. */
class PacedSource implements AudioSource {
  readonly #pcm: Uint8Array;
  readonly #frameBytes: number;
  readonly #loopFrames: number;
  #timer: NodeJS.Timeout | undefined;
  framesDelivered = 0;

  constructor(signal: Float32Array) {
    // whole chunks, so a chunk never wraps around the loop
    const frames = Math.floor(signal.length / channels / CHUNK) * CHUNK;
    this.#pcm = fromFloat32(signal.subarray(0, frames * channels), sampleFormat);
    this.#frameBytes = this.#pcm.length / frames;
    this.#loopFrames = frames;
  }

  async listInputDevices(): Promise<InputDevice[]> {
    return [{ index: 0, name: 'paced', channels, defaultRate: rate, hostApi: 'bench', isDefault: true }];
  }

  async start(_config: unknown, onChunk: (chunk: CapturedChunk) => void): Promise<void> {
    const t0 = performance.now();
    const startTime = Date.now();
    this.#timer = setInterval(() => {
      const due = Math.floor((((performance.now() - t0) / 1000) * rate) / CHUNK) * CHUNK;
      while (this.framesDelivered + CHUNK <= due) {
        const at = (this.framesDelivered % this.#loopFrames) * this.#frameBytes;
        const data = this.#pcm.slice(at, at + CHUNK * this.#frameBytes);
        onChunk({ data, frames: CHUNK, time: startTime + (this.framesDelivered / rate) * 1000 });
        this.framesDelivered += CHUNK;
      }
    }, TICK_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const source = new PacedSource(loadSignal());
let recorder: AudioRecorder | undefined;
if (sourceOnly) {
  await source.start(undefined, () => {});
} else {
  const config = { rate, channels, sampleFormat, format: sampleFormat, chunk: CHUNK };
  recorder = new AudioRecorder(nullStore(), config as never, { source, spoolDir });
  await recorder.init();
  await recorder.start('bench');
}
await sleep(warmupS * 1000);
const cpu0 = process.cpuUsage();
const frames0 = source.framesDelivered;
const wall0 = performance.now();
await sleep(measureS * 1000);
const cpu = process.cpuUsage(cpu0);
const audioS = (source.framesDelivered - frames0) / rate;
const wallS = (performance.now() - wall0) / 1000;
const rssMb = process.memoryUsage().rss / 2 ** 20;
if (recorder) {
  await recorder.stop({ frames: false });
  await recorder.close();
} else {
  await source.stop();
}
process.stdout.write(
  `${JSON.stringify({
    cpuMsPerAudioS: (cpu.user + cpu.system) / 1000 / audioS,
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    audioS,
    wallS,
    rssMb,
  })}\n`,
);
