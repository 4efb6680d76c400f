import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Buckets created at start. Default `['audex-test']`; the first is `bucket` of the result. */
  buckets?: string[];
}

/** A running local S3 server (s3rver in a child process) and how to reach it. */
export interface S3Server {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` (use `forcePathStyle: true`). */
  readonly endpoint: string;
  /** The TCP port; kept across `restart()`. */
  readonly port: number;
  /** s3rver's fixed credentials. */
  readonly credentials: { accessKeyId: 'S3RVER'; secretAccessKey: 'S3RVER' };
  /** The first configured bucket. */
  readonly bucket: string;
  /** The data directory (kept across `restart()`, removed by `close()`). */
  readonly directory: string;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Stops the server process (SIGKILL by default: an abrupt failure), keeping its data. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Starts the server again on the same port with the same data (stopping it first if needed). */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

// Runs inside the child: s3rver needs OpenSSL's legacy provider (its signature code uses MD5-based
// routines Node 17+ refuses without it), else paginated listing answers 500.
const CHILD = `
const S3rver = require(process.env.AUDEX_S3RVER_MODULE);
const o = JSON.parse(process.env.AUDEX_S3RVER_OPTIONS);
const server = new S3rver({ address: '127.0.0.1', port: o.port, directory: o.directory, silent: true,
  configureBuckets: o.buckets.map((name) => ({ name, configs: [] })) });
// Fidelity fixes to s3rver 3.7.1's filesystem store, so it keeps S3's guarantees the store tests check:
// 1. putObject answers before its file is written (a HEAD right after PUT saw 0 bytes) and writes in
//    place: wait for the write to finish.
// 2. Requests to one key run one at a time (below), so concurrent PUTs never tear an object or pair
//    one writer's bytes with another's metadata: S3 replaces objects atomically, last writer wins.
// 3. ListObjects walks the filesystem ('a/b' before 'a'): S3 lists in UTF-8 byte order.
const crypto = require('crypto');
const { Readable, Transform } = require('stream');
const { pipeline } = require('stream/promises');
const store = server.store;
store.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const md5 = crypto.createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const tap = new Transform({ transform(chunk, encoding, callback) { md5.update(chunk); size += chunk.length; callback(null, chunk); } });
  await pipeline(source, tap, fs.createWriteStream(objectPath));
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
const utf8Order = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const listAll = store.listObjects.bind(store);
store.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const all = await listAll(bucket, { prefix, maxKeys: Infinity });
  const sorted = all.objects.filter((o) => !startAfter || utf8Order(o.key, startAfter) > 0).sort((a, b) => utf8Order(a.key, b.key));
  const commonPrefixes = new Set();
  const objects = [];
  let isTruncated = false;
  for (const o of sorted) {
    const idx = delimiter ? o.key.slice(prefix.length).indexOf(delimiter) : -1;
    if (idx !== -1) { commonPrefixes.add(o.key.slice(0, prefix.length + idx + 1)); continue; }
    if (objects.length < maxKeys) objects.push(o);
    else { isTruncated = true; break; }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(utf8Order), isTruncated };
};
const locks = new Map();
async function lockKey(name) {
  const previous = locks.get(name) || Promise.resolve();
  let release;
  const current = new Promise((resolve) => { release = resolve; });
  const tail = previous.then(() => current);
  locks.set(name, tail);
  await previous;
  return () => { release(); if (locks.get(name) === tail) locks.delete(name); };
}
server.middleware.unshift(async (ctx, next) => {
  const parts = ctx.path.split('/');
  if (parts.length < 3 || !parts[1] || !parts[2]) return next();
  const release = await lockKey(parts.slice(1).join('/'));
  let released = false;
  const done = () => { if (!released) { released = true; release(); } };
  ctx.res.once('close', done);
  ctx.res.once('finish', done);
  try { await next(); } catch (error) { done(); throw error; }
});

// s3rver 3.7.1 lacks ListMultipartUploads and AbortMultipartUpload; serve them from its upload
// directories (<dir>/<bucket>/._S3rver_uploads/<id>/key) so recovery code can be tested.
const fs = require('fs');
const path = require('path');
const xml = (s) => String(s).replace(/[<>&'"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
server.middleware.unshift(async (ctx, next) => {
  const parts = ctx.path.split('/');
  const m = parts.length >= 2 && parts[1] ? [ctx.path, parts[1], parts.slice(2).join('/')] : null;
  if (!m) return next();
  const dir = path.join(o.directory, decodeURIComponent(m[1]), '._S3rver_uploads');
  if (ctx.method === 'GET' && !m[2] && 'uploads' in ctx.query) {
    const prefix = ctx.query.prefix || '';
    const ids = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    const rows = [];
    for (const id of ids) {
      let key;
      try { key = fs.readFileSync(path.join(dir, id, 'key'), 'utf8'); } catch { continue; }
      if (!key.startsWith(prefix)) continue;
      const initiated = fs.statSync(path.join(dir, id)).mtime.toISOString();
      rows.push({ key, id, initiated });
    }
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Bucket>' + xml(decodeURIComponent(m[1])) + '</Bucket><Prefix>' + xml(prefix) + '</Prefix><MaxUploads>10000</MaxUploads><IsTruncated>false</IsTruncated>' +
      rows.map((r) => '<Upload><Key>' + xml(r.key) + '</Key><UploadId>' + xml(r.id) + '</UploadId><Initiated>' + r.initiated + '</Initiated><StorageClass>STANDARD</StorageClass></Upload>').join('') +
      '</ListMultipartUploadsResult>';
    return;
  }
  if (ctx.method === 'DELETE' && m[2] && typeof ctx.query.uploadId === 'string') {
    const target = path.join(dir, path.basename(ctx.query.uploadId));
    if (!fs.existsSync(target)) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    fs.rmSync(target, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  return next();
});
server.run().then(
  (address) => process.send({ port: address.port }),
  (error) => { process.send({ error: String(error && error.stack || error) }); process.exit(1); });
const quit = () => server.close().catch(() => {}).finally(() => process.exit(0));
process.on('disconnect', quit);
process.on('SIGTERM', quit);
`;

/**
 * Starts s3rver 3.7.1 in a child process (`node --openssl-legacy-provider`) on 127.0.0.1 and a
 * free port, with a fresh temporary data directory. Adds the two multipart calls s3rver lacks,
 * ListMultipartUploads and AbortMultipartUpload (signatures not checked), so recovery of incomplete
 * uploads can be tested. Clients need `forcePathStyle: true`, the
 * returned credentials and, with SDK v3, `requestChecksumCalculation: 'WHEN_REQUIRED'` (else a
 * streamed PutObject is stored with its aws-chunked framing).
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = options.buckets ?? ['audex-test'];
  if (buckets.length === 0) throw new Error('startS3Server: give at least one bucket');
  const directory = mkdtempSync(join(tmpdir(), 'audex-s3rver-'));
  const modulePath = createRequire(import.meta.url).resolve('s3rver');
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: {
          ...process.env,
          AUDEX_S3RVER_MODULE: modulePath,
          AUDEX_S3RVER_OPTIONS: JSON.stringify({ port, directory, buckets }),
        },
      });
      let stderr = '';
      proc.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const onExit = (code: number | null): void => {
        reject(new Error(`s3rver exited before listening (code ${code}): ${stderr}`));
      };
      proc.once('exit', onExit);
      proc.once('message', (message: { port?: number; error?: string }) => {
        proc.off('exit', onExit);
        if (message.port === undefined) {
          reject(new Error(`s3rver failed to start: ${message.error}`));
          return;
        }
        port = message.port;
        child = proc;
        proc.once('exit', () => {
          if (child === proc) child = undefined;
        });
        resolve();
      });
    });

  const stop = async ({ graceful = false } = {}): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  };

  const close = async (): Promise<void> => {
    await stop({ graceful: true });
    rmSync(directory, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }

  return {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    bucket: buckets[0]!,
    directory,
    get running() {
      return child !== undefined;
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
