import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { StoreError } from '@audex/store';
import { S3Store, type S3StoreOptions } from '@audex/store/s3';
import { type S3Server, startS3Server } from '@audex/test-utils/s3-server';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let server: S3Server;
const stores: S3Store[] = [];
beforeAll(async () => {
  server = await startS3Server({ buckets: ['audex-faults'] });
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
});
afterAll(async () => {
  await server.close();
});

function makeStore(options: Partial<S3StoreOptions> = {}): S3Store {
  const store = new S3Store({
    bucket: server.bucket,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: server.credentials,
    partBytes: 5 * 1024 * 1024,
    maxAttempts: 2,
    connectionTimeout: 2000,
    ...options,
  });
  stores.push(store);
  return store;
}

/** A pass-through HTTP proxy to s3rver whose `intercept` may answer instead (fault injection). */
async function startProxy(
  intercept: (
    req: IncomingMessage,
    body: Buffer,
  ) => { status: number; body: string } | { body: Buffer } | undefined,
): Promise<{ endpoint: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push(`${req.method} ${req.url}`);
      const decision = intercept(req, body);
      if (decision && 'status' in decision) {
        res.writeHead(decision.status, { 'content-type': 'application/xml' }).end(decision.body);
        return;
      }
      const sent = decision?.body ?? body;
      const upstream = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': String(sent.length) },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(sent);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => proxy.close(() => r())),
  };
}

const errorXml = (code: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;

describe('S3Store faults', () => {
  it('fails clearly when the server dies mid multipart upload, leaves no object, and recovers after restart', async () => {
    const store = makeStore();
    const key = 'audex/faults/killed.wav';
    const piece = randomBytes(1024 * 1024);
    const total = 24;
    let killedAt = -1;
    async function* source(killAfter: number | undefined): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < total; i++) {
        if (killAfter !== undefined && i === killAfter) {
          killedAt = i;
          await server.stop();
        }
        yield piece;
      }
    }
    const error = await store.uploadMultipart(source(12), key, { take: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(killedAt).toBe(12);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('UPLOAD_FAILED');
    expect((error as StoreError).message).toMatch(
      /^\[audex\/store\] could not upload "audex\/faults\/killed.wav": /,
    );

    await server.restart();
    expect(await store.exists(key)).toBe(false);
    // The abort could not reach the dead server, so the parts are still there, and listed:
    expect((await store.listIncompleteUploads('audex/faults/')).map((u) => u.key)).toEqual([key]);

    await store.uploadMultipart(source(undefined), key, { take: 2 });
    expect(await store.listIncompleteUploads('audex/faults/')).toEqual([]);
    const back = await store.download(key);
    expect(back.length).toBe(total * piece.length);
    expect(createHash('md5').update(back).digest('hex')).toBe(
      createHash('md5')
        .update(Buffer.concat(Array(total).fill(piece)))
        .digest('hex'),
    );
    expect(await store.getMetadata(key)).toEqual({ take: 2 });
  });

  it('lists and aborts multipart uploads a killed process left behind', async () => {
    const store = makeStore();
    const client = await store.client();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: 'audex/orphans/a.wav' }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: server.bucket,
        Key: 'audex/orphans/a.wav',
        UploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
      }),
    );
    const incomplete = await store.listIncompleteUploads('audex/orphans/');
    expect(incomplete).toEqual([
      { key: 'audex/orphans/a.wav', uploadId: UploadId, initiated: expect.any(Date) },
    ]);
    expect(await store.abortIncompleteUploads('audex/orphans/', { olderThanMs: 60_000 })).toBe(0);
    expect(await store.abortIncompleteUploads('audex/orphans/')).toBe(1);
    expect(await store.listIncompleteUploads('audex/orphans/')).toEqual([]);
    expect(await store.exists('audex/orphans/a.wav')).toBe(false);
  });

  it('aborts the multipart upload when the data stream fails, leaving nothing behind', async () => {
    const store = makeStore();
    async function* broken(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 12; i++) yield randomBytes(1024 * 1024);
      throw new Error('microphone unplugged');
    }
    await expect(store.uploadMultipart(broken(), 'audex/broken/x.wav')).rejects.toMatchObject({
      code: 'UPLOAD_FAILED',
      message: expect.stringContaining('data stream threw'),
    });
    expect(await store.listIncompleteUploads('audex/broken/')).toEqual([]);
    expect(await store.exists('audex/broken/x.wav')).toBe(false);
  });

  it('retries throttling and 5xx answers with backoff', async () => {
    let failures = 0;
    const proxy = await startProxy(() => {
      if (failures < 3) {
        failures++;
        return {
          status: failures === 1 ? 503 : 500,
          body: errorXml(failures === 1 ? 'SlowDown' : 'InternalError'),
        };
      }
      return undefined;
    });
    try {
      const store = makeStore({ endpoint: proxy.endpoint, maxAttempts: 5 });
      await store.upload(new Uint8Array([1, 2, 3]), 'audex/retry/x', { ok: true });
      expect([...(await store.download('audex/retry/x'))]).toEqual([1, 2, 3]);
      expect(failures).toBe(3);
      expect(proxy.requests.filter((r) => r.startsWith('PUT')).length).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it('reports a server error that outlasts the retries as UPLOAD_FAILED', async () => {
    const proxy = await startProxy((req) =>
      req.method === 'PUT' ? { status: 503, body: errorXml('SlowDown') } : undefined,
    );
    try {
      const store = makeStore({ endpoint: proxy.endpoint, maxAttempts: 3 });
      await expect(store.upload(new Uint8Array([1]), 'audex/retry/never')).rejects.toMatchObject({
        code: 'UPLOAD_FAILED',
        message: expect.stringContaining('SlowDown (HTTP 503)'),
      });
      expect(proxy.requests.filter((r) => r.startsWith('PUT')).length).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('detects an object the server stored differently from what was sent', async () => {
    // The proxy reframes the body as the SDK's aws-chunked encoding would (extra bytes stored).
    const proxy = await startProxy((req, body) =>
      req.method === 'PUT' && body.length > 0
        ? { body: Buffer.concat([Buffer.from('186a0;chunk\r\n'), body]) }
        : undefined,
    );
    try {
      const store = makeStore({ endpoint: proxy.endpoint });
      await expect(store.upload(randomBytes(1000), 'audex/integrity/framed')).rejects.toMatchObject({
        code: 'INTEGRITY_ERROR',
      });
      await expect(
        store.uploadMultipart(
          (async function* () {
            yield randomBytes(1000);
          })(),
          'audex/integrity/framed2',
        ),
      ).rejects.toMatchObject({ code: 'INTEGRITY_ERROR' });
    } finally {
      await proxy.close();
    }
  });

  it('reuses a small pool of part buffers without mixing parts up (6 parts, 2 buffers)', async () => {
    const proxy = await startProxy(() => undefined);
    try {
      const store = makeStore({ endpoint: proxy.endpoint, queueSize: 1 });
      const key = 'audex/pool/six-parts.bin';
      const piece = 1024 * 1024 - 7; // chunks straddle part boundaries
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
      const partPuts = proxy.requests.filter((r) => r.startsWith('PUT') && r.includes('partNumber='));
      expect(partPuts).toHaveLength(Math.ceil(sent / (5 * 1024 * 1024)));
      const back = await store.download(key);
      expect(back.length).toBe(sent);
      expect(createHash('md5').update(back).digest('hex')).toBe(whole.digest('hex'));
    } finally {
      await proxy.close();
    }
  });

  it('sends a stream of exactly one part as a single PUT', async () => {
    const proxy = await startProxy(() => undefined);
    try {
      const store = makeStore({ endpoint: proxy.endpoint });
      const data = randomBytes(5 * 1024 * 1024);
      await store.uploadMultipart(
        (async function* () {
          yield data.subarray(0, 1000);
          yield data.subarray(1000);
        })(),
        'audex/pool/one-part.bin',
      );
      expect(proxy.requests.some((r) => r.includes('uploads'))).toBe(false);
      expect(Buffer.from(await store.download('audex/pool/one-part.bin')).equals(data)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('sends a part again when the server reports it damaged in transit (BadDigest, XAmzContentSHA256Mismatch)', async () => {
    let damaged = 0;
    const proxy = await startProxy((req) => {
      if (req.method === 'PUT' && req.url?.includes('partNumber=2') && damaged < 2) {
        damaged++;
        return { status: 400, body: errorXml(damaged === 1 ? 'BadDigest' : 'XAmzContentSHA256Mismatch') };
      }
      return undefined;
    });
    try {
      const store = makeStore({ endpoint: proxy.endpoint });
      const data = randomBytes(12 * 1024 * 1024);
      await store.uploadMultipart(
        (async function* () {
          for (let o = 0; o < data.length; o += 1024 * 1024) yield data.subarray(o, o + 1024 * 1024);
        })(),
        'audex/retry/part.bin',
      );
      expect(damaged).toBe(2);
      expect(proxy.requests.filter((r) => r.includes('partNumber=2'))).toHaveLength(3);
      expect(Buffer.from(await store.download('audex/retry/part.bin')).equals(data)).toBe(true);
      expect(await store.listIncompleteUploads('audex/retry/')).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('gives INTEGRITY_ERROR and aborts the upload when a part keeps arriving damaged', async () => {
    const proxy = await startProxy((req) =>
      req.method === 'PUT' && req.url?.includes('partNumber=1')
        ? { status: 400, body: errorXml('XAmzContentSHA256Mismatch') }
        : undefined,
    );
    try {
      const store = makeStore({ endpoint: proxy.endpoint });
      await expect(
        store.uploadMultipart(
          (async function* () {
            for (let i = 0; i < 8; i++) yield randomBytes(1024 * 1024);
          })(),
          'audex/retry/damaged.bin',
        ),
      ).rejects.toMatchObject({ code: 'INTEGRITY_ERROR', message: expect.stringContaining('part 1') });
      expect(proxy.requests.filter((r) => r.includes('partNumber=1'))).toHaveLength(3);
      expect(await store.listIncompleteUploads('audex/retry/')).toEqual([]);
      expect(await store.exists('audex/retry/damaged.bin')).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('detects a download cut short', async () => {
    const store = makeStore();
    await store.upload(randomBytes(100_000), 'audex/integrity/short');
    // A server that sends fewer bytes than its Content-Length, then drops the connection.
    const liar = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100000', etag: '"x"' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    try {
      const lying = makeStore({
        endpoint: `http://127.0.0.1:${(liar.address() as AddressInfo).port}`,
        maxAttempts: 1,
      });
      const error = await lying.download('audex/integrity/short').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('IO_ERROR');
      expect((error as StoreError).message).toContain('audex/integrity/short');
    } finally {
      await new Promise<void>((r) => liar.close(() => r()));
    }
  });

  it('rejects metadata past S3s 2 KB limit before sending anything', async () => {
    const store = makeStore();
    const fits = { note: 'x'.repeat(1400) };
    await store.upload(new Uint8Array([1]), 'audex/meta/fits', fits);
    expect(await store.getMetadata('audex/meta/fits')).toEqual(fits);
    await expect(
      store.upload(new Uint8Array([1]), 'audex/meta/big', { note: 'é'.repeat(1000) }),
    ).rejects.toMatchObject({
      code: 'METADATA_TOO_LARGE',
      message: expect.stringContaining('2048 bytes'),
    });
    expect(await store.exists('audex/meta/big')).toBe(false);
  });

  it('never puts credentials in errors', async () => {
    const credentials = {
      accessKeyId: 'AKIAAUDEXLEAKTEST01',
      secretAccessKey: 'audex-secret-leak-test-3f9a7c',
    };
    const wrong = makeStore({ credentials });
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
    const down = makeStore({ credentials, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    await capture(down.upload(new Uint8Array([1]), 'audex/creds/x'));
    await capture(
      down.uploadMultipart(
        (async function* () {
          yield new Uint8Array(6 * 1024 * 1024);
        })(),
        'audex/creds/y',
      ),
    );
    expect(errors).toHaveLength(6);
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

  it('keeps the AWS SDK out of the main entry until an S3Store is used', () => {
    const src = new URL('../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('s3/connection.ts');
    for (const file of files) {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      const staticSdkImports = source.split('\n').filter((l) => /^import (?!type ).*@aws-sdk/.test(l));
      expect(staticSdkImports, file).toEqual([]);
      // Only the s3 entry's own files reach into s3/: the main entry never loads S3 code.
      if (!file.startsWith('s3/')) expect(source, file).not.toMatch(/from '\.\/s3\//);
    }
  });
});
