import { PcmError } from './errors.js';
import { BYTES_PER_SAMPLE, type SampleFormat } from './types.js';

/** Full-scale value of each integer format: a sample `s` means `s / SCALE` in [-1, 1). */
const SCALE: Readonly<Record<Exclude<SampleFormat, 'float32'>, number>> = {
  int8: 0x80,
  int16: 0x8000,
  int24: 0x80_0000,
  int32: 0x8000_0000,
};

/** Bytes one interleaved frame (one sample per channel) takes. */
export function bytesPerFrame(format: SampleFormat, channels: number): number {
  return BYTES_PER_SAMPLE[format] * channels;
}

function checkLength(data: Uint8Array, format: SampleFormat): number {
  const width = BYTES_PER_SAMPLE[format];
  if (data.byteLength % width !== 0) {
    throw new PcmError(
      'INVALID_DATA',
      `${data.byteLength} bytes is not a whole number of ${format} samples (${width} bytes each)`,
    );
  }
  return data.byteLength / width;
}

/** A typed view over `data` when it is aligned, otherwise over an aligned copy. */
function aligned<T>(
  data: Uint8Array,
  width: number,
  make: (buffer: ArrayBufferLike, offset: number, length: number) => T,
): T {
  const length = data.byteLength / width;
  if (data.byteOffset % width === 0) return make(data.buffer, data.byteOffset, length);
  // Uint8Array.from, not data.slice(): a Node Buffer's slice() is a view over its shared pool.
  const copy = new Uint8Array(data);
  return make(copy.buffer, 0, length);
}

/**
 * Unpacks little-endian 24-bit samples (3 bytes each) into sign-extended 32-bit integers.
 * @throws {PcmError} `INVALID_DATA` when the length is not a multiple of 3.
 */
export function unpackInt24(data: Uint8Array): Int32Array {
  const count = checkLength(data, 'int24');
  const out = new Int32Array(count);
  for (let i = 0, j = 0; i < count; i++, j += 3) {
    // Shift the top byte into place then arithmetic-shift back: sign extension without a branch.
    out[i] = ((data[j]! | (data[j + 1]! << 8) | (data[j + 2]! << 16)) << 8) >> 8;
  }
  return out;
}

/** Packs 32-bit integers holding 24-bit values into 3 little-endian bytes each (top byte dropped). */
export function packInt24(samples: Int32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 3);
  for (let i = 0, j = 0; i < samples.length; i++, j += 3) {
    const s = samples[i]!;
    out[j] = s & 0xff;
    out[j + 1] = (s >> 8) & 0xff;
    out[j + 2] = (s >> 16) & 0xff;
  }
  return out;
}

/**
 * Converts interleaved samples to float32 in [-1, 1). Integer `s` becomes `s / 2^(bits-1)`,
 * exact for int8, int16 and int24; int32 keeps float32's 24-bit precision.
 * @throws {PcmError} `INVALID_DATA` when the byte length does not fit the format.
 */
export function toFloat32(data: Uint8Array, format: SampleFormat): Float32Array {
  const count = checkLength(data, format);
  switch (format) {
    case 'float32':
      return aligned(data, 4, (b, o, n) => new Float32Array(b, o, n)).slice();
    case 'int24': {
      const ints = unpackInt24(data);
      const out = new Float32Array(count);
      const k = 1 / SCALE.int24;
      for (let i = 0; i < count; i++) out[i] = ints[i]! * k;
      return out;
    }
    default: {
      const view =
        format === 'int8'
          ? new Int8Array(data.buffer, data.byteOffset, count)
          : format === 'int16'
            ? aligned(data, 2, (b, o, n) => new Int16Array(b, o, n))
            : aligned(data, 4, (b, o, n) => new Int32Array(b, o, n));
      const out = new Float32Array(count);
      const k = 1 / SCALE[format];
      for (let i = 0; i < count; i++) out[i] = view[i]! * k;
      return out;
    }
  }
}

/**
 * Converts float samples to interleaved bytes in `format`: scaled, rounded to nearest and clipped
 * to the format's range. NaN becomes 0. Float32 output is copied unclipped.
 */
export function fromFloat32(samples: Float32Array, format: SampleFormat): Uint8Array {
  const count = samples.length;
  if (format === 'float32') {
    return new Uint8Array(samples.slice().buffer);
  }
  const scale = SCALE[format];
  const max = scale - 1;
  const min = -scale;
  const quantise = (x: number): number => {
    const v = Math.round(x * scale);
    return v > max ? max : v < min ? min : v || 0;
  };
  switch (format) {
    case 'int8': {
      const out = new Int8Array(count);
      for (let i = 0; i < count; i++) out[i] = quantise(samples[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = quantise(samples[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'int24': {
      const ints = new Int32Array(count);
      for (let i = 0; i < count; i++) ints[i] = quantise(samples[i]!);
      return packInt24(ints);
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = quantise(samples[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

/**
 * Converts interleaved samples between formats. Widening integer conversions
 * (int8 → int16 → int24 → int32) and any conversion to float32 from int8/16/24 are exact;
 * narrowing rounds to nearest.
 */
export function convertSampleFormat(data: Uint8Array, from: SampleFormat, to: SampleFormat): Uint8Array {
  if (from === to) {
    checkLength(data, from);
    return new Uint8Array(data);
  }
  if (from !== 'float32' && to !== 'float32') {
    return convertIntegers(data, from, to);
  }
  return fromFloat32(toFloat32(data, from), to);
}

function readIntegers(data: Uint8Array, format: Exclude<SampleFormat, 'float32'>): ArrayLike<number> {
  const count = checkLength(data, format);
  switch (format) {
    case 'int8':
      return new Int8Array(data.buffer, data.byteOffset, count);
    case 'int16':
      return aligned(data, 2, (b, o, n) => new Int16Array(b, o, n));
    case 'int24':
      return unpackInt24(data);
    case 'int32':
      return aligned(data, 4, (b, o, n) => new Int32Array(b, o, n));
  }
}

/** Integer to integer by exact power-of-two scaling (double precision keeps int32 exact). */
function convertIntegers(
  data: Uint8Array,
  from: Exclude<SampleFormat, 'float32'>,
  to: Exclude<SampleFormat, 'float32'>,
): Uint8Array {
  const input = readIntegers(data, from);
  const ratio = SCALE[to] / SCALE[from];
  const max = SCALE[to] - 1;
  const count = input.length;
  const ints =
    to === 'int8' ? new Int8Array(count) : to === 'int16' ? new Int16Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = Math.round(input[i]! * ratio);
    ints[i] = Math.min(v, max);
  }
  return to === 'int24' ? packInt24(ints as Int32Array) : new Uint8Array(ints.buffer);
}
