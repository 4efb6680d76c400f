import { S3Store } from '@audex/store/s3';
import { testStore } from '@audex/store/testing';
import { type S3Server, startS3Server } from '@audex/test-utils/s3-server';
import { afterAll } from 'vitest';

let server: S3Server | undefined;
afterAll(async () => {
  await server?.close();
});

testStore(
  'S3Store on s3rver over HTTP',
  async () => {
    server = await startS3Server({ buckets: ['audex-conformance'] });
    return new S3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: server.credentials,
      partBytes: 5 * 1024 * 1024,
    });
  },
  { teardown: (store) => (store as S3Store).destroy(), atomicNoOverwrite: false },
);
