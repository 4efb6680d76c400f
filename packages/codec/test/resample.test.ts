import { describe, expect, it } from 'vitest';
import { createResampler, resample } from '../src/dsp/resample.js';
import { CodecError } from '../src/errors.js';

function tone(freq: number, rate: number, frames: number, channels = 1, amplitude = 0.5): Float32Array {
  const x = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    const v = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
    for (let c = 0; c < channels; c++) x[i * channels + c] = c % 2 === 0 ? v : -v;
  }
  return x;
}

/** Amplitude of the `freq` component of channel 0, skipping `skip` frames at each edge. */
function amplitudeAt(y: Float32Array, freq: number, rate: number, channels: number, skip: number): number {
  let re = 0;
  let im = 0;
  let n = 0;
  for (let i = skip; i < y.length / channels - skip; i++) {
    const v = y[i * channels]!;
    re += v * Math.cos((2 * Math.PI * freq * i) / rate);
    im += v * Math.sin((2 * Math.PI * freq * i) / rate);
    n++;
  }
  return (2 * Math.hypot(re, im)) / n;
}

function rmsDb(y: Float32Array, reference: number, skip: number): number {
  let s = 0;
  let n = 0;
  for (let i = skip; i < y.length - skip; i++) {
    s += y[i]! ** 2;
    n++;
  }
  return 20 * Math.log10(Math.sqrt(s / n) / reference);
}

describe('resampler', () => {
  it('keeps a 10 kHz tone at least 120 dB down when going from 48 kHz to 16 kHz', () => {
    const y = resample(tone(10_000, 48_000, 48_000), 48_000, 16_000, 1);
    // Skip the edges: the tone switching on and off is itself broadband.
    expect(rmsDb(y, 0.5 / Math.SQRT2, 200)).toBeLessThan(-120);
  });

  it('passes a 7 kHz tone within 0.1 dB when going from 48 kHz to 16 kHz', () => {
    const y = resample(tone(7_000, 48_000, 48_000), 48_000, 16_000, 1);
    const gain = 20 * Math.log10(amplitudeAt(y, 7_000, 16_000, 1, 100) / 0.5);
    expect(Math.abs(gain)).toBeLessThan(0.1);
  });

  it('rejects images at least 120 dB down when going from 16 kHz to 48 kHz', () => {
    const y = resample(tone(5_000, 16_000, 16_000), 16_000, 48_000, 1);
    // Remove the wanted 5 kHz tone and measure what is left (images at 11 and 21 kHz).
    const x = tone(5_000, 48_000, 48_000);
    const residual = y.map((v, i) => v - x[i]!);
    expect(rmsDb(residual, 0.5 / Math.SQRT2, 200)).toBeLessThan(-110);
  });

  it.each([
    [48_000, 16_000],
    [16_000, 48_000],
    [44_100, 16_000],
    [48_000, 44_100],
    [22_050, 48_000],
    [44_100, 48_001],
    [8_000, 11_025],
  ])('gives exactly round(n × to/from) frames from %i Hz to %i Hz, streamed in odd pieces', (from, to) => {
    for (const frames of [0, 1, 7, 1000, 12_345]) {
      const r = createResampler({ fromRate: from, toRate: to, channels: 2 });
      const input = tone(440, from, frames, 2);
      let total = 0;
      for (let i = 0; i < frames; i += 333)
        total += r.process(input.subarray(i * 2, Math.min(frames, i + 333) * 2)).length;
      total += r.flush().length;
      expect(total / 2).toBe(Math.round((frames * to) / from));
    }
  });

  it.each([
    [48_000, 16_000],
    [44_100, 48_000],
    [16_000, 44_100],
  ])('aligns output with input (no filter delay) from %i Hz to %i Hz', (from, to) => {
    const y = resample(tone(300, from, from), from, to, 1);
    const expected = tone(300, to, to);
    let err = 0;
    for (let i = 500; i < to - 500; i++) err = Math.max(err, Math.abs(y[i]! - expected[i]!));
    expect(err).toBeLessThan(1e-4);
  });

  it('streams to the same samples as a one-shot call', () => {
    const input = tone(1234, 44_100, 20_000, 2);
    const whole = resample(input, 44_100, 16_000, 2);
    const r = createResampler({ fromRate: 44_100, toRate: 16_000, channels: 2 });
    const parts: number[] = [];
    for (let i = 0; i < 20_000; i += 517)
      parts.push(...r.process(input.subarray(i * 2, Math.min(20_000, i + 517) * 2)));
    parts.push(...r.flush());
    expect(Float32Array.from(parts)).toEqual(whole);
  });

  it.each([2, 3, 6])('resamples each of %i channels exactly as it would alone', (channels) => {
    const frames = 4_000;
    const x = new Float32Array(frames * channels);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5;
    const y = resample(x, 44_100, 16_000, channels);
    for (let c = 0; c < channels; c++) {
      const mono = resample(
        x.filter((_, i) => i % channels === c),
        44_100,
        16_000,
        1,
      );
      const got = y.filter((_, i) => i % channels === c);
      expect(got.length).toBe(mono.length);
      let err = 0;
      for (let i = 0; i < mono.length; i++) err = Math.max(err, Math.abs(got[i]! - mono[i]!));
      expect(err).toBeLessThan(1e-6);
    }
  });

  it('keeps channels apart', () => {
    const y = resample(tone(1000, 48_000, 4800, 2), 48_000, 16_000, 2);
    for (let i = 100; i < 1500; i++) expect(y[2 * i + 1]).toBeCloseTo(-y[2 * i]!, 6);
  });

  it('passes samples through unchanged at equal rates', () => {
    const x = tone(1000, 16_000, 100);
    expect(resample(x, 16_000, 16_000, 1)).toEqual(x);
  });

  it('handles a ratio with more phases than the table (44.1 kHz to 48.001 kHz) cleanly', () => {
    const y = resample(tone(1000, 44_100, 44_100), 44_100, 48_001, 1);
    const x = tone(1000, 48_001, y.length);
    let err = 0;
    for (let i = 500; i < y.length - 500; i++) err = Math.max(err, Math.abs(y[i]! - x[i]!));
    expect(err).toBeLessThan(1e-5);
  });

  it('rejects bad rates, channels, quality, partial frames and use after flush', () => {
    expect(() => createResampler({ fromRate: 0, toRate: 16_000, channels: 1 })).toThrow(CodecError);
    expect(() => createResampler({ fromRate: 44_100.5, toRate: 16_000, channels: 1 })).toThrow(/fromRate/);
    expect(() => createResampler({ fromRate: 48_000, toRate: 16_000, channels: 0 })).toThrow(/channels/);
    expect(() =>
      createResampler({ fromRate: 48_000, toRate: 16_000, channels: 1, quality: 'ultra' as 'high' }),
    ).toThrow(/quality/);
    const r = createResampler({ fromRate: 48_000, toRate: 16_000, channels: 2 });
    expect(() => r.process(new Float32Array(3))).toThrow(/whole number/);
    r.flush();
    expect(() => r.process(new Float32Array(2))).toThrow(expect.objectContaining({ code: 'ENCODER_ENDED' }));
  });
});
