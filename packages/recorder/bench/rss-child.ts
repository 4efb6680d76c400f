// Records `minutes` of 48 kHz stereo float32 from a fast SyntheticSource with two streams
// attached, onto a LocalStore, and reports peak RSS and stop() time as one JSON line.
// Run: node --conditions=@audex/source --import tsx bench/rss-child.ts <minutes> <tmpDir>
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { LocalStore } from '@audex/store';
import { AudioRecorder } from '../src/index.js';

const minutes = Number(process.argv[2] ?? 60);
const dir = process.argv[3];
if (!dir) throw new Error('usage: rss-child.ts <minutes> <tmpDir>');
const rate = 48_000;
const frames = minutes * 60 * rate;
const store = new LocalStore({ root: join(dir, 'store') });
const recorder = new AudioRecorder(
  store,
  { sampleFormat: 'float32', channels: 2, rate, chunk: 4800 },
  {
    spoolDir: join(dir, 'spool'),
    source: new SyntheticSource({
      speed: 0,
      durationMs: minutes * 60_000,
      generate: (f, c) => 0.25 * Math.sin(f * (0.05 + 0.01 * c)),
    }),
  },
);
let peak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);
await recorder.init();
const t0 = performance.now();
await recorder.start('bench');
const drain = async (stream: AsyncIterable<Uint8Array>): Promise<number> => {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.byteLength;
  return bytes;
};
const streams = [
  drain(recorder.stream({ chunkSize: 4800 })),
  drain(recorder.stream({ chunkSize: 4800, rate: 16_000, channels: 1, sampleFormat: 'int16' })),
];
while (recorder.frameCount < frames) await new Promise((r) => setTimeout(r, 20));
const recordMs = performance.now() - t0;
const t1 = performance.now();
const saved = await recorder.stop({ frames: false });
const stopMs = performance.now() - t1;
const streamed = await Promise.all(streams);
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
const size = (await store.getMetadata(saved.key)).frame_count as number;
await recorder.close();
process.stdout.write(
  `${JSON.stringify({ minutes, recordMs, stopMs, peakRssMb: peak / 2 ** 20, frames: size, streamed })}\n`,
);
