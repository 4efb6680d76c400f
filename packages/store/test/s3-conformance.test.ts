import { S3Store } from '@audex/store/s3';
import { testStore } from '@audex/store/testing';
import { S3_SERVER_KINDS, type S3Server, startS3Server } from '@audex/test-utils/s3-server';
import { afterAll } from 'vitest';

// The Store conformance suite on both local servers: s3rver (a fake) and Ceph RGW (a real S3
// implementation that checks signatures and Content-MD5). RGW honours If-None-Match on PutObject,
// so exactly one of several overwrite: false writers wins there; s3rver ignores it.
const servers: S3Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

for (const kind of S3_SERVER_KINDS) {
  testStore(
    `S3Store on ${kind} over HTTP`,
    async () => {
      const server = await startS3Server({ kind, buckets: ['audex-conformance'] });
      servers.push(server);
      return new S3Store({
        bucket: server.bucket,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: server.credentials,
        partBytes: 5 * 1024 * 1024,
      });
    },
    { teardown: (store) => (store as S3Store).destroy(), atomicNoOverwrite: kind === 'rgw' },
  );
}
