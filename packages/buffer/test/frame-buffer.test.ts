import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BYTES_PER_SAMPLE, concatBytes, SAMPLE_FORMATS, type SampleFormat } from '@audex/pcm';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BufferError, FrameBuffer, readJournals } from '../src/index.js';
import { chunk, patternBytes, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T0 = 1_700_000_000_000;

/** A capture with a drifting sample clock, callback jitter and drop-outs, as a source would deliver it. */
const captureArb = fc.record({
  rate: fc.constantFrom(4000, 8000),
  channels: fc.integer({ min: 1, max: 3 }),
  driftPpm: fc.integer({ min: -500, max: 500 }),
  jitterMs: fc.double({ min: 0, max: 4, noNaN: true }),
  blockMs: fc.constantFrom(10, 50, 250),
  memoryMs: fc.constantFrom(0, 100, 1000),
  chunks: fc.array(
    fc.record({
      frames: fc.integer({ min: 16, max: 600 }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
      lostMs: fc.option(fc.integer({ min: 0, max: 800 }), { freq: 6 }),
    }),
    { minLength: 1, maxLength: 60 },
  ),
  reads: fc.array(
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    {
      maxLength: 12,
    },
  ),
});

describe('FrameBuffer reads against a model', () => {
  test('whole and random range reads equal the captured data with silence at the reported gaps; gaps and times match the true clock', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(captureArb, async (cap) => {
        const bpf = 2 * cap.channels;
        const buffer = await FrameBuffer.create({
          spoolDir: dir,
          id: `run-${run++}`,
          sampleFormat: 'int16',
          channels: cap.channels,
          rate: cap.rate,
          blockMs: cap.blockMs,
          memoryMs: cap.memoryMs,
        });
        const msPerFrame = (1000 / cap.rate) * (1 + cap.driftPpm * 1e-6);
        let trueFrame = 0;
        const truth: { trueFrame: number; frames: number; data: Uint8Array; lost: number }[] = [];
        for (const [i, c] of cap.chunks.entries()) {
          const chunkMs = (c.frames * 1000) / cap.rate;
          // Only drop-outs clearly above the detection threshold (and the jitter) are generated.
          const lostMs =
            c.lostMs === null || i === 0 ? 0 : Math.max(20, chunkMs / 2) + 2 * cap.jitterMs + 5 + c.lostMs;
          const lost = Math.round(lostMs / msPerFrame);
          trueFrame += lost;
          const data = patternBytes(trueFrame, c.frames, bpf);
          buffer.append({
            data,
            frames: c.frames,
            time: T0 + trueFrame * msPerFrame + c.jitter * cap.jitterMs,
          });
          truth.push({ trueFrame, frames: c.frames, data, lost });
          trueFrame += c.frames;
        }
        // Gaps: one per drop-out, each about as long as what was lost.
        const dropouts = truth.filter((t) => t.lost > 0);
        expect(buffer.gaps).toHaveLength(dropouts.length);
        const tolerance = Math.ceil(((2 * cap.jitterMs + 1) * cap.rate) / 1000) + 2;
        for (const [i, g] of buffer.gaps.entries()) {
          expect(Math.abs(g.frames - dropouts[i]!.lost)).toBeLessThanOrEqual(tolerance);
        }
        // The model: chunk data in order, zeros where the buffer reports gaps.
        const parts: Uint8Array[] = [];
        let gi = 0;
        let at = 0;
        const chunkStart: number[] = [];
        for (const t of truth) {
          const g = buffer.gaps[gi];
          if (t.lost > 0 && g !== undefined && g.startFrame === at) {
            parts.push(new Uint8Array(g.frames * bpf));
            at += g.frames;
            gi++;
          }
          chunkStart.push(at);
          parts.push(t.data);
          at += t.frames;
        }
        const model = concatBytes(parts);
        expect(buffer.frameCount).toBe(at);
        expect(buffer.capturedFrames).toBe(truth.reduce((n, t) => n + t.frames, 0));
        expect(await buffer.read(0, at)).toEqual(model);
        for (const [x, y] of cap.reads) {
          const a = Math.floor(Math.min(x, y) * at);
          const b = Math.floor(Math.max(x, y) * at);
          expect(await buffer.read(a, b)).toEqual(model.subarray(a * bpf, b * bpf));
          // Time ranges: exactly the frames whose time falls in [start, end).
          const s = buffer.timeOf(a);
          const e = buffer.timeOf(b);
          const r = await buffer.readTimeRange(s, e);
          expect(r.startFrame).toBe(a);
          expect(r.endFrame).toBe(b);
          expect(r.data).toEqual(model.subarray(a * bpf, b * bpf));
        }
        // Each chunk's first frame sits at its true capture time, within jitter and rounding.
        truth.forEach((t, i) => {
          const err = Math.abs(buffer.timeOf(chunkStart[i]!) - (T0 + t.trueFrame * msPerFrame));
          expect(err).toBeLessThanOrEqual(2 * cap.jitterMs + 2 * msPerFrame + 1);
        });
        await buffer.clear();
      }),
      { numRuns: 40 },
    );
  });
});

describe('FrameBuffer formats', () => {
  test.each(SAMPLE_FORMATS.flatMap((format) => [1, 2, 6].map((channels) => [format, channels] as const)))(
    'stores %s with %i channel(s) byte for byte, in RAM, on disk and after recovery',
    async (format, channels) => {
      const bpf = BYTES_PER_SAMPLE[format] * channels;
      const rate = 8000;
      const buffer = await FrameBuffer.create({
        spoolDir: dir,
        sampleFormat: format,
        channels,
        rate,
        memoryMs: 200,
        blockMs: 100,
      });
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 30; i++) {
        const c = chunk(i * 256, 256, bpf, T0 + (i * 256 * 1000) / rate);
        parts.push(c.data);
        buffer.append(c);
      }
      const all = concatBytes(parts);
      expect(await buffer.read(0, buffer.frameCount)).toEqual(all); // spans disk and RAM
      expect(await buffer.read(7000, 7680)).toEqual(all.subarray(7000 * bpf, 7680 * bpf)); // RAM only
      await buffer.end();
      const [rec] = await readJournals(dir);
      expect(rec?.buffer.sampleFormat).toBe(format);
      expect(rec?.buffer.channels).toBe(channels);
      expect(await rec!.buffer.read(0, rec!.buffer.frameCount)).toEqual(all);
      expect(await readFile(join(dir, `${buffer.id}.pcm`))).toEqual(Buffer.from(all));
      await buffer.close();
      await rec!.buffer.close();
    },
  );

  test('keeps meta, id and JSON types through recovery', async () => {
    const meta = { key: 'audex/a.wav', n: 3, ok: true, none: null, list: [1, 'x'], nested: { rate: 16000 } };
    const buffer = await FrameBuffer.create({
      spoolDir: dir,
      id: 'rec-1',
      sampleFormat: 'int16',
      channels: 1,
      rate: 16000,
      meta,
    });
    buffer.append(chunk(0, 160, 2, T0));
    await buffer.end();
    const [rec] = await readJournals(dir);
    expect(rec?.id).toBe('rec-1');
    expect(rec?.meta).toEqual(meta);
    expect(rec?.clean).toBe(true);
    expect(buffer.meta).toEqual(meta);
    await buffer.close();
    await rec!.remove();
    expect(await readJournals(dir)).toEqual([]);
  });
});

describe('FrameBuffer bad input', () => {
  async function filled(): Promise<FrameBuffer> {
    const buffer = await FrameBuffer.create({
      spoolDir: dir,
      sampleFormat: 'int16',
      channels: 2,
      rate: 1000,
      memoryMs: 100,
      blockMs: 50,
    });
    for (let i = 0; i < 10; i++) buffer.append(chunk(i * 100, 100, 4, T0 + i * 100));
    return buffer;
  }

  test('rejects invalid options naming the value and what is allowed, creating nothing', async () => {
    const base = { spoolDir: dir, sampleFormat: 'int16', channels: 1, rate: 16000 } as const;
    await expect(FrameBuffer.create({ ...base, sampleFormat: 'int12' as SampleFormat })).rejects.toThrow(
      /"int12".*int8, int16, int24, int32, float32/,
    );
    await expect(FrameBuffer.create({ ...base, channels: 0 })).rejects.toThrow(
      /channels must be an integer from 1 to 64, got 0/,
    );
    await expect(FrameBuffer.create({ ...base, rate: 1.5 })).rejects.toThrow(/rate/);
    await expect(FrameBuffer.create({ ...base, flushIntervalMs: 5000 })).rejects.toThrow(
      /flushIntervalMs must be a number from 10 to 1000/,
    );
    await expect(FrameBuffer.create({ ...base, id: '../x' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(
      FrameBuffer.create({ ...base, meta: { big: 1n } as unknown as Record<string, unknown> }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(await readJournals(dir)).toEqual([]);
  });

  test('refuses a second buffer with the same id in the same spool directory', async () => {
    const a = await FrameBuffer.create({
      spoolDir: dir,
      id: 'same',
      sampleFormat: 'int16',
      channels: 1,
      rate: 8000,
    });
    await expect(
      FrameBuffer.create({ spoolDir: dir, id: 'same', sampleFormat: 'int16', channels: 1, rate: 8000 }),
    ).rejects.toMatchObject({ code: 'IO_ERROR' });
    await a.clear();
  });

  test('rejects malformed chunks without appending anything', async () => {
    const buffer = await filled();
    expect(() => buffer.append({ data: new Uint8Array(6), frames: 2, time: T0 + 1000 })).toThrow(
      /6 bytes but 2 frames/,
    );
    expect(() => buffer.append({ data: new Uint8Array(8), frames: 2, time: Number.NaN })).toThrow(
      BufferError,
    );
    expect(() => buffer.append({ data: new Uint8Array(8), frames: 2.5, time: T0 })).toThrow(/integer/);
    expect(() => buffer.append(null as never)).toThrow(expect.objectContaining({ code: 'INVALID_CHUNK' }));
    expect(buffer.frameCount).toBe(1000);
    await buffer.clear();
  });

  test('reversed and out-of-range frame and time ranges fail clearly', async () => {
    const buffer = await filled();
    await expect(buffer.read(500, 100)).rejects.toMatchObject({
      code: 'REVERSED_RANGE',
      startFrame: 500,
      endFrame: 100,
    });
    await expect(buffer.read(900, 1001)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(buffer.read(-1, 10)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(buffer.read(0.5, 10)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(buffer.readTimeRange(T0 + 500, T0 + 100)).rejects.toMatchObject({ code: 'REVERSED_RANGE' });
    await expect(buffer.readTimeRange(T0 - 10, T0 + 100)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(buffer.readTimeRange(T0 + 900, T0 + 1001)).rejects.toThrow(/outside the recording/);
    await expect(buffer.readTimeRange(T0 + 2000, T0 + 3000, { clamp: true })).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
    });
    const clamped = await buffer.readTimeRange(T0 - 50, T0 + 5000, { clamp: true });
    expect([clamped.startFrame, clamped.endFrame]).toEqual([0, 1000]);
    expect((await buffer.readTimeRange(T0 + 100, T0 + 100)).data.byteLength).toBe(0);
    expect(await buffer.read(1000, 1000)).toEqual(new Uint8Array(0));
    await buffer.clear();
  });

  test('an empty buffer has no times and reads nothing', async () => {
    const buffer = await FrameBuffer.create({ spoolDir: dir, sampleFormat: 'int8', channels: 1, rate: 8000 });
    expect(buffer.startTime).toBeNull();
    expect(buffer.endTime).toBeNull();
    expect(() => buffer.timeOf(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    await expect(buffer.readTimeRange(0, 1)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await buffer.clear();
  });

  test('reads, appends and cursors after clear fail with CLEARED and the files are gone', async () => {
    const buffer = await filled();
    const pending = expect(buffer.read(0, 1000)).rejects.toMatchObject({ code: 'CLEARED' });
    await buffer.clear();
    await pending;
    await expect(buffer.read(0, 10)).rejects.toMatchObject({ code: 'CLEARED' });
    expect(() => buffer.append(chunk(0, 1, 4, T0))).toThrow(expect.objectContaining({ code: 'CLEARED' }));
    expect(() => buffer.cursor()).toThrow(expect.objectContaining({ code: 'CLEARED' }));
    expect(await readJournals(dir)).toEqual([]);
  });

  test('appends after end fail with ENDED; reads still work', async () => {
    const buffer = await filled();
    await buffer.end();
    expect(() => buffer.append(chunk(1000, 10, 4, T0 + 1000))).toThrow(
      expect.objectContaining({ code: 'ENDED' }),
    );
    expect((await buffer.read(0, 1000)).byteLength).toBe(4000);
    await buffer.close();
    await expect(buffer.read(0, 10)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  test('stream yields the requested range in bounded chunks', async () => {
    const buffer = await filled();
    const all = await buffer.read(0, 1000);
    const got: Uint8Array[] = [];
    for await (const part of buffer.stream({ startFrame: 100, endFrame: 950, chunkFrames: 300 }))
      got.push(part);
    expect(got.map((p) => p.byteLength / 4)).toEqual([300, 300, 250]);
    expect(concatBytes(got)).toEqual(all.subarray(400, 3800));
    await expect(async () => {
      for await (const _ of buffer.stream({ startFrame: 10, endFrame: 5 })) break;
    }).rejects.toMatchObject({ code: 'REVERSED_RANGE' });
    await buffer.end();
    await expect(async () => {
      for await (const _ of buffer.stream({ endFrame: 1001 })) break;
    }).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await buffer.clear();
  });
});

describe('FrameBuffer gaps while the input is away', () => {
  test('appendGap fills silence up to a time; the pads and the late chunk after them are one gap, journaled as one', async () => {
    const rate = 1000;
    const buffer = await FrameBuffer.create({
      spoolDir: dir,
      id: 'away',
      sampleFormat: 'int16',
      channels: 1,
      rate,
    });
    expect(buffer.appendGap(T0 + 500)).toBe(0); // no chunk yet: no clock to extend
    buffer.append(chunk(0, 100, 2, T0));
    expect(buffer.appendGap(T0 + 50)).toBe(0); // not past the end
    await buffer.flush();
    expect(buffer.appendGap(T0 + 250.7)).toBe(150); // whole frames only
    await buffer.flush(); // the gap is committed, then grows: the journal gets the extension
    expect(buffer.appendGap(T0 + 400)).toBe(150);
    expect(buffer.frameCount).toBe(400);
    expect(buffer.capturedFrames).toBe(100);
    buffer.append(chunk(100, 100, 2, T0 + 600)); // the device is back 200 ms later
    expect(buffer.gaps).toEqual([{ startFrame: 100, frames: 500, startTime: T0 + 100, durationMs: 500 }]);
    expect(buffer.timeOf(600)).toBe(T0 + 600);
    buffer.append(chunk(200, 100, 2, T0 + 700));
    const expected = concatBytes([patternBytes(0, 100, 2), new Uint8Array(1000), patternBytes(100, 200, 2)]);
    expect(Buffer.from(await buffer.read(0, 800)).equals(Buffer.from(expected))).toBe(true);
    await buffer.end();
    const [rec] = await readJournals(dir);
    expect(rec!.buffer.gaps).toEqual(buffer.gaps);
    expect(rec!.buffer.frameCount).toBe(800);
    expect(Buffer.from(await rec!.buffer.read(0, 800)).equals(Buffer.from(expected))).toBe(true);
    await rec!.buffer.close();
    await buffer.close();
    expect(() => buffer.appendGap(T0 + 900)).toThrow(BufferError);
  });
});
