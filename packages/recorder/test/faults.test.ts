import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AudioSource } from '@audex/capture';
import { type CapturedChunk, concatBytes } from '@audex/pcm';
import { LocalStore, MemoryStore, type Store, StoreError } from '@audex/store';
import { describe, expect, test } from 'vitest';
import { AudioRecorder, type OverflowEvent, RecorderError, type RecorderWarning } from '../src/index.js';
import { collect, expectedPcm, rigsPerTest, tempDir, waitForFrames, wavData } from './helpers.js';

const rigs = rigsPerTest();

const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };

/** A MemoryStore whose uploads fail while `down` is true (the failure is injected, the store is real). */
class FlakyStore extends MemoryStore {
  down = false;
  attempts = 0;
  override async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: Record<string, unknown>,
  ): Promise<string> {
    this.attempts++;
    if (this.down) {
      // Consume part of the stream first, as a real upload that dies midway would.
      if (!(data instanceof Uint8Array)) for await (const _ of data) break;
      throw new StoreError('IO_ERROR', 'connection refused (injected)', { key });
    }
    return super.upload(data, key, metadata);
  }
}

function spoolRecordings(spoolDir: string): string[] {
  try {
    return readdirSync(join(spoolDir, 'recordings'));
  } catch {
    return [];
  }
}

describe('store failures lose nothing', () => {
  test('stop() retries, then rejects clearly; the recording stays in the spool until recover() saves it', async () => {
    const store = new FlakyStore();
    const rig = rigs.make({ config, store, source: { durationMs: 1000 }, recorder: { uploadRetries: 2 } });
    const { recorder } = rig;
    const warnings: RecorderWarning[] = [];
    recorder.on('warning', (w) => warnings.push(w));
    await recorder.init();
    const key = await recorder.start();
    await waitForFrames(recorder, 16_000);
    store.down = true;
    const error = await recorder.stop().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecorderError);
    expect((error as RecorderError).code).toBe('UPLOAD_FAILED');
    expect((error as RecorderError).key).toBe(key);
    expect((error as Error).message).toMatch(/after 3 attempt\(s\).*stays in the spool/);
    expect(store.attempts).toBe(3);
    expect(warnings.filter((w) => w.code === 'UPLOAD_RETRY')).toHaveLength(2);
    expect(await store.exists(key)).toBe(false);
    // Usable: the audio is still there to cut, and a new recording can start.
    expect(recorder.status).toBe('initialized');
    expect((await recorder.segment(0, Date.now() + 60_000)).byteLength).toBe(32_000);
    expect(spoolRecordings(rig.spoolDir)).toHaveLength(1);

    store.down = false;
    const recovered = await recorder.recover();
    expect(recovered.map((r) => r.key)).toEqual([key]);
    const { data } = wavData(await store.download(key));
    expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, 16_000, config)))).toBe(true);
    expect(await store.getMetadata(key)).toMatchObject({ recovered: true, frame_count: 16_000 });
  });

  test('a recording whose upload failed is saved by the next recorder’s init()', async () => {
    const store = new FlakyStore();
    const rig = rigs.make({ config, store, source: { durationMs: 500 }, recorder: { uploadRetries: 0 } });
    const first = rig.recorder;
    await first.init();
    const key = await first.start('lost');
    await waitForFrames(first, 8000);
    store.down = true;
    await expect(first.close()).rejects.toThrow(/UPLOAD_FAILED|did not accept/);
    expect(first.status).toBe('closed');
    store.down = false;

    const second = new AudioRecorder(store, config, { source: rig.source, spoolDir: rig.spoolDir });
    const events: string[] = [];
    second.on('recovered', (r) => events.push(r.key));
    const recovered = await second.init();
    expect(recovered.map((r) => r.key)).toEqual([key]);
    expect(events).toEqual([key]);
    expect(recovered[0]!.frameCount).toBe(8000);
    expect(wavData(await store.download(key)).data.byteLength).toBe(16_000);
    expect(spoolRecordings(rig.spoolDir)).toEqual([]);
    await second.close();
  });

  test('a spooled recording is never uploaded twice: stored recordings are cleaned, not re-sent', async () => {
    const store = new FlakyStore();
    const rig = rigs.make({ config, store, source: { durationMs: 200 } });
    await rig.recorder.init();
    await rig.recorder.start();
    await waitForFrames(rig.recorder, 3200);
    await rig.recorder.stop({ frames: false });
    const uploads = store.attempts;
    // A second recorder on the same spool while the first still holds its (stored) recording.
    const second = new AudioRecorder(store, config, { source: rig.source, spoolDir: rig.spoolDir });
    expect(await second.init()).toEqual([]);
    await rig.recorder.close();
    expect(await second.recover()).toEqual([]);
    expect(store.attempts).toBe(uploads);
    expect(spoolRecordings(rig.spoolDir)).toEqual([]);
    await second.close();
  });
});

describe('the spool lock decides what recovery may take', () => {
  test('a lock naming a live process is left alone (this one or another); the same pid from before a reboot is recovered', async () => {
    const store = new FlakyStore();
    const rig = rigs.make({ config, store, source: { durationMs: 200 }, recorder: { uploadRetries: 0 } });
    const first = rig.recorder;
    await first.init();
    const key = await first.start('locked');
    await waitForFrames(first, 3200);
    store.down = true;
    await expect(first.close()).rejects.toThrow(/did not accept/);
    store.down = false;
    // close() released the recording: its directory holds the journal and no lock.
    const [id] = spoolRecordings(rig.spoolDir);
    const dir = join(rig.spoolDir, 'recordings', id!);
    expect(readdirSync(dir).sort()).toEqual([`${id}.journal`, `${id}.pcm`]);
    const journal = readFileSync(join(dir, `${id}.journal`), 'utf8');
    expect(journal).toContain(JSON.stringify(key)); // the key lives in the journal header, once

    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const lock = (pid: number, host: string, boot: string) =>
      writeFileSync(join(dir, 'lock.json'), JSON.stringify({ pid, host, boot }));
    const recoverWith = async (): Promise<string[]> => {
      const recorder = new AudioRecorder(store, config, { source: rig.source, spoolDir: rig.spoolDir });
      try {
        return (await recorder.init()).map((r) => r.key);
      } finally {
        await recorder.close();
      }
    };
    lock(process.pid, hostname(), bootId); // this process, this boot: a live recorder holds it
    expect(await recoverWith()).toEqual([]);
    lock(process.ppid, hostname(), bootId); // another live process
    expect(await recoverWith()).toEqual([]);
    lock(process.pid, hostname(), 'an-earlier-boot'); // the same pid before a reboot: dead
    // A claim a crash interrupted (staging name, lock only) is cleaned up with it.
    const staging = join(rig.spoolDir, 'recordings', '.interrupted.claiming');
    mkdirSync(staging);
    writeFileSync(
      join(staging, 'lock.json'),
      JSON.stringify({ pid: process.pid, host: hostname(), boot: 'old' }),
    );
    expect(await recoverWith()).toEqual([key]);
    expect(spoolRecordings(rig.spoolDir)).toEqual([]);
    expect(wavData(await store.download(key)).data.byteLength).toBe(3200 * 2);
  });
});

describe('input faults', () => {
  test('a device vanishing mid-recording emits an error, ends streams, and stop() still saves the audio', async () => {
    const rig = rigs.make({ config, source: { failAfterMs: 700, speed: 4 } });
    const { recorder, store } = rig;
    const errors: RecorderError[] = [];
    recorder.on('error', (e) => errors.push(e));
    await recorder.init();
    const key = await recorder.start();
    const streamed = collect(recorder.stream({ chunkSize: 1000 }));
    const got = concatBytes(await streamed); // ends by itself when the device goes
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('SOURCE_FAILED');
    expect(errors[0]!.message).toMatch(/vanished/);
    expect(recorder.isRecording).toBe(false);
    expect(recorder.status).toBe('recording');
    const saved = await recorder.stop();
    expect(saved.durationMs).toBe(700);
    expect(Buffer.from(got).equals(Buffer.from(saved.frames))).toBe(true);
    expect((await store.getMetadata(key)).frame_count).toBe(11_200);
  });

  test('lost input is counted, emitted and kept on the timeline as silence of the right length', async () => {
    const rig = rigs.make({
      config,
      source: {
        durationMs: 1000,
        dropAfterFrames: [4096, 8192],
        dropFrames: 2048,
        startTime: Date.UTC(2026, 0, 1),
      },
    });
    const { recorder, store } = rig;
    const overflows: OverflowEvent[] = [];
    recorder.on('overflow', (o) => overflows.push(o));
    await recorder.init();
    const key = await recorder.start();
    await waitForFrames(recorder, 16_000);
    const saved = await recorder.stop();
    expect(overflows.map((o) => [o.reason, o.gapFrames])).toEqual([
      ['device', 2048],
      ['device', 2048],
    ]);
    const metadata = await store.getMetadata(key);
    expect(metadata).toMatchObject({
      overflow_count: 2,
      gap_count: 2,
      gap_frames: 4096,
      captured_frames: 16_000 - 4096,
      frame_count: 16_000,
      gaps: [
        { position: 4096, length: 2048, start_ms: 256, duration_ms: 128 },
        { position: 8192, length: 2048, start_ms: 512, duration_ms: 128 },
      ],
    });
    // The gap is silence; the audio after it sits at its true time.
    const samples = new Int16Array(saved.frames.buffer, saved.frames.byteOffset, saved.frames.byteLength / 2);
    expect(samples.subarray(4096, 6144).every((s) => s === 0)).toBe(true);
    const after = expectedPcm(6144, 8192, config);
    expect(Buffer.from(saved.frames.subarray(6144 * 2, 8192 * 2)).equals(Buffer.from(after))).toBe(true);
  });
});

describe('timing gaps and logging', () => {
  test('a chunk arriving later than its samples allow is a gap: silence on the timeline, an overflow event', async () => {
    const T = Date.UTC(2026, 0, 1);
    let deliver: ((chunk: CapturedChunk) => void) | undefined;
    const source: AudioSource = {
      listInputDevices: async () => [],
      async start(_config, onChunk) {
        deliver = onChunk;
      },
      async stop() {},
    };
    const logs: string[] = [];
    const logger = {
      debug: () => {},
      info: (_o: object, msg?: string) => logs.push(`info ${msg}`),
      warn: (_o: object, msg?: string) => logs.push(`warn ${msg}`),
      error: (_o: object, msg?: string) => logs.push(`error ${msg}`),
    };
    const spool = tempDir();
    rigs.defer(spool.remove);
    const store = new MemoryStore();
    const recorder = new AudioRecorder(
      store,
      { rate: 1000, chunk: 100 },
      { source, spoolDir: spool.dir, logger },
    );
    const overflows: OverflowEvent[] = [];
    recorder.on('overflow', (o) => overflows.push(o));
    await recorder.init();
    const key = await recorder.start();
    const data = new Uint8Array(200).fill(1);
    deliver!({ data, frames: 100, time: T });
    deliver!({ data, frames: 100, time: T + 100 });
    // 500 ms of input never arrived: the next chunk is stamped 0.5 s late, without a device flag.
    deliver!({ data, frames: 100, time: T + 700 });
    await recorder.stop({ frames: false });
    expect(overflows).toEqual([{ reason: 'gap', time: T + 700, overflowCount: 0, gapFrames: 500 }]);
    expect(await store.getMetadata(key)).toMatchObject({
      frame_count: 800,
      captured_frames: 300,
      gap_frames: 500,
    });
    expect(logs).toContain('info audex recording started');
    expect(logs).toContain('info audex recording stored');
    await recorder.close();
  });

  test('two start() calls at once: one records, the other is refused', async () => {
    const rig = rigs.make({ config, source: { durationMs: 100 } });
    const { recorder } = rig;
    await recorder.init();
    const [a, b] = await Promise.allSettled([recorder.start(), recorder.start()]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect(((b as PromiseRejectedResult).reason as RecorderError).code).toBe('ALREADY_RECORDING');
    await waitForFrames(recorder, 1600);
    await recorder.stop({ frames: false });
  });
});

describe('stores', () => {
  test('LocalStore: the WAV lands on disk with its metadata', async () => {
    const root = tempDir('audex-local-store-');
    rigs.defer(root.remove);
    const store = new LocalStore({ root: root.dir });
    const rig = rigs.make({ config, store, source: { durationMs: 500 } });
    const { recorder } = rig;
    await recorder.init();
    const key = await recorder.start('local');
    await waitForFrames(recorder, 8000);
    await recorder.stop({ frames: false });
    expect(await store.exists(key)).toBe(true);
    const { data } = wavData(await store.download(key));
    expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, 8000, config)))).toBe(true);
    expect((await store.getMetadata(key)).duration_ms).toBe(500);
  });

  test('any object implementing Store works, with its own key builder', async () => {
    const objects = new Map<string, { bytes: Uint8Array; metadata: Record<string, unknown> }>();
    const keyBuilder = new MemoryStore().keyBuilder.constructor as new (o: {
      prefix: string;
      separator: string;
    }) => Store['keyBuilder'];
    const store: Store = {
      keyBuilder: new keyBuilder({ prefix: 'tenant-42', separator: ':' }),
      async upload(data, key, metadata = {}) {
        const parts: Uint8Array[] = [];
        if (data instanceof Uint8Array) parts.push(data);
        else for await (const part of data) parts.push(part);
        objects.set(key, { bytes: concatBytes(parts).slice(), metadata }); // a private copy, as a real store keeps
        return key;
      },
      uploadMultipart(parts, key, metadata) {
        return this.upload(parts, key, metadata);
      },
      async getMetadata(key) {
        return objects.get(key)!.metadata;
      },
      download: (async (key: string) => objects.get(key)!.bytes) as Store['download'],
      async delete(key) {
        objects.delete(key);
      },
      async *list() {
        yield [...objects.keys()].sort();
      },
      async exists(key) {
        return objects.has(key);
      },
      async clear() {
        objects.clear();
      },
      async copy(a, b) {
        objects.set(b, objects.get(a)!);
        return b;
      },
    };
    const rig = rigs.make({ config, store, source: { durationMs: 300 } });
    const { recorder } = rig;
    await recorder.init();
    const key = await recorder.start('room-1');
    expect(key).toMatch(/^tenant-42:room-1:[0-9a-f-]{36}\.wav$/);
    await waitForFrames(recorder, 4800);
    await recorder.stop({ frames: false });
    const stored = objects.get(key)!;
    expect(wavData(stored.bytes).data.byteLength).toBe(9600);
    expect(stored.metadata).toMatchObject({ frame_count: 4800, content_type: 'audio/wav' });
  });
});
