// Records to an S3-compatible store. Needs a reachable endpoint:
//   AUDEX_S3_ENDPOINT=http://127.0.0.1:4569 AUDEX_S3_BUCKET=audex-test \
//   AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… node --conditions=@audex/source --import tsx examples/s3.ts
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { AudioRecorder, RecorderError } from '@audex/recorder';
import { S3Store } from '@audex/store/s3';

const store = new S3Store({
  bucket: process.env.AUDEX_S3_BUCKET ?? 'audex-test',
  region: process.env.AWS_REGION ?? 'us-east-1',
  ...(process.env.AUDEX_S3_ENDPOINT ? { endpoint: process.env.AUDEX_S3_ENDPOINT, forcePathStyle: true } : {}),
});
const recorder = new AudioRecorder(
  store,
  {},
  {
    source: new SyntheticSource({ speed: 0, durationMs: 1000 }),
    spoolDir: process.env.AUDEX_SPOOL_DIR ?? join(tmpdir(), 'audex-example-s3-spool'),
  },
);
await recorder.init(); // uploads anything an earlier crash or outage left in the spool
await recorder.start('example', 's3');
while (recorder.frameCount < 16_000) await new Promise((r) => setTimeout(r, 10));
try {
  const saved = await recorder.stop({ frames: false });
  console.log(JSON.stringify({ key: saved.key, metadata: await store.getMetadata(saved.key) }));
} catch (error) {
  if (error instanceof RecorderError && error.code === 'UPLOAD_FAILED') {
    console.error(
      'S3 unreachable; the recording waits in the spool for recorder.recover() or the next init()',
    );
  } else throw error;
}
await recorder.close();
