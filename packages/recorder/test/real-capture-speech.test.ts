import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@audex/store';
import { readAudioFloat, writePinkNoise, writeSpokenSentences } from '@audex/test-utils/speech';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AudioRecorder, type RecordingMetadata } from '../src/index.js';
import { tempDir } from './helpers.js';

let mic: VirtualMic;
let dir: string;
beforeAll(async () => {
  mic = await startVirtualMic();
  dir = await mkdtemp(join(tmpdir(), 'audex-speech-mic-'));
});
afterAll(async () => {
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

const RATE = 16_000;

/** RMS per 10 ms window. */
function envelope(samples: Float32Array, rate: number): Float64Array {
  const win = rate / 100;
  const out = new Float64Array(Math.floor(samples.length / win));
  for (let w = 0; w < out.length; w++) {
    let e = 0;
    for (let i = w * win; i < (w + 1) * win; i++) e += samples[i]! * samples[i]!;
    out[w] = Math.sqrt(e / win);
  }
  return out;
}

/** Where `played` starts inside `recorded`, in ms: the lag that best lines up their envelopes. */
function playbackOffsetMs(recorded: Float32Array, played: Float32Array): number {
  const a = envelope(recorded, RATE);
  const b = envelope(played, RATE);
  let best = 0;
  let bestScore = -1;
  for (let lag = 0; lag + b.length <= a.length; lag++) {
    let score = 0;
    for (let i = 0; i < b.length; i++) score += a[lag + i]! * b[i]!;
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best * 10;
}

/** Records what the virtual mic plays from `file`, with vad on; returns the stored metadata and audio. */
async function recordPlayback(file: string) {
  const spool = tempDir();
  const store = new MemoryStore();
  const recorder = new AudioRecorder(
    store,
    { rate: RATE, channels: 1, sampleFormat: 'int16', chunk: 320 },
    { spoolDir: spool.dir, vad: true },
  );
  try {
    await recorder.init();
    const key = await recorder.start('speech');
    await new Promise((r) => setTimeout(r, 800));
    await mic.play(file);
    await new Promise((r) => setTimeout(r, 700));
    await recorder.stop({ frames: false });
    const wav = join(dir, 'stored.wav');
    await writeFile(wav, await store.download(key));
    return {
      metadata: (await store.getMetadata(key)) as RecordingMetadata,
      recorded: (await readAudioFloat(wav)).samples,
    };
  } finally {
    await recorder.close();
    spool.remove();
  }
}

test('espeak-ng speech through the virtual mic: stored speech regions within 150 ms of the spoken intervals, none in the silences', async () => {
  const speech = await writeSpokenSentences(dir, { rate: 48_000, channels: 2 });
  const { metadata, recorded } = await recordPlayback(speech.file);
  const played = (await readAudioFloat((await writeSpokenSentences(dir, { rate: RATE, channels: 1 })).file))
    .samples;
  const offset = playbackOffsetMs(recorded, played);
  const spoken = speech.spoken.map(([s, e]) => [s + offset, e + offset] as const);
  const where = JSON.stringify({ offset, regions: metadata.speech, spoken });
  expect(metadata.speech_count, where).toBe(3);
  metadata.speech!.forEach((r, i) => {
    expect(Math.abs(r.start_ms - spoken[i]![0]), where).toBeLessThanOrEqual(150);
    expect(Math.abs(r.end_ms - spoken[i]![1]), where).toBeLessThanOrEqual(150);
  });
  for (const [from, to] of speech.silences.map(([s, e]) => [s + offset, e + offset])) {
    for (const r of metadata.speech!)
      expect(Math.min(r.end_ms, to!) - Math.max(r.start_ms, from!), where).toBeLessThanOrEqual(150);
  }
  expect(metadata.loudness_lufs).toBeGreaterThan(-40);
});

test('pink noise at -30 dBFS through the virtual mic gives no speech region', async () => {
  const file = await writePinkNoise(join(dir, 'pink.wav'), {
    rate: 48_000,
    channels: 2,
    seconds: 8,
    rmsDbfs: -30,
  });
  const { metadata } = await recordPlayback(file);
  expect(metadata.speech_count).toBe(0);
  expect(metadata.speech).toEqual([]);
});
