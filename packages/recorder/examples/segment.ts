// Cuts a sample-accurate segment out of a recording: raw PCM (the default), WAV and MP3.
// Run: node --conditions=@audex/source --import tsx examples/segment.ts
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { AudioRecorder } from '@audex/recorder';
import { MemoryStore } from '@audex/store';

const t0 = Date.now();
const recorder = new AudioRecorder(
  new MemoryStore(),
  { rate: 16_000 },
  {
    source: new SyntheticSource({ speed: 0, durationMs: 3000, startTime: t0 }),
    spoolDir: process.env.AUDEX_SPOOL_DIR ?? join(tmpdir(), 'audex-example-spool'),
  },
);
await recorder.init();
await recorder.start();
while (recorder.frameCount < 48_000) await new Promise((r) => setTimeout(r, 10));
// While recording or after stop(): exactly the samples between the two wall-clock times.
const pcm = await recorder.segment(t0 + 1000, t0 + 2000); // raw PCM in the capture format
const wav = await recorder.segment(t0 + 1000, t0 + 2000, { format: 'wav' });
const mp3 = await recorder.segment(new Date(t0 + 1000), new Date(t0 + 2000), {
  format: 'mp3',
  bitrate: 64_000,
});
await recorder.stop({ frames: false });
// Partly outside the recording: clamped (a 'warning' event says so).
recorder.on('warning', (w) => console.log('warning:', w.code));
const clamped = await recorder.segment(t0 + 2500, t0 + 9000);
console.log(
  JSON.stringify({
    pcmBytes: pcm.byteLength,
    wavBytes: wav.byteLength,
    mp3Bytes: mp3.byteLength,
    clampedBytes: clamped.byteLength,
  }),
);
await recorder.close();
