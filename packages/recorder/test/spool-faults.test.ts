import type * as fs from 'node:fs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '@audex/store';
import { afterEach, expect, test, vi } from 'vitest';
import { RecorderError } from '../src/index.js';
import { expectedPcm, rigsPerTest, waitForFrames, wavData } from './helpers.js';

// Fault injection: while `failing` is set, the journal's writes fail as on a full disk (the
// journal writes through node:fs; the recorder's own small files go through node:fs/promises).
const fault = vi.hoisted(() => ({ failing: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  const enospc = (): NodeJS.ErrnoException =>
    Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  return {
    ...real,
    write: ((...args: unknown[]) => {
      const cb = args[args.length - 1] as (e: Error | null, n?: number) => void;
      if (fault.failing) {
        queueMicrotask(() => cb(enospc()));
        return;
      }
      return (real.write as (...a: unknown[]) => void)(...args);
    }) as typeof fs.write,
    writeSync: ((...args: unknown[]) => {
      if (fault.failing) throw enospc();
      return (real.writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync,
  };
});

const rigs = rigsPerTest();
afterEach(() => {
  fault.failing = false;
});

const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };

test('a journal that cannot be finished (disk full at stop) keeps the recording for recover(), which saves all of it', async () => {
  const store = new MemoryStore();
  const rig = rigs.make({ config, store, source: { durationMs: 1000 } });
  const { recorder } = rig;
  await recorder.init();
  const key = await recorder.start();
  await waitForFrames(recorder, 16_000);
  fault.failing = true;
  const error = await recorder.stop().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecorderError);
  expect(error).toMatchObject({ code: 'UPLOAD_FAILED', key });
  expect((error as Error).message).toMatch(/could not finish the recording's journal: .*ENOSPC/);
  expect(recorder.status).toBe('initialized');
  expect(await store.exists(key)).toBe(false);
  // What was captured is still there: cut it, then save it once the disk has room again.
  expect((await recorder.segment(0, Date.now() + 60_000)).byteLength).toBe(32_000);
  fault.failing = false;
  const recovered = await recorder.recover();
  expect(recovered.map((r) => r.key)).toEqual([key]);
  const { data } = wavData(await store.download(key));
  expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, 16_000, config)))).toBe(true);
  expect(await store.getMetadata(key)).toMatchObject({ recovered: true, frame_count: 16_000 });
  await recorder.clearFrames();
  expect(readdirSync(join(rig.spoolDir, 'recordings'))).toEqual([]);
});
