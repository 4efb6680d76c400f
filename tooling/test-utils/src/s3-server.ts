// Owns the one API tests use to get a local S3 server, whichever it is: s3rver (a fake in a Node
// child process) or Ceph RGW (a real S3 implementation: signatures, Content-MD5, SSE-C, SSE-KMS).
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { RGW_CREDENTIALS, RGW_KMS_KEY_ID, startRgwCluster } from './_rgw.js';
import { S3RVER_CREDENTIALS, startS3rver } from './_s3rver.js';

/** The local S3 servers {@link startS3Server} can run. */
export type S3ServerKind = 's3rver' | 'rgw';

/** Every {@link S3ServerKind}, for `describe.each(S3_SERVER_KINDS)`. */
export const S3_SERVER_KINDS: readonly S3ServerKind[] = ['s3rver', 'rgw'];

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /**
   * Which server: `'s3rver'` (default; s3rver 3.7.1) or `'rgw'` (Ceph RGW 16.2 from Debian's
   * `radosgw` package, one monitor and one memstore OSD; starts in ~1 s on a quiet machine).
   */
  kind?: S3ServerKind;
  /** Buckets created at start. Default `['audex-test']`; the first is `bucket` of the result. */
  buckets?: string[];
  /** RGW only: how long startup (or a `restart()`) may take before it fails. Default 60 000 ms. */
  startTimeoutMs?: number;
  /**
   * RGW only: the capacity the memstore OSD reports, in bytes (objects live in the OSD's memory;
   * writes fail once it is 95 % full). Default 8 GiB.
   */
  capacityBytes?: number;
}

/** What a server checks and supports, for tests whose expectations depend on it. */
export interface S3ServerFeatures {
  /** Rejects requests whose SigV4 signature or signed payload hash does not match (RGW). */
  readonly verifiesSignatures: boolean;
  /** Rejects a body whose `Content-MD5` does not match with `BadDigest` (RGW). */
  readonly verifiesContentMd5: boolean;
  /** Stores and serves SSE-C objects (RGW, over plain http). */
  readonly sseC: boolean;
  /** A key id usable with SSE-KMS (`'testkey-1'` on RGW), or undefined when unsupported. */
  readonly sseKmsKeyId: string | undefined;
  /** The CompleteMultipartUpload answer carries the object's ETag (s3rver; RGW 16 answers `""`). */
  readonly completeReturnsETag: boolean;
}

/** A running local S3 server and how to reach it. */
export interface S3Server {
  readonly kind: S3ServerKind;
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` (path-style: `forcePathStyle: true`). */
  readonly endpoint: string;
  /** The TCP port; kept across `restart()`. */
  readonly port: number;
  /** The region to sign for (`'us-east-1'`; neither server checks it). */
  readonly region: string;
  /** Fixed test credentials (s3rver: `S3RVER`/`S3RVER`; RGW: the `audex-test` user's keys). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The first configured bucket. */
  readonly bucket: string;
  /** The data directory (kept across `restart()`, removed by `close()`). */
  readonly directory: string;
  /** True while the S3 endpoint's process runs (RGW: the radosgw gateway). */
  readonly running: boolean;
  readonly features: S3ServerFeatures;
  /**
   * Options for `new S3Client(...)`: endpoint (or the given one, e.g. a fault proxy's), region,
   * credentials, path-style, and checksums only when required (s3rver stores a streamed PutObject's
   * aws-chunked framing as data; RGW 16 answers 411 to it).
   */
  clientConfig(endpoint?: string): S3ClientConfig;
  /** Creates a bucket (through the S3 API). */
  createBucket(name: string): Promise<void>;
  /**
   * Stops the S3 endpoint's process, keeping its data: SIGKILL by default (an abrupt failure),
   * SIGTERM with `graceful`. On RGW only the gateway stops; the monitor and the OSD (which holds
   * the objects and incomplete multipart uploads in memory) keep running.
   */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Starts it again on the same port with the same data (stopping it first if needed). */
  restart(): Promise<void>;
  /** Stops every process it started and removes its data directory. */
  close(): Promise<void>;
  /** The last lines of the server's logs, for a failing test's message. */
  logTail(): string;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Backend {
  readonly port: number;
  readonly directory: string;
  readonly running: boolean;
  stop(graceful: boolean): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  logTail(): string;
}

/**
 * Starts a local S3 server on 127.0.0.1 and a free port, in a fresh temporary directory, and
 * creates `buckets`. Every process it starts is killed by `close()` (and, should the test process
 * die first, by a watchdog); it never touches processes it did not start.
 *
 * s3rver: s3rver 3.7.1 (`node --openssl-legacy-provider`) with fidelity fixes and the two multipart
 * calls it lacks, ListMultipartUploads and AbortMultipartUpload. RGW: `ceph-mon`, `ceph-osd`
 * (memstore) and `radosgw` (beast) from Debian's Ceph 16.2 packages (installed by
 * `scripts/setup.sh`), `auth none`, SSE-C over http and SSE-KMS with RGW's `testing` backend
 * (key id in `features.sseKmsKeyId`). A failed start rejects with the daemons' log tails.
 *
 * @example
 * describe.each(S3_SERVER_KINDS)('on %s', (kind) => {
 *   let server: S3Server;
 *   beforeAll(async () => { server = await startS3Server({ kind }); });
 *   afterAll(() => server.close());
 *   it('…', async () => { const s3 = new S3Client(server.clientConfig()); … });
 * });
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const kind = options.kind ?? 's3rver';
  if (!S3_SERVER_KINDS.includes(kind))
    throw new Error(`startS3Server: unknown kind ${JSON.stringify(kind)} (allowed: 's3rver', 'rgw')`);
  const buckets = options.buckets ?? ['audex-test'];
  if (buckets.length === 0) throw new Error('startS3Server: give at least one bucket');
  const backend: Backend =
    kind === 'rgw'
      ? await rgwBackend(options.startTimeoutMs ?? 60_000, options.capacityBytes ?? 8 * 1024 ** 3)
      : await startS3rver(buckets);
  const credentials = kind === 'rgw' ? RGW_CREDENTIALS : S3RVER_CREDENTIALS;
  const region = 'us-east-1';
  const clientConfig = (endpoint = `http://127.0.0.1:${backend.port}`): S3ClientConfig => ({
    endpoint,
    region,
    credentials: { ...credentials },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let client: S3Client | undefined;
  const createBucket = async (name: string): Promise<void> => {
    client ??= new S3Client(clientConfig());
    await client.send(new CreateBucketCommand({ Bucket: name }));
  };
  const close = async (): Promise<void> => {
    client?.destroy();
    client = undefined;
    await backend.close();
  };
  if (kind === 'rgw') {
    try {
      for (const name of buckets) await createBucket(name);
    } catch (error) {
      const tail = backend.logTail();
      await close();
      throw new Error(`startS3Server({ kind: 'rgw' }): creating the buckets failed: ${error}\n${tail}`, {
        cause: error,
      });
    }
  }

  return {
    kind,
    get endpoint() {
      return `http://127.0.0.1:${backend.port}`;
    },
    get port() {
      return backend.port;
    },
    region,
    credentials,
    bucket: buckets[0]!,
    directory: backend.directory,
    get running() {
      return backend.running;
    },
    features:
      kind === 'rgw'
        ? {
            verifiesSignatures: true,
            verifiesContentMd5: true,
            sseC: true,
            sseKmsKeyId: RGW_KMS_KEY_ID,
            completeReturnsETag: false,
          }
        : {
            verifiesSignatures: false,
            verifiesContentMd5: false,
            sseC: false,
            sseKmsKeyId: undefined,
            completeReturnsETag: true,
          },
    clientConfig,
    createBucket,
    stop: ({ graceful = false } = {}) => backend.stop(graceful),
    async restart() {
      await backend.stop(false);
      await backend.start();
    },
    close,
    logTail: () => backend.logTail(),
    [Symbol.asyncDispose]: close,
  };
}

async function rgwBackend(timeoutMs: number, memstoreBytes: number): Promise<Backend> {
  const cluster = await startRgwCluster({ timeoutMs, memstoreBytes });
  return {
    port: cluster.port,
    directory: cluster.directory,
    get running() {
      return cluster.running;
    },
    stop: (graceful) => cluster.stopGateway(graceful),
    start: () => cluster.startGateway(),
    close: () => cluster.close(),
    logTail: () => cluster.logTail(),
  };
}
