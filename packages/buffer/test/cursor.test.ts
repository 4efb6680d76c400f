import { concatBytes } from '@audex/pcm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FrameBuffer } from '../src/index.js';
import { chunk, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T0 = 1_700_000_000_000;
const BPF = 4; // int16 stereo

async function make(memoryMs = 100): Promise<FrameBuffer> {
  return FrameBuffer.create({
    spoolDir: dir,
    sampleFormat: 'int16',
    channels: 2,
    rate: 1000,
    memoryMs,
    blockMs: 50,
  });
}

function feed(buffer: FrameBuffer, from: number, count: number, size = 10): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let f = from; f < from + count; f += size) {
    const c = chunk(f, size, BPF, T0 + f);
    parts.push(c.data);
    buffer.append(c);
  }
  return parts;
}

describe('Cursor', () => {
  test('cursors keep independent positions', async () => {
    const buffer = await make();
    const all = concatBytes(feed(buffer, 0, 500));
    const a = buffer.cursor();
    const b = buffer.cursor({ startFrame: 200 });
    expect(await a.read(100)).toEqual(all.subarray(0, 400));
    expect(await b.read(50)).toEqual(all.subarray(800, 1000));
    expect(await a.read(100)).toEqual(all.subarray(400, 800));
    expect([a.position, b.position]).toEqual([200, 250]);
    await buffer.clear();
  });

  test('a waiting read resolves when enough frames are appended, without polling', async () => {
    const buffer = await make();
    const cursor = buffer.cursor({ startFrame: buffer.frameCount });
    let done = false;
    const pending = cursor.read(100, { minFrames: 30 }).then((d) => {
      done = true;
      return d;
    });
    const parts = feed(buffer, 0, 20);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false); // 20 < min 30
    parts.push(...feed(buffer, 20, 20));
    expect(await pending).toEqual(concatBytes(parts)); // everything available (40), up to maxFrames
    await buffer.clear();
  });

  test('end-of-stream: remaining frames, then null, for live and late cursors', async () => {
    const buffer = await make();
    const all = concatBytes(feed(buffer, 0, 100));
    const cursor = buffer.cursor({ startFrame: 60 });
    const waiting = buffer.cursor({ startFrame: 100 });
    const w = waiting.read(10);
    await buffer.end();
    expect(await w).toBeNull();
    expect(await cursor.read(1000, { minFrames: 1000 })).toEqual(all.subarray(240)); // fewer than minFrames at the end
    expect(await cursor.read(10)).toBeNull();
    expect(await buffer.cursor({ startFrame: 500 }).read(5)).toBeNull();
    await buffer.close();
  });

  test('abort rejects a waiting read with an AbortError and keeps the position', async () => {
    const buffer = await make();
    feed(buffer, 0, 10);
    const cursor = buffer.cursor({ startFrame: 10 });
    const controller = new AbortController();
    const pending = cursor.read(10, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(cursor.position).toBe(10);
    await expect(cursor.read(1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    feed(buffer, 10, 10);
    expect((await cursor.read(10))?.byteLength).toBe(40);
    await buffer.clear();
  });

  test('closing a cursor or clearing the buffer rejects a waiting read', async () => {
    const buffer = await make();
    const a = buffer.cursor();
    const pa = a.read(1);
    a.close();
    await expect(pa).rejects.toMatchObject({ code: 'CLOSED' });
    const b = buffer.cursor();
    const pb = expect(b.read(1)).rejects.toMatchObject({ code: 'CLEARED' });
    await buffer.clear();
    await pb;
  });

  test('a slow reader never blocks the writer and loses nothing (its old data comes back from disk)', async () => {
    const buffer = await make(100);
    const slow = buffer.cursor();
    const fast = buffer.cursor();
    const parts: Uint8Array[] = [];
    const fastGot: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      parts.push(...feed(buffer, i * 50, 50)); // writer never waits
      const d = await fast.read(1000);
      if (d) fastGot.push(d);
    }
    const all = concatBytes(parts);
    expect(concatBytes(fastGot)).toEqual(all);
    // 5000 frames written, 100 ms (150 frames) in RAM: the slow cursor reads the rest from the spool.
    const slowGot: Uint8Array[] = [];
    await buffer.end();
    for (let d = await slow.read(333); d !== null; d = await slow.read(333)) slowGot.push(d);
    expect(concatBytes(slowGot)).toEqual(all);
    await buffer.close();
  });

  test('invalid read sizes are rejected', async () => {
    const buffer = await make();
    const cursor = buffer.cursor();
    await expect(cursor.read(0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cursor.read(10, { minFrames: 11 })).rejects.toThrow(
      /minFrames must be an integer from 1 to maxFrames/,
    );
    expect(() => buffer.cursor({ startFrame: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    await buffer.clear();
  });
});

describe('journal flushing', () => {
  test('the flush timer makes appended audio durable without an explicit flush', async () => {
    const buffer = await FrameBuffer.create({
      spoolDir: dir,
      sampleFormat: 'int16',
      channels: 2,
      rate: 1000,
      flushIntervalMs: 20,
    });
    feed(buffer, 0, 300);
    const deadline = Date.now() + 5000;
    while (buffer.durableFrames < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(buffer.durableFrames).toBe(300);
    await buffer.clear();
  });
});

describe('lifecycle', () => {
  test('clear or close right after end (without awaiting it) leaves no stray writes and no errors', async () => {
    const a = await make();
    feed(a, 0, 300);
    const ending = a.end();
    await a.clear();
    await ending;
    const b = await make();
    feed(b, 0, 300);
    const endingB = b.end();
    await b.close();
    await endingB;
    await expect(b.read(0, 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
