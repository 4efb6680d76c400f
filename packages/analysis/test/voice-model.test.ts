import { describe, expect, it } from 'vitest';
import {
  AnalysisError,
  checkVoiceModel,
  createVoiceDetector,
  detectSpeech,
  VOICE_MODEL_RATE,
  type VoiceModel,
} from '../src/index.js';

/**
 * A voice model of our own through the public interface: an energy detector (RMS above -40 dBFS
 * counts as speech) with 10 ms windows. It records every window it is handed.
 */
function energyModel(windowSamples = 160): VoiceModel & { windows: number[]; opened: number } {
  const model = {
    name: 'energy',
    windowSamples,
    windows: [] as number[],
    opened: 0,
    open: async () => {
      model.opened += 1;
      return {
        probability: async (window: Float32Array) => {
          model.windows.push(window.length);
          let sum = 0;
          for (const x of window) sum += x * x;
          return Math.sqrt(sum / window.length) > 0.01 ? 0.9 : 0.05;
        },
      };
    },
  };
  return model;
}

/** 48 kHz stereo float: silence, a 440 Hz tone from `fromMs` to `toMs`, silence, `totalMs` long. */
function toneBurst(fromMs: number, toMs: number, totalMs: number): Float32Array {
  const rate = 48_000;
  const frames = (totalMs * rate) / 1000;
  const out = new Float32Array(frames * 2);
  for (let f = (fromMs * rate) / 1000; f < (toMs * rate) / 1000; f++) {
    const v = 0.3 * Math.sin((2 * Math.PI * 440 * f) / rate);
    out[2 * f] = v;
    out[2 * f + 1] = v;
  }
  return out;
}

describe('the voice activity stage around a VoiceModel', () => {
  it('feeds the model whole windows of its size at 16 kHz and places regions on the input clock', async () => {
    const model = energyModel(160);
    const shape = { rate: 48_000, channels: 2, sampleFormat: 'float32' } as const;
    const regions = await detectSpeech(toneBurst(1000, 3000, 4500), shape, model, { padMs: 0 });
    expect(model.opened).toBe(1);
    expect(new Set(model.windows)).toEqual(new Set([160]));
    // 4.5 s at 16 kHz in 160-sample windows (the last one zero-padded).
    expect(model.windows).toHaveLength(Math.ceil((4.5 * VOICE_MODEL_RATE) / 160));
    expect(regions).toHaveLength(1);
    // Edges within two windows (20 ms) and the resampler's smear.
    expect(Math.abs(regions[0]!.startMs - 1000)).toBeLessThanOrEqual(25);
    expect(Math.abs(regions[0]!.endMs - 3000)).toBeLessThanOrEqual(25);
  });

  it('works with any window size the model asks for', async () => {
    const model = energyModel(1000);
    const detector = await createVoiceDetector({ rate: 16_000, channels: 1, sampleFormat: 'float32' }, model);
    expect(detector.model).toBe('energy');
    const audio = toneBurst(500, 1500, 2000).filter((_, i) => i % 6 === 0); // 16 kHz mono
    await detector.write(audio);
    await detector.end();
    expect(detector.processedMs).toBe(2000);
    expect(detector.regions).toHaveLength(1);
  });

  it.each([
    [null, /model must be a VoiceModel \(\{ name, windowSamples, open\(\) \}/],
    [{}, /model must be a VoiceModel/],
    ['silero-v5', /model must be a VoiceModel.*got string/],
    [{ ...energyModel(), windowSamples: 0 }, /model.windowSamples must be an integer from 1 to 32000/],
    [{ ...energyModel(), windowSamples: 1.5 }, /got 1.5/],
    [{ ...energyModel(), windowSamples: 40_000 }, /got 40000/],
  ])('rejects %o as a model (INVALID_OPTIONS, field model)', async (model, message) => {
    expect(() => checkVoiceModel(model)).toThrow(message);
    await expect(
      createVoiceDetector({ rate: 16_000, channels: 1, sampleFormat: 'int16' }, model as VoiceModel),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'model' });
  });

  it("a model that cannot open rejects createVoiceDetector with the model's error", async () => {
    const failing: VoiceModel = {
      name: 'broken',
      windowSamples: 512,
      open: () => Promise.reject(new AnalysisError('MODEL_FAILED', 'could not load the broken voice model')),
    };
    await expect(
      createVoiceDetector({ rate: 48_000, channels: 2, sampleFormat: 'int16' }, failing),
    ).rejects.toMatchObject({ code: 'MODEL_FAILED' });
  });

  it('a probability outside 0..1 is MODEL_FAILED naming the model and the value', async () => {
    const odd: VoiceModel = {
      name: 'odd',
      windowSamples: 160,
      open: async () => ({ probability: async () => Number.NaN }),
    };
    const detector = await createVoiceDetector({ rate: 16_000, channels: 1, sampleFormat: 'int16' }, odd);
    await expect(detector.write(new Uint8Array(640))).rejects.toMatchObject({
      code: 'MODEL_FAILED',
      message: expect.stringContaining('the odd voice model gave NaN for a window'),
    });
  });
});
