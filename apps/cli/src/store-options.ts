import { resolve } from 'node:path';
import { STORE_FORMATS, type StoreFormat } from '@audex/recorder';
import type { Store } from '@audex/store';
import { CliError } from './cli-error.js';

/** Where recordings are kept, as given by flags (which win) and the environment. */
export interface StoreFlags {
  /** Local store directory (`--store-dir`); else `AUDEX_STORE_DIR`; else `./recordings`. */
  storeDir?: string;
  /** S3 bucket (`--s3-bucket`); else `AUDEX_S3_BUCKET`. Setting one selects the S3 store. */
  s3Bucket?: string;
  /** S3 endpoint URL (`--s3-endpoint`); else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`; else AWS. */
  s3Endpoint?: string;
  /** S3 region (`--s3-region`); else `AWS_REGION` / `AWS_DEFAULT_REGION`; else `us-east-1`. */
  s3Region?: string;
}

/** The store flags every command that touches recordings accepts. */
export const STORE_FLAG_HELP = {
  storeDir: 'local store directory (env AUDEX_STORE_DIR, default ./recordings)',
  s3Bucket: 'use an S3 bucket instead of the local store (env AUDEX_S3_BUCKET)',
  s3Endpoint: 'S3-compatible endpoint URL, e.g. MinIO (env AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)',
  s3Region: 'S3 region (env AWS_REGION, default us-east-1)',
} as const;

/**
 * Parses `--store-format`: `wav` (default) or `flac`, the formats a recording is stored in losslessly.
 * @throws {CliError} `USAGE` naming the value and the allowed ones.
 */
export function parseStoreFormat(text: string | undefined): StoreFormat | undefined {
  if (text === undefined) return undefined;
  if (!(STORE_FORMATS as readonly string[]).includes(text)) {
    throw new CliError(
      'USAGE',
      `--store-format "${text.slice(0, 40)}" is not a format recordings are stored in; use ${STORE_FORMATS.join(' or ')} (lossless; for other formats use "audex stream" or "audex get -f")`,
    );
  }
  return text as StoreFormat;
}

/** A human description of the store, for messages (never includes credentials). */
export function describeStore(flags: StoreFlags): string {
  const bucket = flags.s3Bucket ?? process.env.AUDEX_S3_BUCKET;
  if (bucket) {
    const endpoint = flags.s3Endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    return `s3://${bucket}${endpoint ? ` at ${endpoint}` : ''}`;
  }
  return resolve(flags.storeDir ?? process.env.AUDEX_STORE_DIR ?? './recordings');
}

/**
 * Opens the store the flags and environment select. The S3 backend is imported only when chosen,
 * so local use never loads the AWS SDK. S3 credentials come from the usual AWS chain
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, instance roles).
 */
export async function openStore(flags: StoreFlags): Promise<Store> {
  const bucket = flags.s3Bucket ?? process.env.AUDEX_S3_BUCKET;
  if (bucket) {
    const endpoint = flags.s3Endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const region = flags.s3Region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    // The SDK warns on every run under Node 20 that its *future* releases will need Node 22; the
    // version the store pins runs fine here, so the CLI keeps stderr for its own messages.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { S3Store } = await import('@audex/store/s3');
    return new S3Store({
      bucket,
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    });
  }
  const root = resolve(flags.storeDir ?? process.env.AUDEX_STORE_DIR ?? './recordings');
  const { LocalStore } = await import('@audex/store');
  return new LocalStore({ root });
}
