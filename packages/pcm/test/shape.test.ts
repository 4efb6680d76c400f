import { describe, expect, it } from 'vitest';
import {
  channelsProblem,
  chunkFramesProblem,
  describeValue,
  MAX_CHANNELS,
  MAX_RATE,
  rateProblem,
  sampleFormatProblem,
  shapeProblem,
} from '../src/index.js';

describe('shape checks: one set of limits for every package', () => {
  it.each([1, 8000, 44100, MAX_RATE])('accepts rate %d', (rate) => {
    expect(rateProblem(rate)).toBeUndefined();
  });

  it.each([0, -1, 44100.5, MAX_RATE + 1, Number.NaN, '48000', null])('rejects rate %s naming it', (rate) => {
    expect(rateProblem(rate, 'toRate')).toBe(
      `toRate must be an integer number of Hz from 1 to ${MAX_RATE}, got ${describeValue(rate)}`,
    );
  });

  it.each([0, MAX_CHANNELS + 1, 1.5, undefined])('rejects channels %s naming it', (channels) => {
    expect(channelsProblem(channels)).toMatch(
      new RegExp(`^channels must be an integer from 1 to ${MAX_CHANNELS}, got `),
    );
  });

  it('accepts every channel count from 1 to the limit', () => {
    for (let c = 1; c <= MAX_CHANNELS; c++) expect(channelsProblem(c)).toBeUndefined();
  });

  it('names the sample formats allowed', () => {
    expect(sampleFormatProblem('int16')).toBeUndefined();
    expect(sampleFormatProblem('s16le', 'input.sampleFormat')).toBe(
      'input.sampleFormat "s16le" is not a supported sample format; allowed: int8, int16, int24, int32, float32',
    );
  });

  it('limits a chunk to 10 s of audio at its rate', () => {
    expect(chunkFramesProblem(160_000, 16_000)).toBeUndefined();
    expect(chunkFramesProblem(160_001, 16_000)).toBe(
      'chunk must be an integer number of frames from 1 to 160000 (10 s), got 160001',
    );
  });

  it('reports the first bad field of a shape, with a prefix', () => {
    expect(shapeProblem({ rate: 48000, channels: 2, sampleFormat: 'float32' })).toBeUndefined();
    expect(shapeProblem({ rate: 48000, channels: 0, sampleFormat: 'float32' }, 'to.')).toEqual({
      field: 'channels',
      message: 'to.channels must be an integer from 1 to 64, got 0',
    });
    expect(shapeProblem(undefined)?.field).toBe('sampleFormat');
  });

  it('never prints the contents of an object', () => {
    expect(describeValue({ secret: 'x' })).toBe('a value of type object');
    expect(describeValue(new Date(Number.NaN))).toBe('an invalid Date');
  });
});
