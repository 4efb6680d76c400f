import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AnalysisError,
  createVoiceDetector,
  detectSpeech,
  type SpeechEvent,
  type SpeechRegion,
} from '@audex/analysis';
import { fromFloat32 } from '@audex/pcm';
import {
  readAudioFloat,
  type SpokenSentences,
  writePinkNoise,
  writeSpokenSentences,
} from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSileroModel, SILERO_WINDOW_SAMPLES } from '../src/index.js';

/** The default model (Silero v5 on onnxruntime-web). */
const silero = createSileroModel();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-vad-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The criteria: one region per sentence, each edge within 150 ms, nothing inside a silence. */
function expectMatches(regions: readonly SpeechRegion[], speech: SpokenSentences): void {
  const where = JSON.stringify({ regions, spoken: speech.spoken });
  expect(regions, where).toHaveLength(speech.spoken.length);
  speech.spoken.forEach(([start, end], i) => {
    expect(Math.abs(regions[i]!.startMs - start), `start of ${i}: ${where}`).toBeLessThanOrEqual(150);
    expect(Math.abs(regions[i]!.endMs - end), `end of ${i}: ${where}`).toBeLessThanOrEqual(150);
  });
  // No region inside a silence: a region may reach into one by its padding (≤ 150 ms) only.
  for (const [from, to] of speech.silences) {
    for (const r of regions) {
      const overlap = Math.min(r.endMs, to) - Math.max(r.startMs, from);
      expect(overlap, `region ${JSON.stringify(r)} in silence ${from}-${to}`).toBeLessThanOrEqual(150);
    }
  }
}

describe('voice activity on espeak-ng speech (2 s, 1 s, 3 s silences)', () => {
  it.each([
    [16_000, 1, 'int16'],
    [48_000, 1, 'float32'],
    [48_000, 2, 'int24'],
    [44_100, 2, 'int16'],
  ] as const)(
    '%i Hz, %i channel(s), %s: regions within 150 ms of the spoken intervals',
    async (rate, channels, sampleFormat) => {
      const speech = await writeSpokenSentences(dir, { rate, channels });
      const { samples } = await readAudioFloat(speech.file);
      const regions = await detectSpeech(
        fromFloat32(samples, sampleFormat),
        { rate, channels, sampleFormat },
        silero,
      );
      expectMatches(regions, speech);
    },
  );

  it('finds speech 20 dB quieter too', async () => {
    const speech = await writeSpokenSentences(dir, { rate: 16_000, gainDb: -26 });
    const { samples } = await readAudioFloat(speech.file);
    const regions = await detectSpeech(
      samples,
      { rate: 16_000, channels: 1, sampleFormat: 'float32' },
      silero,
    );
    expect(regions).toHaveLength(3);
  });

  it.each([16_000, 48_000])('pink noise at -30 dBFS gives no region (%i Hz)', async (rate) => {
    const file = await writePinkNoise(join(dir, `pink-${rate}.wav`), { rate, seconds: 20, rmsDbfs: -30 });
    const { samples } = await readAudioFloat(file);
    expect(await detectSpeech(samples, { rate, channels: 1, sampleFormat: 'float32' }, silero)).toEqual([]);
  });

  it('fed live in 20 ms chunks, fires speechStart and speechEnd within 350 ms of each spoken edge', async () => {
    const rate = 48_000;
    const speech = await writeSpokenSentences(dir, { rate, channels: 2 });
    const { samples } = await readAudioFloat(speech.file);
    const pcm = fromFloat32(samples, 'int16');
    const detector = await createVoiceDetector({ rate, channels: 2, sampleFormat: 'int16' }, silero);
    expect(detector.model).toBe('silero-v5');
    const events: SpeechEvent[] = [];
    const chunk = (rate / 50) * 4;
    const pending: Promise<SpeechEvent[]>[] = [];
    // Writes are not awaited one by one, as a capture callback would issue them.
    for (let at = 0; at < pcm.length; at += chunk) pending.push(detector.write(pcm.subarray(at, at + chunk)));
    for (const p of pending) events.push(...(await p));
    events.push(...(await detector.end()));
    expect(events.map((e) => e.type)).toEqual([
      'speechStart',
      'speechEnd',
      'speechStart',
      'speechEnd',
      'speechStart',
      'speechEnd',
    ]);
    const starts = events.filter((e) => e.type === 'speechStart');
    const ends = events.filter((e) => e.type === 'speechEnd');
    speech.spoken.forEach(([start, end], i) => {
      expect(starts[i]!.atMs - start).toBeLessThanOrEqual(350);
      expect(ends[i]!.atMs - end).toBeLessThanOrEqual(350);
      expect(ends[i]!.region.startMs).toBe(starts[i]!.startMs);
    });
    expectMatches(detector.regions, speech);
    expect(detector.processedMs).toBeGreaterThanOrEqual(speech.durationMs - 1);
  });

  it('gives the same regions with the v6 model within 150 ms', async () => {
    const speech = await writeSpokenSentences(dir, { rate: 16_000 });
    const { samples } = await readAudioFloat(speech.file);
    const regions = await detectSpeech(
      samples,
      { rate: 16_000, channels: 1, sampleFormat: 'float32' },
      createSileroModel({ model: 'silero-v6' }),
      { padMs: 30 },
    );
    expectMatches(regions, speech);
  });
});

describe('VoiceDetector errors', () => {
  const shape = { rate: 16_000, channels: 1, sampleFormat: 'int16' } as const;

  it.each([
    [{ threshold: 1.5 }, /threshold must be a number from 0.05 to 0.95, got 1.5/],
    [{ minSilenceMs: 10 }, /minSilenceMs must be a number from 32 to 10000 ms, got 10/],
    [{ padMs: -1 }, /padMs/],
  ])('rejects %o', async (options, message) => {
    await expect(createVoiceDetector(shape, silero, options)).rejects.toThrow(message);
  });

  it('createSileroModel checks its options; nothing loads before a stream opens', () => {
    expect(() => createSileroModel({ model: 'silero-v9' as never })).toThrow(
      /model must be 'silero-v5' or 'silero-v6', got silero-v9/,
    );
    expect(() => createSileroModel({ onnxRuntime: {} as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'onnxRuntime' }),
    );
    const model = createSileroModel({ model: 'silero-v6' });
    expect([model.name, model.windowSamples]).toEqual(['silero-v6', SILERO_WINDOW_SAMPLES]);
  });

  it('a runtime that cannot load the model is MODEL_FAILED naming the model', async () => {
    // A runtime whose session creation fails, as a broken install would (fault injection).
    const broken = createSileroModel({
      onnxRuntime: {
        InferenceSession: {
          create: () => Promise.reject(new Error('no WebAssembly backend (injected)')),
        },
        Tensor: class {},
      },
    });
    await expect(createVoiceDetector(shape, broken)).rejects.toMatchObject({
      code: 'MODEL_FAILED',
      message: expect.stringContaining(
        'could not load the silero-v5 voice model: no WebAssembly backend (injected)',
      ),
    });
  });

  it('rejects partial frames and writes after end()', async () => {
    const detector = await createVoiceDetector({ ...shape, channels: 2 }, silero);
    await expect(detector.write(new Uint8Array(5))).rejects.toMatchObject({ code: 'INVALID_DATA' });
    await detector.write(new Uint8Array(3200));
    await detector.end();
    await expect(detector.write(new Uint8Array(4))).rejects.toBeInstanceOf(AnalysisError);
    await expect(detector.end()).rejects.toMatchObject({ code: 'ENDED' });
  });
});
