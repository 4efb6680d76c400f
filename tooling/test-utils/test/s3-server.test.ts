import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_SERVER_KINDS, type S3Server, startS3Server } from '../src/s3-server.js';

/** PIDs of live processes whose working directory is inside `directory`. */
function processesIn(directory: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
        return state !== 'Z' && readlinkSync(`/proc/${pid}/cwd`).startsWith(directory);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Children of this process that are Ceph daemons (alive or not yet reaped). */
function cephChildren(): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid &&
          /^(ceph-mon|ceph-osd|radosgw|radosgw-admin|ceph|monmaptool)$/.test(comm)
          ? [`${pid} ${comm}`]
          : [];
      } catch {
        return [];
      }
    });
}

const refuses = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

const text = async (s3: S3Client, Bucket: string, Key: string, extra: object = {}): Promise<string> => {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return out.Body!.transformToString();
};

describe.each(S3_SERVER_KINDS)('startS3Server on %s', (kind) => {
  let server: S3Server;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startS3Server({ kind, buckets: ['audex-a', 'audex-b'] });
    s3 = new S3Client(server.clientConfig());
  });
  afterAll(async () => {
    s3.destroy();
    await server.close();
  });

  it('serves the configured buckets and a bucket created later, with its credentials', async () => {
    expect(server.kind).toBe(kind);
    expect(server.bucket).toBe('audex-a');
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
    await server.createBucket('audex-later');
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).toEqual(expect.arrayContaining(['audex-a', 'audex-b', 'audex-later']));
    await s3.send(new PutObjectCommand({ Bucket: 'audex-later', Key: 'k/ü 1.txt', Body: 'hello' }));
    expect(await text(s3, 'audex-later', 'k/ü 1.txt')).toBe('hello');
  });

  it('keeps objects and incomplete multipart uploads across stop() (SIGKILL) and restart() on the same port', async () => {
    const body = randomBytes(6 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'kept/whole', Body: body }));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: 'kept/partial' }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: server.bucket,
        Key: 'kept/partial',
        UploadId,
        PartNumber: 1,
        Body: body.subarray(0, 5 * 1024 * 1024),
      }),
    );
    const port = server.port;
    await server.stop();
    expect(server.running).toBe(false);
    expect(await refuses(port)).toBe(true);
    await server.restart();
    expect(server.running).toBe(true);
    expect(server.port).toBe(port);

    const back = await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'kept/whole' }));
    const bytes = await back.Body!.transformToByteArray();
    expect(createHash('md5').update(bytes).digest('hex')).toBe(createHash('md5').update(body).digest('hex'));
    const uploads = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: 'kept/' }),
    );
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['kept/partial', UploadId]]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: server.bucket,
        Key: 'kept/partial',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'kept/partial' }));
    expect(head.ContentLength).toBe(5 * 1024 * 1024);
  });

  it('verifies Content-MD5 exactly when features.verifiesContentMd5 says so', async () => {
    const put = s3.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: 'md5/wrong',
        Body: 'payload',
        ContentMD5: createHash('md5').update('other').digest('base64'),
      }),
    );
    if (server.features.verifiesContentMd5) await expect(put).rejects.toMatchObject({ name: 'BadDigest' });
    else await expect(put).resolves.toBeDefined();
  });

  it('verifies signatures exactly when features.verifiesSignatures says so', async () => {
    const wrong = new S3Client({
      ...server.clientConfig(),
      credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const put = wrong.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'sig/wrong', Body: 'x' }));
    if (server.features.verifiesSignatures)
      await expect(put).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    else await expect(put).resolves.toBeDefined();
    wrong.destroy();
  });

  it('round-trips SSE-C and SSE-KMS objects where features say it supports them', async () => {
    const key = randomBytes(32);
    const sseC = {
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: key.toString('base64'),
      SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
    };
    if (server.features.sseC) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: server.bucket, Key: 'sse/c', Body: 'secret c', ...sseC }),
      );
      expect(put.SSECustomerAlgorithm).toBe('AES256');
      expect(await text(s3, server.bucket, 'sse/c', sseC)).toBe('secret c');
      await expect(s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'sse/c' }))).rejects.toThrow();
    }
    const keyId = server.features.sseKmsKeyId;
    if (keyId !== undefined) {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: server.bucket,
          Key: 'sse/kms',
          Body: 'secret kms',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyId,
        }),
      );
      expect(put.ServerSideEncryption).toBe('aws:kms');
      const head = await s3.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'sse/kms' }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(await text(s3, server.bucket, 'sse/kms')).toBe('secret kms');
    }
    expect([server.features.sseC, keyId !== undefined]).toEqual(
      kind === 'rgw' ? [true, true] : [false, false],
    );
  });
});

describe('startS3Server lifecycle', () => {
  it.each(S3_SERVER_KINDS)(
    'close() on %s stops every process it started and removes its directory',
    async (kind) => {
      const server = await startS3Server({ kind });
      const { directory, port } = server;
      if (kind === 'rgw') expect(processesIn(directory).length).toBe(3);
      await server.close();
      expect(existsSync(directory)).toBe(false);
      expect(await refuses(port)).toBe(true);
      expect(processesIn(directory)).toEqual([]);
      expect(cephChildren()).toEqual([]);
    },
  );

  it('a failed RGW start names the cause, shows each daemon and leaves nothing running', async () => {
    const error = await startS3Server({ kind: 'rgw', startTimeoutMs: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^startS3Server\(\{ kind: 'rgw' \}\) failed: /);
    expect(error?.message).toMatch(/--- mon \(running\)[\s\S]*--- osd [\s\S]*--- radosgw /);
    expect(cephChildren()).toEqual([]);
  });

  it('rejects an unknown kind naming the allowed ones', async () => {
    await expect(startS3Server({ kind: 'minio' as never })).rejects.toThrow(
      `startS3Server: unknown kind "minio" (allowed: 's3rver', 'rgw')`,
    );
  });
});
