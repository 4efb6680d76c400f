// Records `minutes` of 48 kHz stereo int24 (speech looped over a -60 dBFS noise floor) from a fast
// SyntheticSource onto a LocalStore with `storeFormat` wav or flac, and reports stop() time (the
// upload: for FLAC the MD5 pass over the spool, then encoding), peak RSS during stop() and the
// stored size as one JSON line.
// Run: node --conditions=@audex/source --import tsx bench/store-format-child.ts <wav|flac> <minutes> <tmpDir> <speech.wav>
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { LocalStore } from '@audex/store';
import { readAudioFloat } from '@audex/test-utils/speech';
import { AudioRecorder } from '../src/index.js';

const [format, minutesText, dir, speechFile] = process.argv.slice(2);
if ((format !== 'wav' && format !== 'flac') || !dir || !speechFile) {
  throw new Error('usage: store-format-child.ts <wav|flac> <minutes> <tmpDir> <speech.wav>');
}
const minutes = Number(minutesText);
const rate = 48_000;
const frames = minutes * 60 * rate;
const { samples: speech, channels: speechChannels } = await readAudioFloat(speechFile);
const speechFrames = speech.length / speechChannels;
const store = new LocalStore({ root: join(dir, `store-${format}`) });
const recorder = new AudioRecorder(
  store,
  { sampleFormat: 'int24', channels: 2, rate, chunk: 4800 },
  {
    spoolDir: join(dir, `spool-${format}`),
    storeFormat: format,
    source: new SyntheticSource({
      speed: 0,
      durationMs: minutes * 60_000,
      generate: (f, c) => {
        const hash = Math.sin(f * 12.9898 + c * 78.233) * 43_758.5453;
        const noise = 0.001 * (2 * (hash - Math.floor(hash)) - 1);
        return speech[(f % speechFrames) * speechChannels + (c % speechChannels)]! + noise;
      },
    }),
  },
);
await recorder.init();
await recorder.start('bench');
while (recorder.frameCount < frames) await new Promise((r) => setTimeout(r, 20));
const before = process.memoryUsage().rss;
let peak = before;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const t0 = performance.now();
const saved = await recorder.stop({ frames: false });
const stopMs = performance.now() - t0;
clearInterval(sample);
const bytes = (await store.download(saved.key, { stream: true }))[Symbol.asyncIterator]();
let size = 0;
for (let next = await bytes.next(); !next.done; next = await bytes.next()) size += next.value.byteLength;
await recorder.close();
process.stdout.write(
  `${JSON.stringify({ format, minutes, frames, stopMs, rssBeforeStopMb: before / 2 ** 20, peakRssMb: peak / 2 ** 20, size })}\n`,
);
