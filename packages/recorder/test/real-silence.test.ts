// The silence warning on the real input: the virtual microphone muted, then unmuted with a tone.
import { MemoryStore } from '@audex/store';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AudioRecorder, type SilenceEvent, type SoundEvent } from '../src/index.js';
import { tempDir } from './helpers.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a muted input raises silence after afterMs; unmuted with a tone, sound follows', async () => {
  const spool = tempDir();
  const recorder = new AudioRecorder(
    new MemoryStore(),
    { rate: 16_000, channels: 1 },
    { spoolDir: spool.dir, silence: { afterMs: 1500 } },
  );
  const silences: SilenceEvent[] = [];
  const sounds: SoundEvent[] = [];
  recorder.on('silence', (e) => silences.push(e));
  recorder.on('sound', (e) => sounds.push(e));
  const tone = await mic.playBackground({ frequencies: [700], toneSeconds: 20, rate: 48_000, channels: 2 });
  try {
    await recorder.init();
    await mic.setMuted(true);
    const mutedAt = Date.now();
    await recorder.start();
    await sleep(2500);
    expect(silences).toHaveLength(1);
    expect(silences[0]!.durationMs).toBeGreaterThanOrEqual(1500);
    expect(sounds).toEqual([]);
    await mic.setMuted(false);
    const unmutedAt = Date.now();
    await sleep(1000);
    await recorder.stop();
    expect(sounds).toHaveLength(1);
    // Sound came back with the unmute (PulseAudio's latency and one chunk later at most).
    expect(sounds[0]!.time).toBeGreaterThan(mutedAt);
    expect(sounds[0]!.time).toBeGreaterThan(silences[0]!.since);
    expect(sounds[0]!.time - unmutedAt).toBeLessThan(1000);
    expect(silences).toHaveLength(1);
  } finally {
    await mic.setMuted(false);
    await tone.stop();
    await recorder.close();
    spool.remove();
  }
}, 60_000);
