import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { AudioRecorder } from '@audex/recorder';
import { LocalStore } from '@audex/store';
import { probeSeconds } from '@audex/test-utils/audio-file-checks';
import { ffmpegEbur128 } from '@audex/test-utils/ebur128';
import { readAudioFloat, type SpokenSentences, writeSpokenSentences } from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './_helpers.js';

const RATE = 16_000;
let dir: string;
let storeDir: string;
let key: string;
let speech: SpokenSentences;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-analysis-'));
  storeDir = join(dir, 'store');
  speech = await writeSpokenSentences(dir, { rate: RATE });
  const voice = (await readAudioFloat(speech.file)).samples;
  // A recording made the way `audex record` makes one, from a fast source playing the speech.
  const store = new LocalStore({ root: storeDir });
  const recorder = new AudioRecorder(
    store,
    { rate: RATE, channels: 1, sampleFormat: 'int16', chunk: 320 },
    {
      source: new SyntheticSource({
        generate: (f) => voice[f] ?? 0,
        speed: 0,
        durationMs: (voice.length / RATE) * 1000,
      }),
      spoolDir: join(dir, 'spool'),
      vad: true,
    },
  );
  await recorder.init();
  key = await recorder.start('cli');
  while (recorder.frameCount < voice.length) await new Promise((r) => setTimeout(r, 10));
  await recorder.stop({ frames: false });
  await recorder.close();
  metadata = await store.getMetadata(key);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audex ls / get with analysis', () => {
  it('ls shows the loudness (LUFS) and the speech regions of each recording', async () => {
    const json = await runCli(['ls', '--json', '--store-dir', storeDir]);
    expect(json.code, json.stderr).toBe(0);
    const [item] = JSON.parse(json.stdout.toString()) as { loudnessLufs: number; speechCount: number }[];
    expect(item!.loudnessLufs).toBe(metadata.loudness_lufs);
    expect(item!.speechCount).toBe(3);
    const table = await runCli(['ls', '--store-dir', storeDir]);
    expect(table.stdout.toString()).toMatch(/LUFS\s+SPEECH/);
    expect(table.stdout.toString()).toContain((metadata.loudness_lufs as number).toFixed(1));
  });

  it('get --speech writes only the speech, joined', async () => {
    const out = join(dir, 'speech.wav');
    const run = await runCli(['get', key, '--speech', '-o', out, '--store-dir', storeDir]);
    expect(run.code, run.stderr).toBe(0);
    expect((await probeSeconds(out)) * 1000).toBeCloseTo(metadata.speech_ms as number, -1);
  });

  it('get --speech split writes one file per region', async () => {
    const out = join(dir, 'part.wav');
    const run = await runCli(['get', key, '--speech', 'split', '-o', out, '--store-dir', storeDir]);
    expect(run.code, run.stderr).toBe(0);
    const regions = metadata.speech as { start_ms: number; end_ms: number }[];
    for (const [i, r] of regions.entries()) {
      const file = join(dir, `part-${i + 1}.wav`);
      expect((await probeSeconds(file)) * 1000).toBeCloseTo(r.end_ms - r.start_ms, -1);
    }
    expect(existsSync(join(dir, 'part-4.wav'))).toBe(false);
  });

  it('get --normalize -16 measures -16 LUFS ±0.2 (ffmpeg) under -1 dBTP', async () => {
    const out = join(dir, 'loud.wav');
    const run = await runCli(['get', key, '--normalize', '-16', '-o', out, '--store-dir', storeDir]);
    expect(run.code, run.stderr).toBe(0);
    const ref = await ffmpegEbur128(out);
    expect(Math.abs(ref.integratedLufs + 16)).toBeLessThanOrEqual(0.2);
    expect(ref.truePeakDbtp).toBeLessThanOrEqual(-0.9);
  });

  it('record --vad stores speech metadata (none in the synthetic test tone), ls shows 0 regions', async () => {
    const store = join(dir, 'vad-store');
    const run = await runCli(
      [
        'record',
        '--duration',
        '2',
        '--vad',
        '--json',
        '--store-dir',
        store,
        '--spool-dir',
        join(dir, 'vad-spool'),
      ],
      {
        AUDEX_SOURCE: 'synthetic',
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const listed = await runCli(['ls', '--json', '--store-dir', store]);
    const [item] = JSON.parse(listed.stdout.toString()) as {
      speechCount: number | null;
      loudnessLufs: number | null;
    }[];
    expect(item!.speechCount).toBe(0);
    expect(item!.loudnessLufs).toBeGreaterThan(-30);
  });

  it('rejects a bad --speech mode and --true-peak without --normalize (usage, exit 2)', async () => {
    const bad = await runCli([
      'get',
      key,
      '--speech',
      'each',
      '-o',
      join(dir, 'x.wav'),
      '--store-dir',
      storeDir,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--speech "each" is not a mode/);
    const peak = await runCli([
      'get',
      key,
      '--true-peak',
      '-2',
      '-o',
      join(dir, 'y.wav'),
      '--store-dir',
      storeDir,
    ]);
    expect(peak.code).toBe(2);
    expect(peak.stderr).toMatch(/--true-peak needs --normalize/);
  });
});
