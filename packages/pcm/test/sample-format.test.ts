import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import {
  BYTES_PER_SAMPLE,
  convertSampleFormat,
  fromFloat32,
  PcmError,
  packInt24,
  SAMPLE_FORMATS,
  type SampleFormat,
  toFloat32,
  unpackInt24,
} from '../src/index.js';

const INT_RANGES: Record<Exclude<SampleFormat, 'float32'>, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int24: [-8388608, 8388607],
  int32: [-2147483648, 2147483647],
};

function encodeInts(values: number[], format: Exclude<SampleFormat, 'float32'>): Uint8Array {
  if (format === 'int24') return packInt24(Int32Array.from(values));
  const Ctor = format === 'int8' ? Int8Array : format === 'int16' ? Int16Array : Int32Array;
  return new Uint8Array(Ctor.from(values).buffer);
}

describe('int24 packing', () => {
  it('packs and unpacks the extremes and sign boundary exactly', () => {
    const values = Int32Array.from([0, 1, -1, 8388607, -8388608, 0x123456, -0x123456]);
    const packed = packInt24(values);
    expect(packed.byteLength).toBe(values.length * 3);
    expect(Array.from(packed.subarray(0, 9))).toEqual([0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff]);
    expect(Array.from(unpackInt24(packed))).toEqual(Array.from(values));
  });

  it('round-trips any 24-bit value', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8388608, max: 8388607 }), { maxLength: 200 }), (values) => {
        expect(Array.from(unpackInt24(packInt24(Int32Array.from(values))))).toEqual(values);
      }),
    );
  });

  it('rejects a byte length that is not a multiple of 3', () => {
    expect(() => unpackInt24(new Uint8Array(4))).toThrow(/4 bytes is not a whole number of int24 samples/);
  });
});

describe.each(['int8', 'int16', 'int24'] as const)('%s to float32 and back', (format) => {
  const [min, max] = INT_RANGES[format];
  it('is exact for every value, including full scale', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min, max }), { maxLength: 300 }), (values) => {
        const bytes = encodeInts([min, max, 0, ...values], format);
        const floats = toFloat32(bytes, format);
        expect(floats[0]).toBe(-1);
        expect(floats[1]).toBeLessThan(1);
        expect(fromFloat32(floats, format)).toEqual(bytes);
      }),
    );
  });
});

describe('int32 and float32', () => {
  it('int32 to float32 keeps 24 bits of precision', () => {
    const bytes = encodeInts([2147483647, -2147483648, 1 << 20, -(1 << 20)], 'int32');
    const floats = toFloat32(bytes, 'int32');
    expect(floats[1]).toBe(-1);
    expect(floats[2]).toBeCloseTo(1 / 2048, 12);
  });

  it('float32 round-trips bit for bit and is copied, not aliased', () => {
    const src = Float32Array.from([0.5, -0.25, 1.5, -3, Number.MIN_VALUE]);
    const bytes = new Uint8Array(src.buffer);
    const floats = toFloat32(bytes, 'float32');
    expect(Array.from(floats)).toEqual(Array.from(src));
    floats[0] = 9;
    expect(src[0]).toBe(0.5);
    expect(fromFloat32(src, 'float32')).toEqual(bytes);
  });

  it('clips out-of-range floats and maps NaN to zero', () => {
    const out = fromFloat32(Float32Array.from([2, -2, Number.NaN, 1]), 'int16');
    expect(Array.from(new Int16Array(out.buffer))).toEqual([32767, -32768, 0, 32767]);
  });

  it('reads misaligned views correctly', () => {
    const backing = new Uint8Array(9);
    const view = backing.subarray(1);
    view.set(new Uint8Array(Int16Array.from([1000, -1000, 16384, -32768]).buffer));
    expect(Array.from(toFloat32(view, 'int16'))).toEqual([1000 / 32768, -1000 / 32768, 0.5, -1]);
  });
});

describe('convertSampleFormat', () => {
  test.each(SAMPLE_FORMATS.flatMap((from) => SAMPLE_FORMATS.map((to) => [from, to] as const)))(
    '%s -> %s keeps length and a full-scale-ish ramp',
    (from, to) => {
      const ramp = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 64);
      const input = fromFloat32(ramp, from);
      const output = convertSampleFormat(input, from, to);
      expect(output.byteLength).toBe(64 * BYTES_PER_SAMPLE[to]);
      const back = toFloat32(output, to);
      const tolerance = from === 'int8' || to === 'int8' ? 1 / 128 : 1 / 32768;
      for (let i = 0; i < 64; i++) expect(Math.abs(back[i]! - ramp[i]!)).toBeLessThanOrEqual(tolerance);
    },
  );

  it('widens integers exactly (int16 -> int32 -> int16)', () => {
    const bytes = encodeInts([-32768, -1, 0, 1, 32767], 'int16');
    const wide = convertSampleFormat(bytes, 'int16', 'int32');
    expect(Array.from(new Int32Array(wide.buffer))).toEqual([-2147483648, -65536, 0, 65536, 2147418112]);
    expect(convertSampleFormat(wide, 'int32', 'int16')).toEqual(bytes);
  });

  it('rejects data that is not whole samples with a typed error', () => {
    expect(() => convertSampleFormat(new Uint8Array(3), 'int16', 'int8')).toThrow(PcmError);
    expect(() => toFloat32(new Uint8Array(5), 'float32')).toThrow(
      /5 bytes is not a whole number of float32 samples \(4 bytes each\)/,
    );
  });
});

describe('Node Buffers as input', () => {
  it('converts a misaligned Buffer from the shared pool without reading the rest of the pool', () => {
    const bytes = new Uint8Array(Int16Array.from([0, 1000, -1000, 16384, -32768]).buffer).subarray(1);
    const data = Buffer.from(bytes).subarray(1); // a pooled Buffer viewed at an odd offset
    expect(data.buffer.byteLength).toBeGreaterThan(data.byteLength);
    expect(data.byteOffset % 2).toBe(1);
    expect(Array.from(toFloat32(data, 'int16'))).toEqual([1000 / 32768, -1000 / 32768, 0.5, -1]);
    const same = convertSampleFormat(data, 'int16', 'int16');
    expect(same.byteLength).toBe(8);
    same[0] = 99;
    expect(data[0]).not.toBe(99);
  });
});
