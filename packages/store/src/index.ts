// The `@audex/store` entry: the Store interface and its types, LocalStore, MemoryStore, KeyBuilder,
// the key and metadata rules, and the resumable-upload plug point. No S3 code (see `./s3`).

export { isStoreError, StoreError, type StoreErrorCode } from './errors.js';
export { KeyBuilder, type KeyBuilderOptions } from './key-builder.js';
export { LocalStore, type LocalStoreOptions } from './local-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { decodeMetadata, encodeMetadata } from './metadata.js';
export {
  type CompletedPart,
  type IncompleteUpload,
  isResumableStore,
  type ResumableStore,
  type ResumableUploadOptions,
  type UploadCheckpoint,
} from './resumable.js';
export type {
  ByteRange,
  DownloadOptions,
  DownloadStreamOptions,
  ListOptions,
  Store,
  StoreMetadata,
  WriteOptions,
} from './types.js';
export {
  isValidKey,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  validateKey,
  validatePrefix,
} from './validate-key.js';
