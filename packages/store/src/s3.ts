// The subpath re-exports the main entry's class (kept external by tsup), so `S3Store` and
// `StoreError` have one identity whichever entry a user imports. The SDK loads on first use.
export { type IncompleteUpload, S3Store, type S3StoreOptions } from '@audex/store';
