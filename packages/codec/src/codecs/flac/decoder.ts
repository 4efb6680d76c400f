/**
 * Owns reading FLAC as a stream: the `fLaC` header and STREAMINFO, then frame after frame as the
 * bytes arrive (every subframe type, LPC included, wasted bits, the four channel assignments,
 * fixed or variable block sizes), each frame checked by its CRCs. Damage is a `CORRUPT_INPUT`
 * error, never a crash or a hang.
 */
import { concatBytes, type SampleFormat } from '@audex/pcm';
import { CodecError } from '../../errors.js';
import type { StreamDecoder, StreamInfo } from '../../types.js';
import { BitReader, crc8, crc16, NEED_MORE } from './bits.js';

function corrupt(message: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `flac: ${message}`, { format: 'flac' });
}

const RATES = [0, 88_200, 176_400, 192_000, 8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000];
const BITS = [0, 8, 12, 0, 16, 20, 24, 32];

/** The PCM sample format a FLAC bit depth is returned in. */
export function sampleFormatForBits(bits: number): SampleFormat {
  return bits <= 8 ? 'int8' : bits <= 16 ? 'int16' : bits <= 24 ? 'int24' : 'int32';
}

interface StreamParams {
  rate: number;
  channels: number;
  bits: number;
  totalFrames: number;
  maxBlock: number;
}

/** Decodes one subframe into `out[0, n)`. */
function readSubframe(r: BitReader, out: Int32Array | Float64Array, n: number, bitsIn: number): void {
  if (r.read(1) !== 0) throw corrupt('subframe padding bit is set');
  const type = r.read(6);
  let wasted = 0;
  if (r.read(1) === 1) wasted = r.unary() + 1;
  const bits = bitsIn - wasted;
  if (bits < 1) throw corrupt(`subframe has ${wasted} wasted bits of ${bitsIn}`);
  if (type === 0) {
    const v = r.readSigned(bits);
    for (let i = 0; i < n; i++) out[i] = v;
  } else if (type === 1) {
    for (let i = 0; i < n; i++) out[i] = r.readSigned(bits);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    if (order > n) throw corrupt(`fixed predictor order ${order} exceeds the block of ${n}`);
    for (let i = 0; i < order; i++) out[i] = r.readSigned(bits);
    readResidual(r, out, n, order);
    restoreFixed(out, n, order);
  } else if (type >= 32) {
    const order = type - 31;
    if (order > n) throw corrupt(`LPC order ${order} exceeds the block of ${n}`);
    for (let i = 0; i < order; i++) out[i] = r.readSigned(bits);
    const precision = r.read(4) + 1;
    if (precision === 16) throw corrupt('LPC coefficient precision 0b1111 is invalid');
    const shift = r.readSigned(5);
    if (shift < 0) throw corrupt(`negative LPC shift ${shift}`);
    const coefs = new Array<number>(order);
    for (let i = 0; i < order; i++) coefs[i] = r.readSigned(precision);
    readResidual(r, out, n, order);
    const div = 2 ** shift;
    for (let i = order; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < order; j++) sum += coefs[j]! * out[i - j - 1]!;
      out[i] = out[i]! + Math.floor(sum / div);
    }
  } else {
    throw corrupt(`reserved subframe type ${type}`);
  }
  if (wasted > 0) {
    const mul = 2 ** wasted;
    for (let i = 0; i < n; i++) out[i] = out[i]! * mul;
  }
}

function readResidual(r: BitReader, out: Int32Array | Float64Array, n: number, order: number): void {
  const method = r.read(2);
  if (method > 1) throw corrupt(`reserved residual coding method ${method}`);
  const paramBits = method === 0 ? 4 : 5;
  const escapeCode = method === 0 ? 15 : 31;
  const partitionOrder = r.read(4);
  const partitions = 1 << partitionOrder;
  const len = n >> partitionOrder;
  if (n % partitions !== 0 || len < order) {
    throw corrupt(
      `residual partition order ${partitionOrder} does not fit a block of ${n} with predictor order ${order}`,
    );
  }
  let i = order;
  for (let p = 0; p < partitions; p++) {
    const end = (p + 1) * len;
    const k = r.read(paramBits);
    if (k === escapeCode) {
      const raw = r.read(5);
      for (; i < end; i++) out[i] = r.readSigned(raw);
    } else {
      const scale = 2 ** k;
      for (; i < end; i++) {
        const u = r.unary() * scale + r.read(k);
        out[i] = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      }
    }
  }
}

function restoreFixed(x: Int32Array | Float64Array, n: number, order: number): void {
  switch (order) {
    case 0:
      break;
    case 1:
      for (let i = 1; i < n; i++) x[i] = x[i]! + x[i - 1]!;
      break;
    case 2:
      for (let i = 2; i < n; i++) x[i] = x[i]! + 2 * x[i - 1]! - x[i - 2]!;
      break;
    case 3:
      for (let i = 3; i < n; i++) x[i] = x[i]! + 3 * x[i - 1]! - 3 * x[i - 2]! + x[i - 3]!;
      break;
    default:
      for (let i = 4; i < n; i++) x[i] = x[i]! + 4 * x[i - 1]! - 6 * x[i - 2]! + 4 * x[i - 3]! - x[i - 4]!;
  }
}

/** Reads the UTF-8-like coded frame or sample number. */
function readCodedNumber(r: BitReader): number {
  const first = r.read(8);
  if (first < 0x80) return first;
  let extra = 0;
  let mask = 0x40;
  while (first & mask) {
    extra++;
    mask >>= 1;
  }
  if (extra === 0 || extra > 6) throw corrupt(`bad coded frame number byte 0x${first.toString(16)}`);
  let value = first & (mask - 1);
  for (let i = 0; i < extra; i++) {
    const b = r.read(8);
    if ((b & 0xc0) !== 0x80) throw corrupt('bad continuation byte in the coded frame number');
    value = value * 64 + (b & 0x3f);
  }
  return value;
}

class FlacStreamDecoder implements StreamDecoder {
  /** Bytes not decoded yet: `#data[0, #length)` (grown by doubling, so tiny writes stay linear). */
  #data = new Uint8Array(1 << 16);
  #length = 0;
  /** Where to look for the next frame's sync code (before it nothing needs scanning again). */
  #scanFrom = 0;
  #params: StreamParams | null = null;
  #info: StreamInfo | null = null;
  #decoded = 0;
  #ended = false;
  /** Per channel sample buffers, grown to the largest block seen. */
  #chans: Float64Array[] = [];

  get info(): StreamInfo | null {
    return this.#info;
  }

  write(bytes: Uint8Array): Uint8Array {
    if (this.#ended)
      throw new CodecError('ENCODER_ENDED', 'flac decoder written after end()', { format: 'flac' });
    if (this.#length + bytes.length > this.#data.length) {
      const grown = new Uint8Array(Math.max(this.#data.length * 2, this.#length + bytes.length));
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#length);
    this.#length += bytes.length;
    return this.#drain(false);
  }

  end(): Uint8Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'flac decoder ended twice', { format: 'flac' });
    this.#ended = true;
    const pcm = this.#drain(true);
    if (!this.#params) throw corrupt(`stream ended after ${this.#length} bytes, inside the header`);
    if (this.#length > 0) {
      throw corrupt(`stream ended inside a frame (${this.#length} bytes left; truncated)`);
    }
    const total = this.#params.totalFrames;
    if (total > 0 && this.#decoded !== total) {
      throw corrupt(`STREAMINFO declares ${total} frames but the stream holds ${this.#decoded} (truncated?)`);
    }
    return pcm;
  }

  /** Offset of the next frame sync code (0xFFF8/0xFFF9) at or after `from`, or -1. */
  #nextSync(from: number): number {
    const b = this.#data;
    for (let i = from; i + 1 < this.#length; i++) {
      if (b[i] === 0xff && (b[i + 1]! & 0xfe) === 0xf8) return i;
    }
    return -1;
  }

  /**
   * Decodes every frame that is complete. Before the end of the stream a frame is only tried once
   * the next frame's sync code has arrived (or a false one inside this frame's data), so data
   * written in tiny pieces is not decoded over and over.
   */
  #drain(final: boolean): Uint8Array {
    const bytes = this.#data.subarray(0, this.#length);
    let at = 0;
    const outputs: Uint8Array[] = [];
    try {
      if (!this.#params) at = this.#readHeader(bytes);
      while (at < bytes.length) {
        if (!final) {
          const sync = this.#nextSync(Math.max(at + 2, this.#scanFrom));
          if (sync === -1) {
            this.#scanFrom = Math.max(at + 2, this.#length - 1);
            throw NEED_MORE;
          }
          this.#scanFrom = sync + 1;
        }
        const { next, pcm } = this.#readFrame(bytes, at);
        at = next;
        this.#scanFrom = 0;
        outputs.push(pcm);
      }
    } catch (error) {
      if (error !== NEED_MORE) throw error;
      // A false sync inside the frame: keep scanning from after it next time.
    }
    if (at > 0) {
      this.#data.copyWithin(0, at, this.#length);
      this.#length -= at;
      this.#scanFrom = Math.max(0, this.#scanFrom - at);
    }
    const params = this.#params;
    if (params) {
      // A frame is never much larger than its samples stored verbatim: more bytes without a
      // whole frame are damage, not a frame still arriving.
      const bound = 64 + params.channels * Math.ceil((params.maxBlock * (params.bits + 1)) / 8) * 2;
      if (this.#length > bound) {
        throw corrupt(`no complete frame in ${this.#length} bytes (a frame is at most ${bound})`);
      }
    } else if (this.#length > 16 * 1024 * 1024) {
      throw corrupt('metadata larger than 16 MiB before the first frame');
    }
    if (outputs.length === 1) return outputs[0]!;
    return concatBytes(outputs);
  }

  /** Parses `fLaC` and the metadata blocks; returns the offset of the first frame. */
  #readHeader(b: Uint8Array): number {
    const r = new BitReader(b);
    if (r.read(32) !== 0x664c6143) {
      throw corrupt(
        `not a FLAC stream: it starts with ${JSON.stringify(String.fromCharCode(...b.subarray(0, 4)))}, not "fLaC"`,
      );
    }
    let params: StreamParams | null = null;
    for (;;) {
      const last = r.read(1);
      const type = r.read(7);
      const length = r.read(24);
      const body = r.bytePos;
      if (body + length > b.length) throw NEED_MORE;
      if (params === null && type !== 0) throw corrupt('the first metadata block is not STREAMINFO');
      if (type === 0) {
        if (length < 34) throw corrupt(`STREAMINFO of ${length} bytes is shorter than 34`);
        const minBlock = r.read(16);
        const maxBlock = r.read(16);
        r.read(24);
        r.read(24);
        const rate = r.read(20);
        const channels = r.read(3) + 1;
        const bits = r.read(5) + 1;
        const totalFrames = r.read(4) * 2 ** 32 + r.read(32);
        if (rate === 0) throw corrupt('STREAMINFO declares a sample rate of 0');
        if (bits < 4) throw corrupt(`STREAMINFO declares ${bits} bits per sample (4..32 allowed)`);
        if (maxBlock < 16 || minBlock < 16 || minBlock > maxBlock) {
          throw corrupt(`STREAMINFO block sizes ${minBlock}..${maxBlock} are invalid (16..65535, min ≤ max)`);
        }
        params = { rate, channels, bits, totalFrames, maxBlock };
      } else if (type === 127) {
        throw corrupt('metadata block type 127 is invalid');
      }
      r.pos = (body + length) * 8;
      if (last) break;
    }
    if (!params) throw corrupt('no STREAMINFO block');
    this.#params = params;
    this.#info = {
      shape: { rate: params.rate, channels: params.channels, sampleFormat: sampleFormatForBits(params.bits) },
      frames: params.totalFrames > 0 ? params.totalFrames : undefined,
    };
    return r.bytePos;
  }

  /** Decodes the frame at byte `at`; returns its PCM and the next frame's offset. */
  #readFrame(b: Uint8Array, at: number): { next: number; pcm: Uint8Array } {
    const params = this.#params!;
    const r = new BitReader(b, at);
    const sync = r.read(15);
    if (sync !== 0x7ffc) throw corrupt(`no frame sync at byte ${at} (0x${sync.toString(16)})`);
    r.read(1); // blocking strategy: the numbers are not needed to decode
    const blockCode = r.read(4);
    const rateCode = r.read(4);
    const assignment = r.read(4);
    const bitsCode = r.read(3);
    if (r.read(1) !== 0) throw corrupt(`reserved frame header bit set at byte ${at}`);
    readCodedNumber(r);
    let n: number;
    if (blockCode === 0) throw corrupt(`reserved block size code 0 at byte ${at}`);
    else if (blockCode === 1) n = 192;
    else if (blockCode <= 5) n = 576 * 2 ** (blockCode - 2);
    else if (blockCode === 6) n = r.read(8) + 1;
    else if (blockCode === 7) n = r.read(16) + 1;
    else n = 256 * 2 ** (blockCode - 8);
    let rate = params.rate;
    if (rateCode >= 1 && rateCode <= 11) rate = RATES[rateCode]!;
    else if (rateCode === 12) rate = r.read(8) * 1000;
    else if (rateCode === 13) rate = r.read(16);
    else if (rateCode === 14) rate = r.read(16) * 10;
    else if (rateCode === 15) throw corrupt(`invalid sample rate code at byte ${at}`);
    const bits = bitsCode === 0 ? params.bits : BITS[bitsCode]!;
    if (bits === 0) throw corrupt(`reserved sample size code ${bitsCode} at byte ${at}`);
    const headerEnd = r.bytePos;
    const crc = r.read(8);
    if (crc !== crc8(b, at, headerEnd)) throw corrupt(`frame header CRC mismatch at byte ${at}`);
    if (rate !== params.rate || bits !== params.bits) {
      throw corrupt(`frame at byte ${at} changes the stream to ${rate} Hz/${bits} bits`);
    }
    const channels = assignment <= 7 ? assignment + 1 : assignment <= 10 ? 2 : 0;
    if (channels === 0) throw corrupt(`reserved channel assignment ${assignment} at byte ${at}`);
    if (channels !== params.channels) {
      throw corrupt(`frame at byte ${at} has ${channels} channels, STREAMINFO ${params.channels}`);
    }
    if (n > params.maxBlock)
      throw corrupt(`block of ${n} frames at byte ${at} exceeds STREAMINFO's ${params.maxBlock}`);
    while (this.#chans.length < channels) this.#chans.push(new Float64Array(0));
    for (let c = 0; c < channels; c++) if (this.#chans[c]!.length < n) this.#chans[c] = new Float64Array(n);
    const ch = this.#chans;
    for (let c = 0; c < channels; c++) {
      const sideBits =
        (assignment === 8 && c === 1) || (assignment === 9 && c === 0) || (assignment === 10 && c === 1);
      readSubframe(r, ch[c]!, n, bits + (sideBits ? 1 : 0));
    }
    r.align();
    const frameEnd = r.bytePos;
    const footer = r.read(16);
    if (footer !== crc16(b, at, frameEnd)) throw corrupt(`frame CRC mismatch at byte ${at}`);
    if (assignment >= 8) {
      const a = ch[0]!;
      const s = ch[1]!;
      for (let i = 0; i < n; i++) {
        if (assignment === 8) s[i] = a[i]! - s[i]!;
        else if (assignment === 9) a[i] = a[i]! + s[i]!;
        else {
          const side = s[i]!;
          const mid = a[i]! * 2 + (side & 1);
          a[i] = (mid + side) / 2;
          s[i] = (mid - side) / 2;
        }
      }
    }
    const { totalFrames } = params;
    if (totalFrames > 0 && this.#decoded + n > totalFrames) {
      throw corrupt(`the stream holds more frames than the ${totalFrames} STREAMINFO declares`);
    }
    this.#decoded += n;
    return { next: frameEnd + 2, pcm: this.#pack(n, channels, bits) };
  }

  #pack(n: number, channels: number, bits: number): Uint8Array {
    const format = sampleFormatForBits(bits);
    const ch = this.#chans;
    const limit = 2 ** (bits - 1);
    for (let c = 0; c < channels; c++) {
      const x = ch[c]!;
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= limit || v < -limit) throw corrupt(`decoded sample ${v} does not fit ${bits} bits`);
      }
    }
    switch (format) {
      case 'int8': {
        const out = new Int8Array(n * channels);
        for (let c = 0; c < channels; c++)
          for (let i = 0, j = c; i < n; i++, j += channels) out[j] = ch[c]![i]!;
        return new Uint8Array(out.buffer);
      }
      case 'int16': {
        const out = new Int16Array(n * channels);
        for (let c = 0; c < channels; c++)
          for (let i = 0, j = c; i < n; i++, j += channels) out[j] = ch[c]![i]!;
        return new Uint8Array(out.buffer);
      }
      case 'int24': {
        const out = new Uint8Array(n * channels * 3);
        for (let c = 0; c < channels; c++) {
          const x = ch[c]!;
          for (let i = 0, j = c * 3; i < n; i++, j += channels * 3) {
            const v = x[i]!;
            out[j] = v & 0xff;
            out[j + 1] = (v >> 8) & 0xff;
            out[j + 2] = (v >> 16) & 0xff;
          }
        }
        return out;
      }
      default: {
        const out = new Int32Array(n * channels);
        for (let c = 0; c < channels; c++)
          for (let i = 0, j = c; i < n; i++, j += channels) out[j] = ch[c]![i]!;
        return new Uint8Array(out.buffer);
      }
    }
  }
}

/**
 * Creates a streaming FLAC decoder: PCM in the stream's bit depth (int8, int16, int24 or int32),
 * frame by frame as bytes arrive; it holds at most one partial frame.
 */
export function createFlacDecoder(): StreamDecoder {
  return new FlacStreamDecoder();
}
