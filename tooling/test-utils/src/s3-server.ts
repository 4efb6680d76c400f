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
server.run().then(
  (address) => process.send({ port: address.port }),
  (error) => { process.send({ error: String(error && error.stack || error) }); process.exit(1); });
const quit = () => server.close().catch(() => {}).finally(() => process.exit(0));
process.on('disconnect', quit);
process.on('SIGTERM', quit);
`;

/**
 * Starts s3rver 3.7.1 in a child process (`node --openssl-legacy-provider`) on 127.0.0.1 and a
 * free port, with a fresh temporary data directory. Clients need `forcePathStyle: true`, the
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
