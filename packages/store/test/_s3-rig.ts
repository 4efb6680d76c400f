// A local S3 server of one kind (s3rver or Ceph RGW) with the fault proxy in front of it, started
// once per describe block, and S3Stores made against it (through the proxy by default), destroyed
// after each test. Faults and request counts are reset after each test.
import { randomUUID } from 'node:crypto';
import { S3Store, type S3StoreOptions } from '@audex/store/s3';
import { type S3FaultProxy, startS3FaultProxy } from '@audex/test-utils/s3-fault-proxy';
import { type S3Server, type S3ServerKind, startS3Server } from '@audex/test-utils/s3-server';
import { afterAll, afterEach, beforeAll } from 'vitest';

export const MiB = 1024 * 1024;

export interface S3Rig {
  readonly kind: S3ServerKind;
  readonly server: S3Server;
  readonly proxy: S3FaultProxy;
  /** A store on the rig's bucket, through the proxy unless `direct`. */
  store(options?: Partial<S3StoreOptions>, via?: 'proxy' | 'direct'): S3Store;
  /** A fresh key prefix (ending in `/`) for one test. */
  prefix(): string;
}

/** Registers the hooks of a rig in the current describe block; its fields are valid inside tests. */
export function useS3Rig(kind: S3ServerKind): S3Rig {
  let server: S3Server | undefined;
  let proxy: S3FaultProxy | undefined;
  const stores: S3Store[] = [];
  beforeAll(async () => {
    server = await startS3Server({ kind, buckets: ['audex-store'] });
    proxy = await startS3FaultProxy(server);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.destroy()));
    proxy?.clearFaults();
    proxy?.reset();
    if (proxy) proxy.rewriteETags = false;
    if (server && !server.running) await server.restart();
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });
  return {
    kind,
    get server() {
      return server!;
    },
    get proxy() {
      return proxy!;
    },
    store(options = {}, via = 'proxy') {
      const store = new S3Store({
        bucket: server!.bucket,
        endpoint: via === 'proxy' ? proxy!.endpoint : server!.endpoint,
        forcePathStyle: true,
        credentials: server!.credentials,
        maxAttempts: 2,
        connectionTimeout: 2000,
        ...options,
      });
      stores.push(store);
      return store;
    },
    prefix: () => `audex/${randomUUID().slice(0, 8)}/`,
  };
}

/** An async iterable of `data` in `pieceBytes` pieces (views). */
export async function* pieces(data: Uint8Array, pieceBytes = MiB): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += pieceBytes) yield data.subarray(o, o + pieceBytes);
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const outcome = await promise.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error('expected a rejection, the promise resolved');
  return outcome.error as Error & { code?: string };
}
