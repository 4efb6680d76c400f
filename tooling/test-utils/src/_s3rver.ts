// Owns the s3rver test server: s3rver 3.7.1 in a child process with the fidelity fixes it needs
// (atomic per-key writes, UTF-8 listing order, ListMultipartUploads and AbortMultipartUpload).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardDirectory } from './_daemons.js';

/** The s3rver process {@link startS3rver} runs. */
export interface S3rverProcess {
  readonly port: number;
  readonly directory: string;
  readonly running: boolean;
  stop(graceful: boolean): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  logTail(): string;
}

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

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
// 4. Ranges: 'bytes=0-0' came back as the whole object (end 0 read as "no end"), and any Range on an
//    empty object reset the connection; S3 answers the one byte, and 416 for an empty object.
const getObject = store.getObject.bind(store);
store.getObject = async function rangedGetObject(bucket, key, options) {
  if (!options || options.start === undefined) return getObject(bucket, key, options);
  const metadata = await this.getMetadata(bucket, key).catch(() => null);
  if (metadata && Number(metadata['content-length']) === 0) return getObject(bucket, key, { start: 1, end: 0 });
  if (options.end === 0) {
    const object = await getObject(bucket, key, { start: 0, end: 1 });
    if (object && object.range && object.content) {
      object.range.end = 0;
      object.content.destroy();
      object.content = fs.createReadStream(this.getResourcePath(bucket, key, 'object'), { start: 0, end: 0 });
    }
    return object;
  }
  return getObject(bucket, key, options);
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

// 4. UploadPart writes the part file in place: a server killed mid-part left a torn part. Write it
//    to a temporary file and rename it, so a part exists whole or not at all (as on S3).
store.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const partPath = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
  await fs.promises.mkdir(path.dirname(partPath), { recursive: true });
  const temporary = partPath + '.tmp-' + crypto.randomBytes(6).toString('hex');
  const md5 = crypto.createHash('md5');
  let size = 0;
  const tap = new Transform({ transform(chunk, encoding, callback) { md5.update(chunk); size += chunk.length; callback(null, chunk); } });
  try {
    await pipeline(content, tap, fs.createWriteStream(temporary));
    await fs.promises.rename(temporary, partPath);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
  const digest = md5.digest('hex');
  await fs.promises.writeFile(partPath + '.md5', digest);
  return { size, md5: digest };
};

// s3rver 3.7.1 lacks ListMultipartUploads, ListParts and AbortMultipartUpload; serve them from its
// upload directories (<dir>/<bucket>/._S3rver_uploads/<id>/{key,<partNumber>}) so recovery and
// resumption code can be tested.
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
  if (ctx.method === 'GET' && m[2] && typeof ctx.query.uploadId === 'string' && ctx.query.partNumber === undefined) {
    const upload = path.join(dir, path.basename(ctx.query.uploadId));
    if (!fs.existsSync(path.join(upload, 'key'))) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    const marker = Number(ctx.query['part-number-marker'] || 0);
    const maxParts = Math.min(1000, Number(ctx.query['max-parts'] || 1000));
    const numbers = fs.readdirSync(upload).filter((f) => /^[0-9]+$/.test(f)).map(Number).filter((n) => n > marker).sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const rows = page.map((n) => {
      const file = path.join(upload, String(n));
      const stat = fs.statSync(file);
      const etag = crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');
      return '<Part><PartNumber>' + n + '</PartNumber><LastModified>' + stat.mtime.toISOString() + '</LastModified><ETag>&quot;' + etag + '&quot;</ETag><Size>' + stat.size + '</Size></Part>';
    });
    const truncated = numbers.length > page.length;
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Bucket>' + xml(decodeURIComponent(m[1])) + '</Bucket><Key>' + xml(decodeURIComponent(m[2])) + '</Key><UploadId>' + xml(ctx.query.uploadId) + '</UploadId>' +
      '<PartNumberMarker>' + marker + '</PartNumberMarker>' + (page.length ? '<NextPartNumberMarker>' + page[page.length - 1] + '</NextPartNumberMarker>' : '') +
      '<MaxParts>' + maxParts + '</MaxParts><IsTruncated>' + truncated + '</IsTruncated>' + rows.join('') + '</ListPartsResult>';
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
 * free port, with a fresh temporary data directory and the given buckets. Adds the multipart calls
 * s3rver lacks, ListMultipartUploads, ListParts and AbortMultipartUpload (signatures not checked),
 * so recovery and resumption of incomplete uploads can be tested.
 */
export async function startS3rver(buckets: string[]): Promise<S3rverProcess> {
  const directory = mkdtempSync(join(tmpdir(), 'audex-s3rver-'));
  const dirGuard = guardDirectory(directory);
  const modulePath = createRequire(import.meta.url).resolve('s3rver');
  let child: ChildProcess | undefined;
  let port = 0;
  let stderr = '';

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

  const stop = async (graceful: boolean): Promise<void> => {
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

  try {
    await launch();
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    dirGuard.release();
    throw error;
  }

  return {
    get port() {
      return port;
    },
    directory,
    get running() {
      return child !== undefined;
    },
    stop,
    async start() {
      if (child === undefined) await launch();
    },
    async close() {
      await stop(true);
      rmSync(directory, { recursive: true, force: true });
      dirGuard.release();
    },
    logTail: () => stderr.trim(),
  };
}
