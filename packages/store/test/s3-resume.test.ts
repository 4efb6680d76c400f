import { randomBytes } from 'node:crypto';
import { StoreError } from '@audex/store';
import type { CompletedPart, UploadCheckpoint } from '@audex/store/s3';
import { s3Faults } from '@audex/test-utils/s3-fault-proxy';
import { S3_SERVER_KINDS } from '@audex/test-utils/s3-server';
import { describe, expect, it } from 'vitest';
import { MiB, pieces, rejection, useS3Rig } from './_s3-rig.js';

/** `data` in 1 MiB pieces, throwing once `failAt` bytes were yielded (a crash of the writer). */
async function* crashing(data: Uint8Array, failAt: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += MiB) {
    if (o >= failAt) throw new Error('process killed');
    yield data.subarray(o, o + MiB);
  }
}

/** A journal as a caller keeps it: the checkpoint fields, then one entry per acknowledged part. */
function journal(): {
  save: (c: UploadCheckpoint, p: CompletedPart | undefined) => void;
  load: () => UploadCheckpoint;
} {
  let head: UploadCheckpoint | undefined;
  const parts = new Map<number, CompletedPart>();
  return {
    save(checkpoint, part) {
      if (head?.uploadId !== checkpoint.uploadId) {
        parts.clear();
        for (const p of checkpoint.parts) parts.set(p.partNumber, p);
      }
      head = JSON.parse(JSON.stringify({ ...checkpoint, parts: [] }));
      if (part !== undefined) parts.set(part.partNumber, JSON.parse(JSON.stringify(part)));
    },
    load: () => ({ ...head!, parts: [...parts.values()].sort((a, b) => a.partNumber - b.partNumber) }),
  };
}

describe.each(S3_SERVER_KINDS)('S3Store resumable uploads on %s', (kind) => {
  const rig = useS3Rig(kind);

  it('resumes after a crash: only the missing parts are sent, the object is whole and verified, no upload left', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}resumed.wav`;
    const data = randomBytes(33 * MiB); // 7 parts of 5 MiB
    const j = journal();
    const error = await rejection(
      store.uploadMultipart(crashing(data, 17 * MiB), key, { take: 1 }, { onCheckpoint: j.save }),
    );
    expect(error).toMatchObject({
      code: 'UPLOAD_FAILED',
      message: expect.stringContaining('data stream threw'),
    });
    const checkpoint = j.load();
    expect(checkpoint).toMatchObject({ version: 1, key, partBytes: 5 * MiB, metadata: { take: 1 } });
    expect(checkpoint.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    // The caller owns the upload: it is still there, to be resumed.
    expect((await store.listIncompleteUploads(key)).map((u) => u.uploadId)).toEqual([checkpoint.uploadId]);
    const partsBefore = rig.proxy.count('UploadPart');
    expect(partsBefore).toBe(3);

    const after = journal();
    after.save(checkpoint, undefined);
    await expect(
      rig.store().resumeUpload(pieces(data), checkpoint, { onCheckpoint: after.save }),
    ).resolves.toBe(key);
    const resent = rig.proxy.count('UploadPart') - partsBefore;
    expect(resent).toBe(4); // parts 4 to 7; a fresh upload sends 7
    expect(rig.proxy.count('ListParts')).toBe(1);
    expect(after.load().parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.getMetadata(key)).toEqual({ take: 1 });
    expect(await store.listIncompleteUploads(key)).toEqual([]);
  });

  it('sends again a journaled part whose bytes the source no longer gives, or that the server does not hold as journaled', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}changed.wav`;
    const data = randomBytes(22 * MiB);
    const j = journal();
    await rejection(store.uploadMultipart(crashing(data, 16 * MiB), key, {}, { onCheckpoint: j.save }));
    const checkpoint = j.load();
    expect(checkpoint.parts).toHaveLength(3);
    // The first bytes changed since (a WAV header written with the final sizes), and part 2's
    // journal entry names an ETag the server does not have.
    const changed = Buffer.from(data);
    changed.write('RIFF', 0);
    const tampered = {
      ...checkpoint,
      parts: checkpoint.parts.map((p) => (p.partNumber === 2 ? { ...p, etag: 'f'.repeat(32) } : p)),
    };
    rig.proxy.reset();
    await store.resumeUpload(pieces(changed), tampered);
    expect(rig.proxy.requests.filter((r) => r.kind === 'UploadPart').map((r) => r.partNumber)).toEqual([
      1, 2, 4, 5,
    ]);
    expect(Buffer.from(await store.download(key)).equals(changed)).toBe(true);
  });

  it('survives a lost CompleteMultipartUpload answer: the object carrying the upload tag is accepted once verified', async () => {
    const store = rig.store({ maxAttempts: 3 });
    const key = `${rig.prefix()}lost-answer.wav`;
    const data = randomBytes(12 * MiB);
    rig.proxy.inject({ match: 'CompleteMultipartUpload', times: 1, fault: { type: 'dropAfterForward' } });
    await store.uploadMultipart(pieces(data), key);
    expect(rig.proxy.count('CompleteMultipartUpload')).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.listIncompleteUploads(key)).toEqual([]);
  });

  it('resumes an upload an earlier attempt completed by verifying it, sending nothing', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}completed.wav`;
    const data = randomBytes(11 * MiB);
    const j = journal();
    await store.uploadMultipart(pieces(data), key, { a: 1 }, { onCheckpoint: j.save });
    rig.proxy.reset();
    await store.resumeUpload(pieces(data), j.load());
    expect(
      rig.proxy.count('UploadPart') +
        rig.proxy.count('PutObject') +
        rig.proxy.count('CompleteMultipartUpload'),
    ).toBe(0);
    // A source of another length does not match what was stored.
    const error = await rejection(store.resumeUpload(pieces(data.subarray(1)), j.load()));
    expect(error).toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringContaining(`sent ${11 * MiB - 1} bytes`),
    });
  });

  it('starts again, journaling the new upload, when the server no longer has the upload', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}aborted.wav`;
    const data = randomBytes(16 * MiB);
    const j = journal();
    await rejection(store.uploadMultipart(crashing(data, 11 * MiB), key, { b: 2 }, { onCheckpoint: j.save }));
    const checkpoint = j.load();
    await store.abortUpload(checkpoint);
    expect(await store.listIncompleteUploads(key)).toEqual([]);
    const fresh: UploadCheckpoint[] = [];
    await store.resumeUpload(pieces(data), checkpoint, { onCheckpoint: (c) => void fresh.push(c) });
    expect(fresh[0]!.uploadId).not.toBe(checkpoint.uploadId);
    expect(fresh.at(-1)!.parts).toHaveLength(4);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.getMetadata(key)).toEqual({ b: 2 });
  });

  it('refuses to complete over an object that appeared meanwhile when overwrite is false, and drops the upload', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}taken.wav`;
    const data = randomBytes(12 * MiB);
    const j = journal();
    await rejection(
      store.uploadMultipart(crashing(data, 6 * MiB), key, {}, { onCheckpoint: j.save, overwrite: false }),
    );
    await store.upload(new Uint8Array([1, 2, 3]), key, { someone: 'else' });
    const error = await rejection(store.resumeUpload(pieces(data), j.load(), { overwrite: false }));
    expect(error).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect([...(await store.download(key))]).toEqual([1, 2, 3]);
    expect(await store.listIncompleteUploads(key)).toEqual([]);
  });

  it('keeps a journaled upload on the server when the server fails mid-upload, so it can be resumed once back', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}server-down.wav`;
    const data = randomBytes(26 * MiB);
    const j = journal();
    rig.proxy.inject({ match: 'UploadPart', after: 3, times: 1, before: () => rig.server.stop() });
    await rejection(store.uploadMultipart(pieces(data), key, {}, { onCheckpoint: j.save }));
    await rig.server.restart();
    const held = j.load().parts.length;
    expect(held).toBeGreaterThanOrEqual(1);
    rig.proxy.reset();
    await store.resumeUpload(pieces(data), j.load());
    expect(rig.proxy.count('UploadPart')).toBe(6 - held);
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    expect(await store.listIncompleteUploads(key)).toEqual([]);
  });

  it('fails an upload whose onCheckpoint throws, naming it', async () => {
    const store = rig.store();
    const key = `${rig.prefix()}journal-full.wav`;
    const error = await rejection(
      store.uploadMultipart(
        pieces(randomBytes(11 * MiB)),
        key,
        {},
        {
          onCheckpoint: (_, part) => {
            if (part?.partNumber === 2) throw new Error('ENOSPC: journal disk full');
          },
        },
      ),
    );
    expect(error).toMatchObject({
      code: 'UPLOAD_FAILED',
      message: expect.stringContaining('onCheckpoint threw'),
    });
    expect(error.cause).toMatchObject({ message: 'ENOSPC: journal disk full' });
    expect(await store.exists(key)).toBe(false);
  });

  it('rejects a malformed checkpoint with INVALID_ARGUMENT before any request', async () => {
    const store = rig.store();
    const good: UploadCheckpoint = {
      version: 1,
      key: 'audex/x.wav',
      uploadId: 'u',
      tag: 't',
      checksum: 'md5',
      partBytes: 5 * MiB,
      metadata: {},
      parts: [],
    };
    for (const bad of [
      null,
      { ...good, version: 2 },
      { ...good, uploadId: '' },
      { ...good, checksum: 'sha1' },
      { ...good, partBytes: 1000 },
      { ...good, parts: [{ partNumber: 0, bytes: 1, etag: 'e', digest: 'd' }] },
      { ...good, key: '../etc/passwd' },
    ]) {
      const error = await rejection(store.resumeUpload(pieces(new Uint8Array(1)), bad as UploadCheckpoint));
      expect(error).toBeInstanceOf(StoreError);
      expect(['INVALID_ARGUMENT', 'INVALID_KEY']).toContain(error.code);
    }
    expect(rig.proxy.count()).toBe(0);
    const gone = await rejection(store.abortUpload({ key: 'audex/x.wav', uploadId: '' }));
    expect(gone.code).toBe('INVALID_ARGUMENT');
  });

  it('reports a server error on resume without losing the journaled upload', async () => {
    const store = rig.store({ maxAttempts: 1 });
    const key = `${rig.prefix()}retry-later.wav`;
    const data = randomBytes(11 * MiB);
    const j = journal();
    await rejection(store.uploadMultipart(crashing(data, 6 * MiB), key, {}, { onCheckpoint: j.save }));
    rig.proxy.inject({ match: 'ListParts', times: 1, fault: s3Faults.serviceUnavailable() });
    const error = await rejection(store.resumeUpload(pieces(data), j.load()));
    expect(error.code).toBe('IO_ERROR');
    await store.resumeUpload(pieces(data), j.load());
    expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
  });
});
