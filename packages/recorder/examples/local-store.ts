// Records 2 s to a LocalStore and prints what was stored.
// Run: node --conditions=@audex/source --import tsx examples/local-store.ts [rootDir]
// Drop `source` to record from the default microphone instead of a test tone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { AudioRecorder } from '@audex/recorder';
import { LocalStore } from '@audex/store';

const root = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'audex-example-'));
const store = new LocalStore({ root });
{
  await using recorder = new AudioRecorder(
    store,
    { rate: 16_000, channels: 1, sampleFormat: 'int16' },
    { source: new SyntheticSource({ speed: 4, durationMs: 2000 }), spoolDir: join(root, '.spool') },
  );
  const recovered = await recorder.init();
  if (recovered.length > 0)
    console.log(
      'recovered after a crash:',
      recovered.map((r) => r.key),
    );
  const key = await recorder.start('example', 'local');
  while (recorder.frameCount < 32_000) await new Promise((r) => setTimeout(r, 10)); // 2 s at 4× speed
  const saved = await recorder.stop({ frames: false });
  console.log(JSON.stringify({ key, durationMs: saved.durationMs, metadata: await store.getMetadata(key) }));
}
