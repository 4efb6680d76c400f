import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { StoreError } from '@audex/store';
import type { S3Store } from '@audex/store/s3';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MiB, pieces, rejection, type S3Rig, useS3Rig } from './_s3-rig.js';

/** Every way the key could show: raw bytes as text, base64, base64url, hex. */
function keyForms(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [b.toString('base64'), b.toString('base64url'), b.toString('hex'), b.toString('latin1')];
}

function expectNoKey(error: unknown, key: Uint8Array): void {
  const text = [
    inspect(error, { depth: 10, showHidden: true }),
    JSON.stringify(error),
    (error as Error).stack,
  ].join('\n');
  for (const form of keyForms(key)) expect(text).not.toContain(form);
}

async function drain(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Uploads single and multipart, reads them back whole, streamed and ranged, copies them. */
async function roundTrip(rig: S3Rig, store: S3Store): Promise<{ prefix: string; large: Buffer }> {
  const prefix = rig.prefix();
  const small = randomBytes(1000);
  const large = randomBytes(18 * MiB);
  await store.upload(small, `${prefix}small`, { s: 1 });
  await store.uploadMultipart(pieces(large), `${prefix}large.wav`, { content_type: 'audio/wav', l: 1 });
  expect(Buffer.from(await store.download(`${prefix}small`)).equals(small)).toBe(true);
  expect(
    (await drain(store.download(`${prefix}large.wav`, { stream: true, chunkSize: 256 * 1024 }))).equals(
      large,
    ),
  ).toBe(true);
  const range = { start: 5 * MiB - 10, end: 5 * MiB + 10 };
  expect(
    Buffer.from(await store.download(`${prefix}large.wav`, { range })).equals(
      large.subarray(range.start, range.end),
    ),
  ).toBe(true);
  await store.copy(`${prefix}large.wav`, `${prefix}copy.wav`);
  expect((await drain(store.download(`${prefix}copy.wav`, { stream: true }))).equals(large)).toBe(true);
  expect(await store.getMetadata(`${prefix}copy.wav`)).toEqual({ content_type: 'audio/wav', l: 1 });
  expect(await store.getMetadata(`${prefix}small`)).toEqual({ s: 1 });
  return { prefix, large };
}

describe('S3Store encryption on s3rver, which has none', () => {
  const rig = useS3Rig('s3rver');

  it('fails closed with SSE-S3, SSE-C and SSE-KMS: ENCRYPTION_ERROR, nothing stored', async () => {
    const prefix = rig.prefix();
    const encryptions = [
      { type: 'SSE-S3' },
      { type: 'SSE-C', key: randomBytes(32) },
      { type: 'SSE-KMS', keyId: 'k' },
    ] as const;
    for (const encryption of encryptions) {
      const store = rig.store({ encryption });
      for (const attempt of [
        () => store.upload(randomBytes(100), `${prefix}a`),
        () => store.uploadMultipart(pieces(randomBytes(12 * MiB)), `${prefix}b`),
      ]) {
        const error = await rejection(attempt());
        expect(error.code).toBe('ENCRYPTION_ERROR');
      }
    }
    expect(rig.proxy.count('PutObject') + rig.proxy.count('UploadPart')).toBe(0);
    const plain = rig.store();
    expect(await plain.exists(`${prefix}a`)).toBe(false);
    expect(await plain.listIncompleteUploads(prefix)).toEqual([]);
  });
});

describe('S3Store encryption on rgw', () => {
  const rig = useS3Rig('rgw');

  it('fails closed with SSE-S3, which RGW 16 accepts and does not apply, before any data is sent', async () => {
    const store = rig.store({ encryption: { type: 'SSE-S3' } });
    const prefix = rig.prefix();
    const attempts = [
      () => store.upload(randomBytes(100), `${prefix}a`),
      () => store.uploadMultipart(pieces(randomBytes(12 * MiB)), `${prefix}b`),
      () => store.copy(`${prefix}a`, `${prefix}c`),
    ];
    for (const attempt of attempts) {
      const error = await rejection(attempt());
      expect(error).toMatchObject({
        code: 'ENCRYPTION_ERROR',
        message: expect.stringContaining('asked for SSE-S3'),
      });
    }
    expect(rig.proxy.count('PutObject') + rig.proxy.count('UploadPart') + rig.proxy.count('CopyObject')).toBe(
      0,
    );
    expect(rig.proxy.count('CreateMultipartUpload')).toBe(1);
    expect(rig.proxy.count('AbortMultipartUpload')).toBe(1);
    const plain = rig.store();
    expect(await plain.exists(`${prefix}a`)).toBe(false);
    expect(await plain.listIncompleteUploads(prefix)).toEqual([]);
  });

  it('round-trips SSE-C: single and multipart, whole, streamed, ranged and copied; the key never shows', async () => {
    const key = randomBytes(32);
    const store = rig.store({ encryption: { type: 'SSE-C', key } });
    const { prefix, large } = await roundTrip(rig, store);
    // Stored encrypted: a HEAD without the key is refused by the server itself.
    const client = await store.client();
    const raw = await rejection(
      client.send(new HeadObjectCommand({ Bucket: rig.server.bucket, Key: `${prefix}large.wav` })),
    );
    expect((raw as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    // RGW 16 cannot CopyObject an encrypted object (501): the copy went down and up again.
    expect(rig.proxy.count('CopyObject')).toBe(1);
    const plain = rig.store();
    const wrong = rig.store({ encryption: { type: 'SSE-C', key: randomBytes(32) } });
    const reads = [
      () => plain.download(`${prefix}large.wav`),
      () => drain(plain.download(`${prefix}large.wav`, { stream: true })),
      () => plain.getMetadata(`${prefix}large.wav`),
      () => plain.download(`${prefix}small`, { range: { start: 0, end: 10 } }),
      () => wrong.download(`${prefix}large.wav`),
      () => wrong.getMetadata(`${prefix}small`),
      () => plain.copy(`${prefix}small`, `${prefix}small-copy`),
    ];
    for (const read of reads) {
      const error = await rejection(read());
      expect(error).toBeInstanceOf(StoreError);
      expect(error.code).toBe('ENCRYPTION_ERROR');
      expect(error.message).toMatch(
        /encrypted with SSE-C and this store (has no SSE-C key|has a different key)/,
      );
      expectNoKey(error, key);
    }
    expect(await plain.exists(`${prefix}large.wav`)).toBe(true);
    await plain.delete(`${prefix}small`);
    expect(await store.exists(`${prefix}small`)).toBe(false);
    expect(
      Buffer.from(await store.download(`${prefix}copy.wav`, { range: { start: 0, end: 100 } })).equals(
        large.subarray(0, 100),
      ),
    ).toBe(true);
    // A failing write with the key in play: its error does not carry the key either.
    rig.proxy.inject({
      match: 'PutObject',
      fault: { type: 'respond', status: 500, code: 'InternalError' },
    });
    const failed = await rejection(
      rig.store({ encryption: { type: 'SSE-C', key }, maxAttempts: 1 }).upload(randomBytes(10), `${prefix}x`),
    );
    expect(failed.code).toBe('UPLOAD_FAILED');
    expectNoKey(failed, key);
  });

  it('round-trips SSE-KMS: single and multipart, whole, streamed, ranged and copied', async () => {
    const keyId = rig.server.features.sseKmsKeyId!;
    const store = rig.store({ encryption: { type: 'SSE-KMS', keyId } });
    const { prefix, large } = await roundTrip(rig, store);
    const client = await store.client();
    for (const key of [`${prefix}large.wav`, `${prefix}copy.wav`, `${prefix}small`]) {
      const head = await client.send(new HeadObjectCommand({ Bucket: rig.server.bucket, Key: key }));
      expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', keyId]);
    }
    // KMS decryption is the server's: a store without the option reads the objects.
    expect(Buffer.from(await rig.store().download(`${prefix}copy.wav`)).equals(large)).toBe(true);
    const other = await rejection(
      rig
        .store({ encryption: { type: 'SSE-KMS', keyId: 'no-such-key' } })
        .upload(randomBytes(10), `${prefix}y`),
    );
    expect(other).toBeInstanceOf(StoreError);
    expect(await rig.store().exists(`${prefix}y`)).toBe(false);
  });

  it('fails closed when an answer does not confirm the encryption: the PutObject (object removed) or the final HEAD', async () => {
    const key = randomBytes(32);
    const store = rig.store({ encryption: { type: 'SSE-C', key } });
    const prefix = rig.prefix();
    await store.upload(randomBytes(10), `${prefix}first`); // the encryption check before the first write passes
    const strip = (head: { headers: Record<string, unknown> }): void => {
      delete head.headers['x-amz-server-side-encryption-customer-algorithm'];
    };
    const put = rig.proxy.inject({ match: 'PutObject', fault: { type: 'head', change: strip } });
    const error = await rejection(store.upload(randomBytes(100), `${prefix}a`));
    expect(error).toMatchObject({
      code: 'ENCRYPTION_ERROR',
      message: expect.stringContaining('PutObject'),
    });
    expectNoKey(error, key);
    put.remove();
    expect(await store.exists(`${prefix}a`)).toBe(false);
    rig.proxy.inject({ match: 'HeadObject', fault: { type: 'head', change: strip } });
    const verified = await rejection(store.uploadMultipart(pieces(randomBytes(11 * MiB)), `${prefix}b`));
    expect(verified).toMatchObject({
      code: 'ENCRYPTION_ERROR',
      message: expect.stringContaining('HeadObject'),
    });
  });
});

describe('S3Store encryption options', () => {
  it('rejects a bad encryption option with INVALID_OPTIONS naming what is allowed, never the key', async () => {
    const { S3Store } = await import('@audex/store/s3');
    const key31 = randomBytes(31);
    for (const encryption of [
      { type: 'SSE-C', key: key31 },
      { type: 'SSE-C', key: 'k'.repeat(32) },
      { type: 'SSE-C' },
      { type: 'AES256' },
      { type: 'SSE-KMS', keyId: '' },
      null,
    ]) {
      let error: unknown;
      try {
        new S3Store({ bucket: 'b', encryption: encryption as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('INVALID_OPTIONS');
      expect((error as StoreError).message).toContain("{ type: 'SSE-C', key: Uint8Array of 32 bytes }");
      expectNoKey(error, key31);
    }
    expect(createHash('md5').update(key31).digest().length).toBe(16);
  });
});
