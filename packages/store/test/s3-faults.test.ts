import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { StoreError } from '@audex/store';
import { S3Store } from '@audex/store/s3';
import { s3Faults } from '@audex/test-utils/s3-fault-proxy';
import { S3_SERVER_KINDS } from '@audex/test-utils/s3-server';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MiB, pieces, rejection, useS3Rig } from './_s3-rig.js';

// Faults a signing server lets through, injected by the proxy in front of s3rver and RGW: the
// server killed mid-upload, 5xx and throttling, parts answered as damaged in transit, answers
// tampered with (a HEAD reporting another size, GETs cut short or extended, empty Complete ETags,
// ETags that are not MD5s). Request bodies are never altered (RGW would reject them).
describe.each(S3_SERVER_KINDS)('S3Store faults on %s', (kind) => {
  const rig = useS3Rig(kind);

  it('fails clearly when the server dies mid multipart upload, leaves no object, and recovers after restart', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}killed.wav`;
    const data = randomBytes(24 * MiB);
    rig.proxy.inject({ match: 'UploadPart', after: 2, times: 1, before: () => rig.server.stop() });
    const error = await rejection(store.uploadMultipart(pieces(data), key, { take: 1 }));
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe('UPLOAD_FAILED');
    expect(error.message).toContain(`could not upload ${JSON.stringify(key)}: `);
    await rig.server.restart();
    expect(await store.exists(key)).toBe(false);
    // The abort could not reach the dead server, so the upload is still there, and listed:
    expect((await store.listIncompleteUploads(key)).map((u) => u.key)).toEqual([key]);
    await store.uploadMultipart(pieces(data), key, { take: 2 });
    expect(await store.listIncompleteUploads(key)).toEqual([]);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.getMetadata(key)).toEqual({ take: 2 });
  });

  it('lists and aborts multipart uploads a killed process left behind', async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    const client = await store.client();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: rig.server.bucket, Key: `${prefix}a.wav` }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: rig.server.bucket,
        Key: `${prefix}a.wav`,
        UploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
      }),
    );
    expect(await store.listIncompleteUploads(prefix)).toEqual([
      { key: `${prefix}a.wav`, uploadId: UploadId, initiated: expect.any(Date) },
    ]);
    expect(await store.abortIncompleteUploads(prefix, { olderThanMs: 60_000 })).toBe(0);
    expect(await store.abortIncompleteUploads(prefix)).toBe(1);
    expect(await store.listIncompleteUploads(prefix)).toEqual([]);
    expect(await store.exists(`${prefix}a.wav`)).toBe(false);
  });

  it('aborts the multipart upload when the data stream fails, leaving nothing behind', async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    async function* broken(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 12; i++) yield randomBytes(MiB);
      throw new Error('microphone unplugged');
    }
    const error = await rejection(store.uploadMultipart(broken(), `${prefix}x.wav`));
    expect(error).toMatchObject({
      code: 'UPLOAD_FAILED',
      message: expect.stringContaining('data stream threw'),
    });
    expect(error.cause).toMatchObject({ message: 'microphone unplugged' });
    expect(await store.listIncompleteUploads(prefix)).toEqual([]);
    expect(await store.exists(`${prefix}x.wav`)).toBe(false);
  });

  it('retries throttling and 5xx answers with backoff', async () => {
    const store = rig.store({ maxAttempts: 5 });
    const key = `${rig.prefix()}x`;
    rig.proxy.inject({ match: 'PutObject', times: 1, fault: s3Faults.slowDown() });
    rig.proxy.inject({ match: 'PutObject', times: 2, fault: s3Faults.internalError() });
    await store.upload(new Uint8Array([1, 2, 3]), key, { ok: true });
    expect(rig.proxy.count('PutObject')).toBe(4);
    expect([...(await store.download(key))]).toEqual([1, 2, 3]);
  });

  it('reports a server error that outlasts the retries as UPLOAD_FAILED, nothing stored', async () => {
    const store = rig.store({ maxAttempts: 3 });
    const key = `${rig.prefix()}never`;
    rig.proxy.inject({ match: ['PutObject', 'UploadPart'], fault: s3Faults.slowDown() });
    const error = await rejection(store.upload(new Uint8Array([1]), key));
    expect(error).toMatchObject({
      code: 'UPLOAD_FAILED',
      message: expect.stringContaining('SlowDown (HTTP 503)'),
    });
    expect(rig.proxy.count('PutObject')).toBe(3);
    const streamed = await rejection(store.uploadMultipart(pieces(randomBytes(12 * MiB)), key));
    expect(streamed.code).toBe('UPLOAD_FAILED');
    rig.proxy.clearFaults();
    expect(await store.listIncompleteUploads(key)).toEqual([]);
    expect(await store.exists(key)).toBe(false);
  });

  it('sends a part again when the server reports it damaged in transit (BadDigest, XAmzContentSHA256Mismatch)', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}part.bin`;
    const part2 = (r: { kind: string; partNumber: number | undefined }): boolean =>
      r.kind === 'UploadPart' && r.partNumber === 2;
    rig.proxy.inject({ match: part2, times: 1, fault: s3Faults.error(400, 'BadDigest') });
    rig.proxy.inject({ match: part2, times: 1, fault: s3Faults.error(400, 'XAmzContentSHA256Mismatch') });
    const data = randomBytes(12 * MiB);
    await store.uploadMultipart(pieces(data), key);
    expect(rig.proxy.count(part2)).toBe(3);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.listIncompleteUploads(key)).toEqual([]);
  });

  it('gives INTEGRITY_ERROR and aborts the upload when a part keeps arriving damaged', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}damaged.bin`;
    const part1 = (r: { kind: string; partNumber: number | undefined }): boolean =>
      r.kind === 'UploadPart' && r.partNumber === 1;
    rig.proxy.inject({ match: part1, fault: s3Faults.error(400, 'XAmzContentSHA256Mismatch') });
    const error = await rejection(store.uploadMultipart(pieces(randomBytes(8 * MiB)), key));
    expect(error).toMatchObject({ code: 'INTEGRITY_ERROR', message: expect.stringContaining('part 1') });
    expect(rig.proxy.count(part1)).toBe(3);
    rig.proxy.clearFaults();
    expect(await store.listIncompleteUploads(key)).toEqual([]);
    expect(await store.exists(key)).toBe(false);
  });

  it('fails with INTEGRITY_ERROR when the HEAD after an upload reports another size (single and 18 MiB multipart)', async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    rig.proxy.inject({ match: 'HeadObject', fault: s3Faults.contentLength((actual) => actual - 1) });
    const single = await rejection(store.upload(randomBytes(1000), `${prefix}single`));
    expect(single).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining('sent 1000 bytes'),
    });
    const multi = await rejection(store.uploadMultipart(pieces(randomBytes(18 * MiB)), `${prefix}multi`));
    expect(multi).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining(`sent ${18 * MiB} bytes but the server stored ${18 * MiB - 1}`),
    });
    expect(rig.proxy.count('UploadPart')).toBe(4);
  });

  it.each([
    ['empty', ''],
    ['missing', null],
  ] as const)(
    'verifies a multipart upload whose Complete answer has an %s ETag (RGW 16 answers "")',
    async (_, etag) => {
      const store = rig.store();
      const key = `${rig.prefix()}complete-etag.bin`;
      rig.proxy.inject({ match: 'CompleteMultipartUpload', fault: s3Faults.completeETag(etag) });
      const data = randomBytes(11 * MiB);
      await store.uploadMultipart(pieces(data), key);
      expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
      // The size check still runs: an unknown ETag is not taken for another writer's object.
      rig.proxy.inject({ match: 'HeadObject', fault: s3Faults.contentLength(5) });
      const error = await rejection(store.uploadMultipart(pieces(data), key));
      expect(error).toMatchObject({ code: 'INTEGRITY_ERROR', message: expect.stringContaining('stored 5') });
    },
  );

  it('does not need ETags to be MD5s: every ETag rewritten to other hex digits, single, multipart and copy still work', async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    rig.proxy.rewriteETags = true;
    const small = randomBytes(1000);
    const large = randomBytes(13 * MiB);
    await store.upload(small, `${prefix}single`, { s: 1 });
    await store.uploadMultipart(pieces(large), `${prefix}multi`, { m: 1 });
    await store.copy(`${prefix}single`, `${prefix}copy`);
    expect(Buffer.from(await store.download(`${prefix}single`)).equals(small)).toBe(true);
    expect(Buffer.from(await store.download(`${prefix}multi`)).equals(large)).toBe(true);
    expect(Buffer.from(await store.download(`${prefix}copy`)).equals(small)).toBe(true);
    expect(await store.getMetadata(`${prefix}multi`)).toEqual({ m: 1 });
    expect(rig.proxy.count('UploadPart')).toBe(3);
  });

  it('reuses a small pool of part buffers without mixing parts up (6 parts, 2 buffers)', async () => {
    const store = rig.store({ queueSize: 1 });
    const key = `${rig.prefix()}six-parts.bin`;
    const piece = MiB - 7; // chunks straddle part boundaries
    const whole = createHash('md5');
    let sent = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 27; i++) {
        const chunk = randomBytes(piece);
        whole.update(chunk);
        sent += chunk.length;
        yield chunk;
      }
    }
    await store.uploadMultipart(source(), key, { pool: true });
    expect(rig.proxy.count('UploadPart')).toBe(Math.ceil(sent / (5 * MiB)));
    const back = await store.download(key);
    expect(back.length).toBe(sent);
    expect(createHash('md5').update(back).digest('hex')).toBe(whole.digest('hex'));
  });

  it('sends a stream of exactly one part as a single PUT', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}one-part.bin`;
    const data = randomBytes(5 * MiB);
    await store.uploadMultipart(pieces(data, 1000), key);
    expect(rig.proxy.count('CreateMultipartUpload')).toBe(0);
    expect(rig.proxy.count('PutObject')).toBe(1);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
  });

  it('detects downloads cut short or extended, whole, streamed and ranged', async () => {
    const store = rig.store({ maxAttempts: 1 });
    const key = `${rig.prefix()}short`;
    const data = randomBytes(100_000);
    await store.upload(data, key);
    const attempts = [
      () => store.download(key),
      async () => {
        for await (const _ of store.download(key, { stream: true, chunkSize: 4096 })) {
          // drain
        }
      },
      () => store.download(key, { range: { start: 10, end: 90_000 } }),
    ];
    for (const fault of [
      s3Faults.cutBody(1000),
      s3Faults.cutBody(1000, { keepLength: false }),
      s3Faults.extendBody(100),
    ]) {
      for (const attempt of attempts) {
        const rule = rig.proxy.inject({ match: 'GetObject', fault });
        const error = await rejection(attempt());
        rule.remove();
        expect(error).toBeInstanceOf(StoreError);
        expect(['INTEGRITY_ERROR', 'IO_ERROR']).toContain(error.code);
        expect(error.message).toContain(key);
      }
    }
    expect(
      Buffer.from(await store.download(key, { range: { start: 10, end: 90_000 } })).equals(
        data.subarray(10, 90_000),
      ),
    ).toBe(true);
  });

  it('detects a ranged answer for other bytes than asked (a tampered Content-Range)', async () => {
    const store = rig.store({ maxAttempts: 1 });
    const key = `${rig.prefix()}ranged`;
    await store.upload(randomBytes(10_000), key);
    rig.proxy.inject({
      match: 'GetObject',
      fault: {
        type: 'head',
        change: (head) => {
          head.headers['content-range'] = String(head.headers['content-range']).replace(
            /^bytes (\d+)-/,
            (_, a) => `bytes ${Number(a) + 1}-`,
          );
        },
      },
    });
    const error = await rejection(store.download(key, { range: { start: 100, end: 200 } }));
    expect(error).toMatchObject({ code: 'INTEGRITY_ERROR' });
  });

  it('rejects metadata past S3s 2 KB limit before sending anything', async () => {
    const store = rig.store();
    const prefix = rig.prefix();
    const fits = { note: 'x'.repeat(1400) };
    await store.upload(new Uint8Array([1]), `${prefix}fits`, fits);
    expect(await store.getMetadata(`${prefix}fits`)).toEqual(fits);
    rig.proxy.reset();
    const error = await rejection(
      store.upload(new Uint8Array([1]), `${prefix}big`, { note: 'é'.repeat(1000) }),
    );
    expect(error).toMatchObject({
      code: 'METADATA_TOO_LARGE',
      message: expect.stringContaining('2048 bytes'),
    });
    expect(rig.proxy.count()).toBe(0);
    expect(await store.exists(`${prefix}big`)).toBe(false);
  });

  it('never puts credentials in errors', async () => {
    const credentials = {
      accessKeyId: 'AKIAAUDEXLEAKTEST01',
      secretAccessKey: 'audex-secret-leak-test-3f9a7c',
    };
    const wrong = rig.store({ credentials });
    const errors: unknown[] = [];
    const capture = (p: Promise<unknown>): Promise<void> =>
      p.then(
        () => undefined,
        (e: unknown) => void errors.push(e),
      );
    await capture(wrong.upload(new Uint8Array([1]), 'audex/creds/x'));
    await capture(wrong.download('audex/creds/x'));
    await capture(wrong.getMetadata('audex/creds/x'));
    await capture(wrong.clear('audex/creds/'));
    const down = new S3Store({
      bucket: 'b',
      credentials,
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await capture(down.upload(new Uint8Array([1]), 'audex/creds/x'));
    await capture(down.uploadMultipart(pieces(new Uint8Array(6 * MiB)), 'audex/creds/y'));
    await down.destroy();
    expect(errors).toHaveLength(6);
    // s3rver checks no signatures: it only refuses an unknown access key id.
    expect((errors[0] as StoreError).code).toBe('PERMISSION_DENIED');
    for (const error of errors) {
      expect(error).toBeInstanceOf(StoreError);
      const text = [
        inspect(error, { depth: 10, showHidden: true }),
        JSON.stringify(error),
        (error as Error).stack,
      ].join('\n');
      expect(text).not.toContain(credentials.secretAccessKey);
      expect(text).not.toContain(credentials.accessKeyId);
    }
  });
});
