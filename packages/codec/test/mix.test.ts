import { describe, expect, it } from 'vitest';
import { defaultMixMatrix, mixChannels } from '../src/dsp/mix.js';
import { CodecError } from '../src/errors.js';

describe('channel mixing', () => {
  it('copies mono to every output channel', () => {
    expect([...mixChannels(Float32Array.of(0.5, -0.25), 1, 2)]).toEqual([0.5, 0.5, -0.25, -0.25]);
    expect([...mixChannels(Float32Array.of(0.5), 1, 6)]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('averages stereo to mono so full scale cannot clip', () => {
    expect([...mixChannels(Float32Array.of(1, 1, 0.5, -0.5, 1, 0), 2, 1)]).toEqual([1, 0, 0.5]);
  });

  it('downmixes 5.1 to stereo with ITU gains, LFE dropped, rows summing to 1', () => {
    const m = defaultMixMatrix(6, 2);
    expect(m[0]![3]).toBe(0);
    expect(m[1]![3]).toBe(0);
    expect(m[0]![2]! / m[0]![0]!).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m[0]![4]! / m[0]![0]!).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m[0]![5]).toBe(0);
    expect(m[1]![4]).toBe(0);
    for (const row of m) expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    const out = mixChannels(Float32Array.of(1, 1, 1, 1, 1, 1), 6, 2);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(1, 6);
  });

  it('folds other downmixes by channel index and leaves extra upmix channels silent', () => {
    expect(defaultMixMatrix(4, 2)).toEqual([
      [0.5, 0, 0.5, 0],
      [0, 0.5, 0, 0.5],
    ]);
    expect([...mixChannels(Float32Array.of(0.1, 0.2), 2, 4)].map((v) => Math.round(v * 10) / 10)).toEqual([
      0.1, 0.2, 0, 0,
    ]);
    expect(defaultMixMatrix(3, 3)).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('applies a custom matrix (swap left and right)', () => {
    const swapped = mixChannels(Float32Array.of(1, 2, 3, 4), 2, 2, [
      [0, 1],
      [1, 0],
    ]);
    expect([...swapped]).toEqual([2, 1, 4, 3]);
  });

  it('rejects a wrongly shaped matrix, bad channel counts and partial frames', () => {
    expect(() => mixChannels(new Float32Array(4), 2, 1, [[1]])).toThrow(CodecError);
    expect(() => mixChannels(new Float32Array(4), 2, 1, [[1, Number.NaN]])).toThrow(/finite/);
    expect(() => mixChannels(new Float32Array(4), 0, 1)).toThrow(/fromChannels/);
    expect(() => mixChannels(new Float32Array(3), 2, 1)).toThrow(/whole number/);
  });
});
