import { createHash, randomBytes } from 'node:crypto';
import type { ProxiedRequest, ResponseHead } from '@audex/test-utils/s3-fault-proxy';
import { S3_SERVER_KINDS } from '@audex/test-utils/s3-server';
import { describe, expect, it } from 'vitest';
import { Crc32c } from '../src/s3/crc32c.js';
import { MiB, pieces, rejection, type S3Rig, useS3Rig } from './_s3-rig.js';

const crc32c = (bytes: Uint8Array): string => new Crc32c().update(bytes).digestBase64();
const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('base64');

/**
 * Makes the proxy answer like a server that verifies flexible checksums (AWS S3): it echoes the
 * CRC32C a PutObject or UploadPart carried and the checksum algorithm of a CreateMultipartUpload.
 * Neither local server does, so this is how the CRC32C mode runs against them.
 */
function echoChecksums(
  rig: S3Rig,
  change: (value: string, request: ProxiedRequest) => string = (v) => v,
): void {
  rig.proxy.inject({
    match: ['PutObject', 'UploadPart', 'CreateMultipartUpload'],
    fault: {
      type: 'head',
      change: (head: ResponseHead, request: ProxiedRequest) => {
        if (head.status >= 300) return;
        const sent = request.headers['x-amz-checksum-crc32c'];
        if (typeof sent === 'string') head.headers['x-amz-checksum-crc32c'] = change(sent, request);
        const algorithm = request.headers['x-amz-checksum-algorithm'];
        if (typeof algorithm === 'string') {
          head.headers['x-amz-checksum-algorithm'] = algorithm;
          head.headers['x-amz-checksum-type'] = String(request.headers['x-amz-checksum-type'] ?? 'COMPOSITE');
        }
      },
    },
  });
}

const requestsOf = (rig: S3Rig, kind: string): ProxiedRequest[] =>
  rig.proxy.requests.filter((r) => r.kind === kind);

describe.each(S3_SERVER_KINDS)('S3Store integrity modes on %s', (kind) => {
  const rig = useS3Rig(kind);

  it("'auto' on a server that ignores checksums: CRC32C offered, Content-MD5 on every request, the size sent with Complete", async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    const small = randomBytes(1000);
    const large = randomBytes(12 * MiB);
    await store.upload(small, `${prefix}small`);
    await store.uploadMultipart(pieces(large), `${prefix}large`);
    const [put] = requestsOf(rig, 'PutObject');
    expect(put!.headers['content-md5']).toBe(md5(small));
    expect(put!.headers['x-amz-checksum-crc32c']).toBe(crc32c(small));
    const [create] = requestsOf(rig, 'CreateMultipartUpload');
    expect([create!.headers['x-amz-checksum-algorithm'], create!.headers['x-amz-checksum-type']]).toEqual([
      'CRC32C',
      'FULL_OBJECT',
    ]);
    const parts = requestsOf(rig, 'UploadPart');
    expect(parts.map((p) => p.headers['content-md5'])).toEqual(
      [0, 1, 2].map((i) => md5(large.subarray(i * 5 * MiB, (i + 1) * 5 * MiB))),
    );
    expect(parts.every((p) => p.headers['x-amz-checksum-crc32c'] === undefined)).toBe(true);
    const [complete] = requestsOf(rig, 'CompleteMultipartUpload');
    expect(complete!.headers['x-amz-mp-object-size']).toBe(String(12 * MiB));
    expect(Buffer.from(await store.download(`${prefix}large`)).equals(large)).toBe(true);
  });

  it("'md5' sends no flexible-checksum header at all", async () => {
    const store = rig.store({ integrity: 'md5' });
    const prefix = rig.prefix();
    await store.upload(randomBytes(1000), `${prefix}small`);
    await store.uploadMultipart(pieces(randomBytes(11 * MiB)), `${prefix}large`);
    for (const request of rig.proxy.requests) {
      expect(
        Object.keys(request.headers).filter((h) => h.startsWith('x-amz-checksum')),
        request.kind,
      ).toEqual([]);
    }
    expect(requestsOf(rig, 'UploadPart').every((p) => typeof p.headers['content-md5'] === 'string')).toBe(
      true,
    );
  });

  it("'crc32c' fails an upload the server does not confirm a CRC32C for, and leaves no upload behind", async () => {
    const store = rig.store({ integrity: 'crc32c' });
    const prefix = rig.prefix();
    const single = await rejection(store.upload(randomBytes(1000), `${prefix}small`));
    expect(single).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining("integrity 'crc32c'"),
    });
    const multi = await rejection(store.uploadMultipart(pieces(randomBytes(11 * MiB)), `${prefix}large`));
    expect(multi).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining("integrity 'crc32c'"),
    });
    expect(requestsOf(rig, 'UploadPart')).toEqual([]);
    expect(await rig.store().listIncompleteUploads(prefix)).toEqual([]);
  });

  it('uses CRC32C when the server confirms it: per part, the whole object with Complete, no Content-MD5', async () => {
    echoChecksums(rig);
    const store = rig.store({ integrity: 'crc32c' });
    const prefix = rig.prefix();
    const small = randomBytes(1000);
    const large = randomBytes(12 * MiB + 5);
    await store.upload(small, `${prefix}small`);
    await store.uploadMultipart(pieces(large, 999_999), `${prefix}large`);
    const parts = requestsOf(rig, 'UploadPart');
    expect(parts.map((p) => p.headers['x-amz-checksum-crc32c'])).toEqual(
      [0, 1, 2].map((i) => crc32c(large.subarray(i * 5 * MiB, (i + 1) * 5 * MiB))),
    );
    expect(parts.every((p) => p.headers['content-md5'] === undefined)).toBe(true);
    const [complete] = requestsOf(rig, 'CompleteMultipartUpload');
    expect(complete!.headers['x-amz-checksum-crc32c']).toBe(crc32c(large));
    expect(complete!.headers['x-amz-checksum-type']).toBe('FULL_OBJECT');
    expect(requestsOf(rig, 'HeadObject').every((h) => h.headers['x-amz-checksum-mode'] === 'ENABLED')).toBe(
      true,
    );
    expect(Buffer.from(await store.download(`${prefix}large`)).equals(large)).toBe(true);
    expect(Buffer.from(await store.download(`${prefix}small`)).equals(small)).toBe(true);
  });

  it('fails with INTEGRITY_ERROR when the server confirms another CRC32C (PutObject) and re-sends such a part', async () => {
    const flip = (value: string): string =>
      Buffer.from(Buffer.from(value, 'base64').map((b) => b ^ 1)).toString('base64');
    echoChecksums(rig, (value, request) =>
      request.kind === 'PutObject' || request.partNumber === 2 ? flip(value) : value,
    );
    const store = rig.store();
    const prefix = rig.prefix();
    const single = await rejection(store.upload(randomBytes(1000), `${prefix}small`));
    expect(single).toMatchObject({ code: 'INTEGRITY_ERROR', message: expect.stringContaining('CRC32C') });
    const multi = await rejection(store.uploadMultipart(pieces(randomBytes(11 * MiB)), `${prefix}large`));
    expect(multi).toMatchObject({ code: 'INTEGRITY_ERROR', message: expect.stringContaining('part 2') });
    expect(requestsOf(rig, 'UploadPart').filter((p) => p.partNumber === 2)).toHaveLength(3);
    expect(await rig.store().listIncompleteUploads(prefix)).toEqual([]);
  });

  it('fails with INTEGRITY_ERROR when the HEAD after the upload reports another full-object CRC32C', async () => {
    echoChecksums(rig);
    rig.proxy.inject({
      match: 'HeadObject',
      fault: {
        type: 'head',
        change: (head) => {
          head.headers['x-amz-checksum-crc32c'] = 'AAAAAA==';
          head.headers['x-amz-checksum-type'] = 'FULL_OBJECT';
        },
      },
    });
    const store = rig.store();
    const error = await rejection(
      store.uploadMultipart(pieces(randomBytes(11 * MiB)), `${rig.prefix()}large`),
    );
    expect(error).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining('stored CRC32C AAAAAA=='),
    });
  });
});
