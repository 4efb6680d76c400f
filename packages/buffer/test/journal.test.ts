import { spawn } from 'node:child_process';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes } from '@audex/pcm';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type BufferError, FrameBuffer, readJournals, type UnreadableJournal } from '../src/index.js';
import { chunk, patternBytes, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T0 = 1_700_000_000_000;
const BPF = 4;
const fixture = fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url));

/** Runs the writer child, SIGKILLs it `delayMs` after its first durable flush; returns the last durable count it reported. */
function runAndKill(id: string, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@audex/source', '--import', 'tsx', fixture, dir, id],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let durable = -1;
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) durable = Number(line.split(' ')[1]);
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${signal ?? _code})`));
      else resolve(durable);
    });
  });
}

/** A finished recording of `chunks` chunks of 100 frames, flushed after each chunk (one commit each). */
async function recording(id: string, chunks: number): Promise<Uint8Array> {
  const buffer = await FrameBuffer.create({
    spoolDir: dir,
    id,
    sampleFormat: 'int16',
    channels: 2,
    rate: 1000,
    memoryMs: 100,
    blockMs: 50,
  });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chunks; i++) {
    const c = chunk(i * 100, 100, BPF, T0 + i * 100);
    parts.push(c.data);
    buffer.append(c);
    await buffer.flush();
  }
  await buffer.close();
  return concatBytes(parts);
}

function damagedRanges(errors: readonly BufferError[]): [number, number][] {
  return errors.filter((e) => e.startFrame !== undefined).map((e) => [e.startFrame!, e.endFrame!]);
}

describe('crash recovery', () => {
  test('after SIGKILL at a random moment, recovery returns everything up to the last flush, byte for byte', async () => {
    for (const [i, delay] of [15, 120, 260].map((d) => d + Math.floor(Math.random() * 60)).entries()) {
      const id = `crash-${i}`;
      const durable = await runAndKill(id, delay);
      expect(durable).toBeGreaterThan(0);
      const recovered = await readJournals(dir);
      const rec = recovered.find((r) => r.id === id)!;
      expect(rec.errors).toEqual([]);
      expect(rec.clean).toBe(false);
      expect(rec.meta).toEqual({ crash: true });
      const b = rec.buffer;
      expect(b.ended).toBe(true);
      expect(b.frameCount).toBeGreaterThanOrEqual(durable);
      expect(b.capturedFrames).toBe(b.frameCount);
      expect(b.gaps).toEqual([]);
      expect(b.startTime).toBe(1e12);
      expect(Math.abs(b.timeOf(b.frameCount) - (1e12 + (b.frameCount * 1000) / 8000))).toBeLessThan(1e-3);
      expect(await b.read(0, b.frameCount)).toEqual(patternBytes(0, b.frameCount, BPF, 7));
      for (const r of recovered) await r.buffer.close();
    }
  }, 60_000);

  test('keeps gaps, overflow count and timeline anchors of an unfinished recording', async () => {
    const buffer = await FrameBuffer.create({
      spoolDir: dir,
      id: 'g',
      sampleFormat: 'int16',
      channels: 2,
      rate: 1000,
    });
    buffer.append(chunk(0, 500, BPF, T0));
    buffer.append({ ...chunk(500, 600, BPF, T0 + 800), overflow: true }); // 300 ms lost
    buffer.append(chunk(1100, 1500, BPF, T0 + 1402));
    await buffer.flush();
    const [rec] = await readJournals(dir);
    expect(rec!.buffer.gaps).toEqual(buffer.gaps);
    expect(rec!.buffer.overflowCount).toBe(1);
    expect(rec!.buffer.frameCount).toBe(buffer.frameCount);
    for (const f of [0, 499, 500, 801, 1400, 2000, 2899])
      expect(rec!.buffer.timeOf(f)).toBe(buffer.timeOf(f));
    expect(await rec!.buffer.read(0, rec!.buffer.frameCount)).toEqual(
      await buffer.read(0, buffer.frameCount),
    );
    await rec!.buffer.close();
    await buffer.clear();
  });
});

describe('damaged journals', () => {
  test('random bytes flipped in the data file: the damaged frame ranges are reported and silenced, the rest recovered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 40 * 100 * BPF - 1 }), { minLength: 1, maxLength: 5 }),
        async (offsets) => {
          const id = `flip-${offsets.join('-')}`;
          const all = await recording(id, 40);
          const file = join(dir, `${id}.pcm`);
          const bytes = await readFile(file);
          for (const o of offsets) bytes[o] = bytes[o]! ^ 0x5a;
          await writeFile(file, bytes);
          const rec = (await readJournals(dir)).find((r) => r.id === id)!;
          expect(rec.errors.every((e) => e.code === 'CORRUPT_JOURNAL')).toBe(true);
          const ranges = damagedRanges(rec.errors);
          // Every flipped byte is inside a reported range; each range is one commit (100 frames).
          for (const o of offsets) expect(ranges.some(([a, b]) => o >= a * BPF && o < b * BPF)).toBe(true);
          expect(ranges.length).toBe(new Set(offsets.map((o) => Math.floor(o / (100 * BPF)))).size);
          const got = await rec.buffer.read(0, rec.buffer.frameCount);
          expect(rec.buffer.frameCount).toBe(4000);
          for (let c = 0; c < 40; c++) {
            const span = [c * 100 * BPF, (c + 1) * 100 * BPF] as const;
            const hit = ranges.some(([a]) => a === c * 100);
            expect(got.subarray(...span)).toEqual(hit ? new Uint8Array(100 * BPF) : all.subarray(...span));
          }
          expect(rec.errors[0]!.message).toMatch(
            /^\[audex\/buffer\] frames \d+\.\.\d+ of flip-.* failed their checksum/,
          );
          await rec.remove();
        },
      ),
      { numRuns: 8 },
    );
  });

  test('a journal cut short recovers every complete commit and reports the torn tail', async () => {
    const all = await recording('cut', 30);
    const path = join(dir, 'cut.journal');
    const size = (await stat(path)).size;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: size - 1 }), async (cutAt) => {
        const original = await readFile(path);
        await truncate(path, cutAt);
        const [rec] = await readJournals(dir);
        expect(rec!.errors.length).toBeGreaterThanOrEqual(cutAt < size ? 1 : 0);
        expect(rec!.errors.some((e) => /cut short or torn/.test(e.message))).toBe(true);
        const n = rec!.buffer.frameCount;
        expect(n % 100).toBe(0);
        expect(await rec!.buffer.read(0, n)).toEqual(all.subarray(0, n * BPF));
        await rec!.buffer.close();
        await writeFile(path, original);
      }),
      { numRuns: 10 },
    );
  });

  test('random bytes flipped in the journal: damaged records are reported, the audio is kept and the timeline still spans it', async () => {
    const all = await recording('jflip', 30);
    const path = join(dir, 'jflip.journal');
    const original = await readFile(path);
    const headerEnd = original.indexOf('"createdAt"') + 40;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: headerEnd, max: original.byteLength - 1 }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (offsets) => {
          const bytes = Buffer.from(original);
          for (const o of offsets) bytes[o] = bytes[o]! ^ 0xff;
          await writeFile(path, bytes);
          const [rec] = await readJournals(dir);
          expect(rec!.errors.length).toBeGreaterThanOrEqual(1);
          expect(
            rec!.errors.every((e) => e.code === 'CORRUPT_JOURNAL' && e.message.startsWith('[audex/buffer] ')),
          ).toBe(true);
          const n = rec!.buffer.frameCount;
          expect(await rec!.buffer.read(0, n)).toEqual(all.subarray(0, n * BPF));
          expect(rec!.buffer.startTime).toBe(T0);
          await rec!.buffer.close();
        },
      ),
      { numRuns: 30 },
    );
    await writeFile(path, original);
  });

  test('losing every record that holds a timeline anchor still recovers the exact start time', async () => {
    const all = await recording('anchors', 30);
    const path = join(dir, 'anchors.journal');
    const bytes = await readFile(path);
    let hits = 0;
    for (let at = bytes.indexOf('"anchors":[['); at >= 0; at = bytes.indexOf('"anchors":[[', at + 1)) {
      bytes[at + 2] = bytes[at + 2]! ^ 0xff;
      hits++;
    }
    expect(hits).toBe(3); // frames 0, 1000 and 2000: one anchor per second of audio
    await writeFile(path, bytes);
    const [rec] = await readJournals(dir);
    expect(rec!.errors.filter((e) => /estimated/.test(e.message))).toEqual([]);
    expect(rec!.buffer.startTime).toBe(T0);
    expect(await rec!.buffer.read(0, 3000)).toEqual(all);
    await rec!.buffer.close();
  });

  test('a data file cut short: the missing frames become silence and are reported', async () => {
    const all = await recording('short', 20);
    await truncate(join(dir, 'short.pcm'), 1234 * BPF);
    const [rec] = await readJournals(dir);
    expect(rec!.buffer.frameCount).toBe(2000);
    expect(damagedRanges(rec!.errors)).toEqual([
      [1200, 1300],
      ...Array.from({ length: 7 }, (_, i) => [1300 + i * 100, 1400 + i * 100]),
    ]);
    const got = await rec!.buffer.read(0, 2000);
    expect(got.subarray(0, 1200 * BPF)).toEqual(all.subarray(0, 1200 * BPF));
    expect(got.subarray(1200 * BPF).every((b) => b === 0)).toBe(true);
    await rec!.buffer.close();
  });

  test('a journal whose header is unreadable is reported as unrecoverable, others still recover', async () => {
    await recording('good', 3);
    await recording('bad', 3);
    const path = join(dir, 'bad.journal');
    const bytes = await readFile(path);
    bytes[20] = bytes[20]! ^ 0xff;
    await writeFile(path, bytes);
    const failed: UnreadableJournal[] = [];
    const recovered = await readJournals(dir, { onUnreadable: (j) => failed.push(j) });
    expect(recovered.map((r) => r.id)).toEqual(['good']);
    expect(failed.map((f) => [f.id, f.error.code])).toEqual([['bad', 'CORRUPT_JOURNAL']]);
    expect(failed[0]!.error.message).toMatch(/no readable header record/);
    await failed[0]!.remove();
    await recovered[0]!.buffer.close();
    expect((await readJournals(dir)).map((r) => r.id)).toEqual(['good']);
  });

  test('random garbage as a journal is unrecoverable, never a crash', async () => {
    await writeFile(
      join(dir, 'noise.journal'),
      Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 7919) & 0xff)),
    );
    await writeFile(join(dir, 'noise.pcm'), new Uint8Array(10));
    const failed: string[] = [];
    expect(await readJournals(dir, { onUnreadable: (j) => failed.push(j.error.code) })).toEqual([]);
    expect(failed).toEqual(['CORRUPT_JOURNAL']);
    expect(await readJournals(join(dir, 'missing'))).toEqual([]);
  });
});

describe('journal under interleaved appends, flushes and memory pressure', () => {
  test('any interleaving recovers byte for byte with no damage reported', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('append' as const), frames: fc.integer({ min: 1, max: 700 }) }),
            fc.record({ op: fc.constant('flush' as const), wait: fc.boolean() }),
            fc.record({ op: fc.constant('yield' as const) }),
          ),
          { minLength: 1, maxLength: 60 },
        ),
        fc.constantFrom(0, 100, 400),
        async (ops, memoryMs) => {
          const id = `mix-${run++}`;
          const buffer = await FrameBuffer.create({
            spoolDir: dir,
            id,
            sampleFormat: 'int24',
            channels: 3,
            rate: 2000,
            memoryMs,
            blockMs: 50,
            flushIntervalMs: 10,
          });
          const bpf = 9;
          const pending: Promise<void>[] = [];
          let frame = 0;
          for (const o of ops) {
            if (o.op === 'append') {
              buffer.append(chunk(frame, o.frames, bpf, T0 + frame / 2, 3));
              frame += o.frames;
            } else if (o.op === 'flush') {
              const p = buffer.flush();
              if (o.wait) await p;
              else pending.push(p);
            } else {
              await new Promise((r) => setImmediate(r));
            }
          }
          await Promise.all(pending);
          await buffer.flush();
          await buffer.close();
          const rec = (await readJournals(dir)).find((r) => r.id === id)!;
          expect(rec.errors).toEqual([]);
          expect(rec.clean).toBe(true);
          expect(rec.buffer.frameCount).toBe(frame);
          expect(await rec.buffer.read(0, frame)).toEqual(patternBytes(0, frame, bpf, 3));
          await rec.remove();
        },
      ),
      { numRuns: 20 },
    );
  });
});
