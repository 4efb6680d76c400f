// The `@audex/store/s3` entry: S3Store and its types. Loads no AWS SDK code until a store is used;
// the SDK (`@aws-sdk/client-s3`) is an optional peer dependency of @audex/store.

export type {
  CompletedPart,
  IncompleteUpload,
  ResumableStore,
  ResumableUploadOptions,
  UploadCheckpoint,
} from '../resumable.js';
export type { S3Encryption } from './encryption.js';
export type { S3Integrity, S3StoreOptions } from './options.js';
export { MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, partBytesAt } from './part-size.js';
export { S3Store } from './s3-store.js';
