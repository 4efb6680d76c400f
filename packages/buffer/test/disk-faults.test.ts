import type * as fs from 'node:fs';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { BufferError, FrameBuffer } from '../src/index.js';
import { chunk, tempDir } from './helpers.js';

// Fault injection: while `failing` is set, data-file writes fail as on a full disk.
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

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  fault.failing = false;
  await cleanup();
});

test('a full disk surfaces as IO_ERROR from flush, onError and append once RAM is full; audio already in RAM stays readable', async () => {
  const errors: Error[] = [];
  const buffer = await FrameBuffer.create({
    spoolDir: dir,
    sampleFormat: 'int16',
    channels: 1,
    rate: 1000,
    memoryMs: 200,
    blockMs: 100,
    flushIntervalMs: 20,
    onError: (e) => errors.push(e),
  });
  buffer.append(chunk(0, 100, 2, 1e12));
  await buffer.flush();
  expect(buffer.durableFrames).toBe(100);
  fault.failing = true;
  buffer.append(chunk(100, 150, 2, 1e12 + 100));
  await expect(buffer.flush()).rejects.toMatchObject({
    code: 'IO_ERROR',
    message: expect.stringMatching(/^\[audex\/buffer\] writing audio to .*ENOSPC/),
  });
  await new Promise((r) => setTimeout(r, 80));
  expect(errors.some((e) => e instanceof BufferError && e.code === 'IO_ERROR')).toBe(true);
  expect(await buffer.read(150, 250)).toEqual(chunk(100, 150, 2, 0).data.subarray(100, 300));
  // The ring (3 blocks) cannot drop unwritten audio: appending more fails loudly instead of losing it.
  expect(() => {
    for (let i = 0; i < 10; i++) buffer.append(chunk(250 + i * 100, 100, 2, 1e12 + 250 + i * 100));
  }).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
  expect(buffer.durableFrames).toBe(100);
  fault.failing = false;
  await buffer.clear();
});
