// Owns the benches' null store: a Store that consumes uploads and keeps nothing, for cases that measure
// recording and streams, not storage.
import { MemoryStore, type Store } from '@audex/store';

/** A store that reads every upload to its end and keeps nothing. */
export function nullStore(): Store {
  const store = new MemoryStore();
  store.upload = async (data, key) => {
    if (!(data instanceof Uint8Array)) for await (const _ of data);
    return key;
  };
  return store;
}
