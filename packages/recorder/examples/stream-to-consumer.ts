// Streams a recording as Ogg Opus while it records and writes the stream to a file.
// Run: node --conditions=@audex/source --import tsx examples/stream-to-consumer.ts [out.ogg]
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { AudioRecorder } from '@audex/recorder';
import { MemoryStore } from '@audex/store';

const out = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'audex-example-')), 'live.ogg');
const recorder = new AudioRecorder(
  new MemoryStore(),
  { rate: 48_000, channels: 1 },
  {
    source: new SyntheticSource({ speed: 4, durationMs: 2000 }),
    spoolDir: process.env.AUDEX_SPOOL_DIR ?? join(tmpdir(), 'audex-example-spool'),
  },
);
await recorder.init();
await recorder.start('live');
const file = createWriteStream(out);
const consumer = (async () => {
  let chunks = 0;
  // One continuous Ogg Opus stream: the chunks concatenate to one valid file.
  for await (const chunk of recorder.stream({ format: 'opus', chunkSize: 4800, from: 'start' })) {
    file.write(chunk);
    chunks++;
  }
  file.end();
  return chunks;
})();
while (recorder.frameCount < 96_000) await new Promise((r) => setTimeout(r, 10)); // 2 s at 4× speed
await recorder.stop({ frames: false }); // the stream flushes its tail and ends
console.log(JSON.stringify({ out, chunks: await consumer }));
await recorder.close();
