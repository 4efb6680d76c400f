// Owns the link to the server: loading the optional AWS SDK (a clear error when it is missing),
// creating the client, and turning every SDK failure into a scrubbed StoreError.

import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { StoreError, type StoreErrorCode } from '../errors.js';
import type { Encryption } from './encryption.js';
import { Secrets, toStoreError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** The AWS SDK module. */
export type ClientS3 = typeof import('@aws-sdk/client-s3');
/** The SDK and a client of it. */
export interface Sdk {
  readonly s3: ClientS3;
  readonly client: S3Client;
}

/** The optional peer dependency S3Store loads on first use. */
export const SDK_PACKAGE = '@aws-sdk/client-s3';
/** The SDK release audex is tested with (the last ones supporting Node 20). */
export const SDK_TESTED_VERSION = '3.1169.0';

/**
 * Imports the AWS SDK, or fails with `MISSING_DEPENDENCY` naming the package to install.
 * An optional peer dependency is the application's to provide, so when `@audex/store` cannot see
 * it from where it is installed (e.g. `npm install -g` of tarballs side by side puts the CLI's own
 * dependencies under the CLI, out of the store's sight), it is looked up again from the
 * application's entry point (`process.argv[1]`).
 *
 * @param load - the import (a parameter so a test can name a package that is not installed).
 * @param fromApp - the fallback resolution from the application (a parameter for the same reason).
 */
export async function importSdk(
  load: () => Promise<unknown> = () => import('@aws-sdk/client-s3'),
  fromApp: () => Promise<unknown> = () => importFromApp(SDK_PACKAGE),
): Promise<ClientS3> {
  try {
    return (await load()) as ClientS3;
  } catch (cause) {
    if (!isNotFound(cause)) throw cause;
    try {
      return (await fromApp()) as ClientS3;
    } catch (appCause) {
      if (!isNotFound(appCause)) throw appCause;
    }
    throw new StoreError(
      'MISSING_DEPENDENCY',
      `S3Store needs the AWS SDK package ${SDK_PACKAGE}, an optional peer dependency of @audex/store that is not installed: run npm install ${SDK_PACKAGE}@${SDK_TESTED_VERSION}`,
      { cause },
    );
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Imports `specifier` as resolved from the application's entry script (symlinks followed). */
async function importFromApp(specifier: string): Promise<unknown> {
  const entry = process.argv[1];
  if (!entry)
    throw Object.assign(new Error(`no entry script to resolve ${specifier} from`), {
      code: 'MODULE_NOT_FOUND',
    });
  let from: string;
  try {
    from = realpathSync(entry);
  } catch {
    from = entry;
  }
  const resolved = createRequire(from).resolve(specifier);
  return import(pathToFileURL(resolved).href);
}

/** How to classify a failed call. */
export interface FailureKind {
  /** Code when nothing more specific applies. Default `IO_ERROR`. */
  fallback?: StoreErrorCode;
  /** The call read an existing object (GET, HEAD): a bare 400 there is an SSE-C key problem. */
  read?: boolean;
}

/** The lazily created SDK client of one S3Store, and how its failures are reported. */
export class Connection {
  /** The bucket. */
  readonly bucket: string;
  /** The validated options. */
  readonly options: ResolvedOptions;
  /** Secrets masked in every message. */
  readonly secrets = new Secrets();
  #sdk: Promise<Sdk> | undefined;

  /** @param options - validated options. */
  constructor(options: ResolvedOptions) {
    this.options = options;
    this.bucket = options.bucket;
    const o = options.raw;
    this.secrets.add(
      o.credentials?.accessKeyId,
      o.credentials?.secretAccessKey,
      o.credentials?.sessionToken,
      process.env.AWS_ACCESS_KEY_ID,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_SESSION_TOKEN,
      options.encryption?.secret,
    );
  }

  /** The encryption option, if any. */
  get encryption(): Encryption | undefined {
    return this.options.encryption;
  }

  /** The SDK and client (loaded and created on first call). */
  sdk(): Promise<Sdk> {
    if (this.#sdk === undefined) {
      const created = this.#create();
      this.#sdk = created;
      // A failed load (SDK missing) is not cached: installing it fixes the next call.
      created.catch(() => {
        if (this.#sdk === created) this.#sdk = undefined;
      });
    }
    return this.#sdk;
  }

  async #create(): Promise<Sdk> {
    const s3 = await importSdk();
    const o = this.options.raw;
    const envEndpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const region =
      o.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      (o.endpoint || envEndpoint ? 'us-east-1' : undefined);
    const client = new s3.S3Client({
      ...(region === undefined ? {} : { region }),
      ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
      forcePathStyle: o.forcePathStyle ?? false,
      maxAttempts: o.maxAttempts ?? 5,
      retryMode: 'standard',
      // The store sends its own checksums (Content-MD5, CRC32C headers on buffered bodies): with
      // the SDK's 'WHEN_SUPPORTED' a streamed body would go aws-chunked, which s3rver stores
      // verbatim (100 000 bytes became 100 045) and RGW 16 refuses (411).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: o.connectionTimeout ?? 10_000 },
      ...o.clientConfig,
    });
    try {
      const creds = await client.config.credentials();
      this.secrets.add(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken);
    } catch {
      // No credentials found: the first request reports it.
    }
    return { s3, client };
  }

  /**
   * Runs one SDK call; its failure becomes a StoreError (`action` and `key` name it, `fallback` is
   * the code when nothing more specific applies).
   */
  async call<T>(
    action: string,
    key: string | undefined,
    fn: (sdk: Sdk) => Promise<T>,
    how: FailureKind = {},
  ): Promise<T> {
    const sdk = await this.sdk();
    try {
      return await fn(sdk);
    } catch (cause) {
      throw this.error(cause, action, key, how);
    }
  }

  /** A scrubbed StoreError for an SDK failure. */
  error(cause: unknown, action: string, key: string | undefined, how: FailureKind = {}): StoreError {
    return toStoreError(
      cause,
      {
        action,
        key,
        bucket: this.bucket,
        fallback: how.fallback ?? 'IO_ERROR',
        read: how.read ?? false,
        customerKey: this.encryption?.customerKey ?? false,
      },
      this.secrets,
    );
  }

  /** Closes the client's connections. */
  async destroy(): Promise<void> {
    const sdk = this.#sdk;
    this.#sdk = undefined;
    if (sdk) (await sdk.catch(() => undefined))?.client.destroy();
  }
}
