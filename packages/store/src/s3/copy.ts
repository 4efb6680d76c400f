// Owns S3Store.copy: CopyObject with the destination's metadata re-tagged and the encryption
// parameters of both ends, falling back to a streamed download and upload when the server cannot
// copy (over 5 GiB, or RGW 16's encrypted objects), then verification of the copy.

import { StoreError } from '../errors.js';
import type { Connection } from './connection.js';
import { downloadStream } from './download.js';
import { errorName, statusOf } from './errors.js';
import { decodeHeaders, newTag, TAG_HEADER } from './object-metadata.js';
import { MAX_PART_BYTES } from './part-size.js';
import type { UploadPlan } from './stream-upload.js';
import { headObject, refuseExisting, verifyWritten } from './verify.js';

/** How a copy runs. */
export interface CopyPlan {
  /** Replace an existing destination. */
  readonly overwrite: boolean;
  /** Uploads `source` as planned (the streamed fallback). */
  readonly streamed: (
    source: AsyncIterable<Uint8Array>,
    plan: Omit<UploadPlan, 'deferAbort'>,
  ) => Promise<void>;
}

/** Chunks of the streamed fallback. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/** Copies `sourceKey` to `destKey` (see S3Store.copy). */
export async function copyObject(
  conn: Connection,
  sourceKey: string,
  destKey: string,
  plan: CopyPlan,
): Promise<void> {
  const head = await headObject(conn, sourceKey, 'copy');
  if (!plan.overwrite) await refuseExisting(conn, destKey, undefined);
  const tag = newTag();
  const { [TAG_HEADER]: _old, ...userHeaders } = head.Metadata ?? {};
  const headers = {
    Metadata: { ...userHeaders, [TAG_HEADER]: tag },
    ...(head.ContentType === undefined ? {} : { ContentType: head.ContentType }),
  };
  const size = head.ContentLength ?? 0;
  if (size <= MAX_PART_BYTES && (await serverCopy(conn, sourceKey, destKey, headers, plan.overwrite))) {
    await verifyWritten(conn, destKey, { tag, bytes: size, crc32c: undefined });
    return;
  }
  await plan.streamed(downloadStream(conn, sourceKey, STREAM_CHUNK_BYTES, undefined), {
    key: destKey,
    metadata: decodeHeaders(head.Metadata, sourceKey),
    headers,
    tag,
    overwrite: plan.overwrite,
    onCheckpoint: undefined,
    resume: undefined,
  });
}

/** CopyObject; false when the server cannot copy this object (501 NotImplemented). */
async function serverCopy(
  conn: Connection,
  sourceKey: string,
  destKey: string,
  headers: { Metadata: Record<string, string>; ContentType?: string },
  overwrite: boolean,
): Promise<boolean> {
  const { s3, client } = await conn.sdk();
  let result: import('@aws-sdk/client-s3').CopyObjectCommandOutput;
  try {
    result = await client.send(
      new s3.CopyObjectCommand({
        Bucket: conn.bucket,
        Key: destKey,
        CopySource: `${conn.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ...headers,
        ...conn.encryption?.write(),
        ...conn.encryption?.copySource(),
        ...(overwrite ? {} : { IfNoneMatch: '*' }),
      }),
    );
  } catch (error) {
    if (errorName(error) === 'NotImplemented' || statusOf(error) === 501) return false;
    throw conn.error(error, 'copy', sourceKey, { read: true });
  }
  try {
    conn.encryption?.confirm(result, 'CopyObject', destKey);
  } catch (error) {
    await conn
      .call('delete the unencrypted copy', destKey, ({ s3: sdk, client: c }) =>
        c.send(new sdk.DeleteObjectCommand({ Bucket: conn.bucket, Key: destKey })),
      )
      .catch(() => undefined);
    throw error;
  }
  if (result.CopyObjectResult === undefined) {
    throw new StoreError(
      'IO_ERROR',
      `could not copy ${JSON.stringify(sourceKey)}: the server's answer has no CopyObjectResult`,
      {
        key: sourceKey,
      },
    );
  }
  return true;
}
