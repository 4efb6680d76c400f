import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameBuffer } from '@audex/buffer';
import { fromFloat32 } from '@audex/pcm';
import { ffmpegEbur128 } from '@audex/test-utils/ebur128';
import {
  readAudioFloat,
  type SpokenSentences,
  writePinkNoise,
  writeSpokenSentences,
} from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseBuffer } from '../src/analysis.js';
import {
  RecorderError,
  type RecordingMetadata,
  type SpeechEndEvent,
  type SpeechStartEvent,
} from '../src/index.js';
import { addAnalysis, MAX_METADATA_JSON_BYTES } from '../src/metadata.js';
import { resolveVad } from '../src/voice-model.js';
import { rigsPerTest } from './helpers.js';

const rigs = rigsPerTest();
let dir: string;
let speech: SpokenSentences;
let voice: Float32Array;
const RATE = 48_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-recorder-analysis-'));
  speech = await writeSpokenSentences(dir, { rate: RATE, channels: 1 });
  voice = (await readAudioFloat(speech.file)).samples;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A recorder whose fast synthetic source plays `samples` (mono) on every channel. */
function rigPlaying(samples: Float32Array, channels: number, vad: boolean | object) {
  return rigs.make({
    config: { rate: RATE, channels, sampleFormat: 'int16', chunk: 960 },
    source: { generate: (frame) => samples[frame] ?? 0, durationMs: (samples.length / RATE) * 1000 },
    recorder: vad === false ? {} : { vad: vad as never },
  });
}

async function recordAll(rig: ReturnType<typeof rigPlaying>, samples: Float32Array) {
  const key = await rig.recorder.start('analysis');
  while (rig.recorder.frameCount < samples.length) await new Promise((r) => setTimeout(r, 10));
  const segment = await rig.recorder.stop({ frames: false });
  return { key, segment, metadata: (await rig.store.getMetadata(key)) as RecordingMetadata };
}

describe('recorder with vad', () => {
  it('stores speech regions within 150 ms of the spoken intervals, none in the silences, with live events', async () => {
    const rig = rigPlaying(voice, 2, true);
    await rig.recorder.init();
    const events: (SpeechStartEvent | SpeechEndEvent)[] = [];
    rig.recorder.on('speechStart', (e) => events.push(e));
    rig.recorder.on('speechEnd', (e) => events.push(e));
    const { key, metadata } = await recordAll(rig, voice);
    const regions = metadata.speech!;
    expect(metadata.speech_count).toBe(3);
    expect(regions).toHaveLength(3);
    speech.spoken.forEach(([start, end], i) => {
      expect(
        Math.abs(regions[i]!.start_ms - start),
        JSON.stringify({ regions, spoken: speech.spoken }),
      ).toBeLessThanOrEqual(150);
      expect(
        Math.abs(regions[i]!.end_ms - end),
        JSON.stringify({ regions, spoken: speech.spoken }),
      ).toBeLessThanOrEqual(150);
    });
    for (const [from, to] of speech.silences) {
      for (const r of regions)
        expect(Math.min(r.end_ms, to) - Math.max(r.start_ms, from)).toBeLessThanOrEqual(150);
    }
    expect(metadata.speech_ms).toBe(regions.reduce((s, r) => s + r.end_ms - r.start_ms, 0));
    expect(events.map((e) => ('endMs' in e ? 'end' : 'start'))).toEqual([
      'start',
      'end',
      'start',
      'end',
      'start',
      'end',
    ]);
    expect(events.every((e) => e.key === key)).toBe(true);

    // Loudness of the stored WAV, as ffmpeg measures it; the audio itself is untouched.
    const wav = join(dir, 'stored.wav');
    await writeFile(wav, await rig.store.download(key));
    const ref = await ffmpegEbur128(wav);
    expect(Math.abs(metadata.loudness_lufs! - ref.integratedLufs)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(metadata.loudness_range_lu! - ref.loudnessRangeLu)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(metadata.true_peak_dbtp! - ref.truePeakDbtp)).toBeLessThanOrEqual(0.1);
    const stored = (await readAudioFloat(wav)).samples;
    for (let i = 0; i < voice.length; i += 997)
      expect(Math.abs(stored[i * 2]! - voice[i]!)).toBeLessThan(1 / 32768 + 1e-6);
  });

  it('segment() takes only the speech and normalises it', async () => {
    const rig = rigPlaying(voice, 1, { padMs: 40 });
    await rig.recorder.init();
    const { segment, metadata } = await recordAll(rig, voice);
    const from = segment.startedAt.getTime();
    const to = segment.endedAt.getTime();
    const only = await rig.recorder.segment(from, to, { speech: true, format: 'pcm' });
    const speechFrames = only.byteLength / 2;
    expect(Math.abs(speechFrames - (metadata.speech_ms! * RATE) / 1000)).toBeLessThanOrEqual(3 * 48);
    const wav = join(dir, 'normalised.wav');
    await writeFile(
      wav,
      await rig.recorder.segment(from, to, {
        format: 'wav',
        normalize: { targetLufs: -16, truePeakDbtp: -1 },
      }),
    );
    const ref = await ffmpegEbur128(wav);
    expect(Math.abs(ref.integratedLufs + 16)).toBeLessThanOrEqual(0.2);
    expect(ref.truePeakDbtp).toBeLessThanOrEqual(-0.9);
    await expect(rig.recorder.segment(from, to, { normalize: { targetLufs: 5 } })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'normalize.targetLufs',
    });
    // The last silence (3 s) holds no speech.
    const silenceFrom = from + speech.spoken[2]![1] + 300;
    await expect(
      rig.recorder.segment(silenceFrom, silenceFrom + 2000, { speech: true }),
    ).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
    });
  });

  it('finds no speech in pink noise at -30 dBFS', async () => {
    const { samples } = await readAudioFloat(
      await writePinkNoise(join(dir, 'pink.wav'), { rate: RATE, seconds: 12 }),
    );
    const rig = rigPlaying(samples, 1, true);
    await rig.recorder.init();
    const { metadata } = await recordAll(rig, samples);
    expect(metadata.speech).toEqual([]);
    expect(metadata.speech_count).toBe(0);
    expect(metadata.speech_ms).toBe(0);
    expect(metadata.loudness_lufs).toBeLessThan(-25);
  });

  it('rejects bad vad settings, naming the field', () => {
    expect(() => rigPlaying(voice, 1, { threshold: 2 })).toThrow(RecorderError);
    try {
      rigPlaying(voice, 1, { minSpeechMs: 'long' });
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', field: 'vad.minSpeechMs' });
      expect((error as Error).message).toMatch(/minSpeechMs must be a number from 0 to 10000 ms, got long/);
    }
  });
});

describe('recorder without vad', () => {
  it('stores loudness (no speech keys), reports momentary loudness in level events, refuses speech: true', async () => {
    const rig = rigPlaying(voice, 1, false);
    await rig.recorder.init();
    const momentary: number[] = [];
    rig.recorder.on('level', (level) => momentary.push(level.momentaryLufs));
    const { segment, metadata } = await recordAll(rig, voice);
    expect(metadata.loudness_lufs).toBeGreaterThan(-40);
    expect(metadata).not.toHaveProperty('speech');
    expect(metadata).not.toHaveProperty('speech_count');
    expect(momentary[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(Math.max(...momentary)).toBeGreaterThan(metadata.loudness_lufs! - 10);
    await expect(
      rig.recorder.segment(segment.startedAt, segment.endedAt, { speech: true }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'speech' });
  });

  it('stores null loudness for silence', async () => {
    const silence = new Float32Array(RATE);
    const rig = rigPlaying(silence, 1, false);
    await rig.recorder.init();
    const { metadata } = await recordAll(rig, silence);
    expect(metadata.loudness_lufs).toBeNull();
    expect(metadata.true_peak_dbtp).toBeNull();
  });
});

describe('recovery analysis', () => {
  it('finds the loudness and the speech regions of a journal read back from the spool', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'audex-analyse-buffer-'));
    try {
      const buffer = await FrameBuffer.create({
        spoolDir: spool,
        id: 'j',
        sampleFormat: 'int16',
        channels: 1,
        rate: RATE,
      });
      const pcm = fromFloat32(voice, 'int16');
      const chunkBytes = 960 * 2;
      for (let at = 0, t = 1_700_000_000_000; at < pcm.length; at += chunkBytes, t += 20) {
        buffer.append({
          data: pcm.subarray(at, at + chunkBytes),
          frames: Math.min(chunkBytes, pcm.length - at) / 2,
          time: t,
        });
      }
      await buffer.end();
      const facts = await analyseBuffer(buffer, resolveVad(true));
      expect(facts.speech).toHaveLength(3);
      speech.spoken.forEach(([start, end], i) => {
        expect(Math.abs(facts.speech![i]!.startMs - start)).toBeLessThanOrEqual(150);
        expect(Math.abs(facts.speech![i]!.endMs - end)).toBeLessThanOrEqual(150);
      });
      expect(facts.loudness.integratedLufs).toBeGreaterThan(-35);
      const withoutVad = await analyseBuffer(buffer, undefined);
      expect(withoutVad.speech).toBeUndefined();
      expect(withoutVad.loudness).toEqual(facts.loudness);
      await buffer.close();
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  });
});

describe('speech metadata', () => {
  it('lists as many regions as fit S3 metadata, the totals always complete', () => {
    const metadata = { content_type: 'audio/wav', gaps: [] } as unknown as RecordingMetadata;
    const regions = Array.from({ length: 500 }, (_, i) => ({
      startMs: i * 10_000,
      endMs: i * 10_000 + 4321,
    }));
    addAnalysis(metadata, {
      loudness: {
        integratedLufs: -20,
        loudnessRangeLu: 5,
        truePeakDbtp: -3,
        samplePeakDbfs: -3,
        durationMs: 5e6,
      },
      speech: regions,
    });
    expect(metadata.speech_count).toBe(500);
    expect(metadata.speech_ms).toBe(500 * 4321);
    expect(metadata.speech!.length).toBeGreaterThan(10);
    expect(metadata.speech!.length).toBeLessThan(500);
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBeLessThanOrEqual(MAX_METADATA_JSON_BYTES);
  });
});
