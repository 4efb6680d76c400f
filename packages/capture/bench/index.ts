import { type AudioConfig, type CapturedChunk, resolveAudioConfig } from '@audex/pcm';
import { type BenchSection, fmt, percentile, writeBenchReport } from '@audex/test-utils/bench';
import { startVirtualMic } from '@audex/test-utils/virtual-mic';
import { PortAudioSource } from '../src/index.js';

// Real capture through the PulseAudio virtual microphone: completeness, chunk pacing, CPU.
const seconds = process.env.AUDEX_BENCH_QUICK === '1' ? 20 : 60;
const configs: [string, AudioConfig][] = [
  ['16 kHz mono int16', resolveAudioConfig({ sampleFormat: 'int16', channels: 1, rate: 16000, chunk: 1024 })],
  [
    '48 kHz stereo float32',
    resolveAudioConfig({ sampleFormat: 'float32', channels: 2, rate: 48000, chunk: 1024 }),
  ],
];
const mic = await startVirtualMic();
const rows: (string | number)[][] = [];
// A capture that reports an error or delivers no audio fails the bench (exit 1), after the report.
const failures: string[] = [];
try {
  for (const [label, config] of configs) {
    const source = new PortAudioSource();
    const arrivals: number[] = [];
    let frames = 0;
    const t0 = performance.now();
    await source.start(
      config,
      (c: CapturedChunk) => {
        arrivals.push(performance.now());
        frames += c.frames;
      },
      (e) => {
        failures.push(`${label}: ${e.message}`);
        console.error(e.message);
      },
    );
    const resolved = performance.now();
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const stopAt = performance.now();
    await source.stop();
    const wall = (stopAt - resolved) / 1000;
    if (frames === 0) failures.push(`${label}: no audio captured in ${seconds} s`);
    const intervals = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    const nominal = (config.chunk / config.rate) * 1000;
    rows.push([
      label,
      fmt(resolved - t0),
      fmt(arrivals[0]! - resolved),
      frames,
      Math.round(config.rate * wall),
      (frames / (config.rate * wall)).toFixed(5),
      fmt(((frames - config.rate * wall) / config.rate) * 1000),
      source.overflowCount,
      fmt(nominal),
      fmt(percentile(intervals, 50)),
      fmt(percentile(intervals, 95)),
      fmt(percentile(intervals, 99)),
      fmt(((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100),
    ]);
  }
} finally {
  await mic.stop();
}
const sections: BenchSection[] = [
  {
    title: `PortAudioSource, ${seconds} s of real capture on the PulseAudio virtual microphone`,
    columns: [
      'config',
      'start() ms',
      'first chunk after start ms',
      'frames captured',
      'rate x wall',
      'ratio',
      'frames - rate x wall, ms of audio',
      'overflows',
      'nominal interval ms',
      'p50 interval ms',
      'p95 interval ms',
      'p99 interval ms',
      'CPU % of one core',
    ],
    rows,
    notes:
      (failures.length > 0 ? `FAILED: ${failures.join('; ')}. ` : '') +
      'Single run per config. start() ms is mostly the virtual mic: PulseAudio null sink renders in up to 2 s blocks until a low-latency reader connects. CPU is the whole process (capture loop only).',
  },
];
writeBenchReport('@audex/capture', sections);
if (failures.length > 0) console.error(`capture bench failed: ${failures.join('; ')}`);
// non-zero when any capture failed, so `pnpm bench` fails too
process.exit(failures.length > 0 ? 1 : 0);
