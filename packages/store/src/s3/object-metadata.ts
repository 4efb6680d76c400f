// Owns how user metadata and the upload tag travel as S3 headers: one base64url JSON header
// (types, case and unicode survive), S3's 2 KB limit, and the tag naming the upload that wrote it.

import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import { decodeMetadata, encodeMetadata } from '../metadata.js';
import type { StoreMetadata } from '../types.js';

/** Metadata header (after `x-amz-meta-`) holding the base64url JSON of the user metadata. */
export const META_HEADER = 'audex-json';
/** Metadata header holding the tag of the upload that wrote the object. */
export const TAG_HEADER = 'audex-upload';
/** S3's limit on user metadata: key and value bytes summed. */
const MAX_METADATA_BYTES = 2048;

/** The headers an object is created with. */
export interface ObjectHeaders {
  /** User metadata headers (without `x-amz-meta-`). */
  Metadata: Record<string, string>;
  /** From the `content_type` (or `contentType`) metadata field when it is a printable ASCII string. */
  ContentType?: string;
}

/** A fresh random upload tag (16 base64url characters). */
export function newTag(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * The headers for `metadata` and `tag`; `METADATA_TOO_LARGE` past S3's 2 KB of user metadata,
 * `INVALID_METADATA` for metadata JSON cannot keep.
 */
export function encodeHeaders(metadata: StoreMetadata | undefined, key: string, tag: string): ObjectHeaders {
  const json = encodeMetadata(metadata, key);
  const contentType = metadata?.content_type ?? metadata?.contentType;
  const out: ObjectHeaders = { Metadata: { [TAG_HEADER]: tag } };
  if (typeof contentType === 'string' && /^[\x20-\x7e]+$/.test(contentType)) out.ContentType = contentType;
  if (json === '{}') return out;
  const value = Buffer.from(json, 'utf8').toString('base64url');
  const bytes = META_HEADER.length + value.length + TAG_HEADER.length + tag.length;
  if (bytes > MAX_METADATA_BYTES) {
    throw new StoreError(
      'METADATA_TOO_LARGE',
      `metadata of ${JSON.stringify(key)} is ${Buffer.byteLength(json)} bytes of JSON, ${bytes} bytes encoded; S3 allows ${MAX_METADATA_BYTES} bytes of user metadata (about 1500 bytes of JSON)`,
      { key },
    );
  }
  out.Metadata[META_HEADER] = value;
  return out;
}

/** The user metadata of an object from its headers (an object written by another tool: its headers, as strings). */
export function decodeHeaders(headers: Record<string, string> | undefined, key: string): StoreMetadata {
  const value = headers?.[META_HEADER];
  if (value !== undefined) return decodeMetadata(Buffer.from(value, 'base64url').toString('utf8'), key);
  const { [TAG_HEADER]: _tag, ...rest } = headers ?? {};
  return rest;
}
