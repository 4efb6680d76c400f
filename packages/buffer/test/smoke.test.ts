import { afterEach, beforeEach, expect, test } from 'vitest';
import { FrameBuffer, recoverJournals } from '../src/index.js';
import { chunk, concat, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

test('smoke', async () => {
  const b = await FrameBuffer.create({
    spoolDir: dir,
    format: 'int16',
    channels: 2,
    rate: 1000,
    memoryMs: 2000,
  });
  const parts = [];
  for (let i = 0; i < 100; i++) {
    const c = chunk(i * 100, 100, 4, 1_000_000 + i * 100);
    parts.push(c.data);
    b.append(c);
  }
  expect(b.frameCount).toBe(10000);
  const all = concat(parts);
  expect(await b.read(0, 10000)).toEqual(all);
  expect(await b.read(1234, 5678)).toEqual(all.subarray(1234 * 4, 5678 * 4));
  await b.end();
  const r = await recoverJournals(dir);
  expect(r).toHaveLength(1);
  expect(r[0]!.errors).toEqual([]);
  expect(await r[0]!.buffer.read(0, 10000)).toEqual(all);
  await b.close();
  await r[0]!.remove();
});
