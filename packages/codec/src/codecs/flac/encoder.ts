/**
 * Owns writing FLAC: the `fLaC` stream header with STREAMINFO, then one frame per block of
 * 4096 frames (fixed predictors of order 0–4 or a constant, the best of four stereo
 * decorrelations, Rice-coded residuals with a searched partition order), each frame emitted as
 * soon as its block is full. The MD5 of the samples and the frame-size range go into
 * STREAMINFO through `headerPatches()` at the end.
 */
import { createHash, type Hash } from 'node:crypto';
import { BYTES_PER_SAMPLE, fromFloat32, type SampleFormat, shapeProblem, toFloat32 } from '@audex/pcm';
import { WholeFrames } from '../../dsp/_whole-frames.js';
import { CodecError } from '../../errors.js';
import type { Encoder, EncoderOptions, HeaderPatch } from '../../types.js';
import { BitWriter, crc8, crc16 } from './bits.js';

/** Frames per FLAC block (libFLAC's default from level 3 up). */
export const FLAC_BLOCK_FRAMES = 4096;
/** Largest channel count FLAC can code. */
export const FLAC_MAX_CHANNELS = 8;
/** Largest rate STREAMINFO holds (20 bits); frame headers past 655 350 Hz refer to it. */
const FLAC_MAX_RATE = 0xf_ffff;
const MAX_FIXED_ORDER = 4;
const MAX_PARTITION_ORDER = 8;
/** Bytes from the start of the stream to STREAMINFO's body. */
const STREAMINFO_OFFSET = 8;

/** Options of {@link createFlacEncoder}: the common ones, plus an MD5 known in advance. */
export interface FlacEncoderOptions extends EncoderOptions {
  /**
   * MD5 of the samples as FLAC stores them, when known before encoding (a first pass over a
   * spool): then STREAMINFO is complete from the first byte (with `totalFrames`), so an output
   * that cannot seek (an upload) needs no patch. For int8, int16 and int24 input it is the MD5
   * of the PCM bytes written; for int32 and float32, of those samples converted to int24. `end()`
   * throws `INVALID_OPTIONS` when the samples written do not match it (the header would lie).
   */
  md5?: Uint8Array;
}

/** Bits per sample FLAC stores for each input sample format (float32 and int32 are stored as 24-bit). */
export function flacBitsFor(sampleFormat: SampleFormat): 8 | 16 | 24 {
  return sampleFormat === 'int8' ? 8 : sampleFormat === 'int16' ? 16 : 24;
}

function flacError(message: string): CodecError {
  return new CodecError('INVALID_OPTIONS', `flac: ${message}`, { format: 'flac' });
}

/** STREAMINFO's 34 bytes. */
function streamInfo(o: {
  minFrameBytes: number;
  maxFrameBytes: number;
  rate: number;
  channels: number;
  bits: number;
  totalFrames: number;
  md5: Uint8Array | null;
}): Uint8Array {
  const w = new BitWriter(64);
  w.write(FLAC_BLOCK_FRAMES, 16);
  w.write(FLAC_BLOCK_FRAMES, 16);
  w.write(o.minFrameBytes, 24);
  w.write(o.maxFrameBytes, 24);
  w.write(o.rate, 20);
  w.write(o.channels - 1, 3);
  w.write(o.bits - 1, 5);
  w.write(Math.floor(o.totalFrames / 2 ** 32) & 0xf, 4);
  w.writeLong(o.totalFrames >>> 0, 32);
  w.writeBytes(o.md5 ?? new Uint8Array(16));
  return w.bytes.slice(0, 34);
}

const RATE_CODES: Readonly<Record<number, number>> = {
  88200: 1,
  176400: 2,
  192000: 3,
  8000: 4,
  16000: 5,
  22050: 6,
  24000: 7,
  32000: 8,
  44100: 9,
  48000: 10,
  96000: 11,
};
const BITS_CODES: Readonly<Record<number, number>> = { 8: 1, 12: 2, 16: 4, 20: 5, 24: 6 };

/** Zigzag: 0, -1, 1, -2, … → 0, 1, 2, 3, … (residuals fit 31 bits, so this fits 32). */
function fold(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** Sum of |residual| of fixed predictors of order 0..4 over `x[0, n)` (estimates each order's cost). */
function fixedCosts(x: Int32Array, n: number, out: Float64Array): void {
  out.fill(0);
  if (n < 5) {
    out[1] = out[2] = out[3] = out[4] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) out[0]! += Math.abs(x[i]!);
    return;
  }
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let a = x[3]!;
  let b = a - x[2]!;
  let c = b - (x[2]! - x[1]!);
  let d = c - (x[2]! - 2 * x[1]! + x[0]!);
  for (let i = 4; i < n; i++) {
    const e0 = x[i]!;
    const e1 = e0 - a;
    const e2 = e1 - b;
    const e3 = e2 - c;
    const e4 = e3 - d;
    a = e0;
    b = e1;
    c = e2;
    d = e3;
    s0 += e0 < 0 ? -e0 : e0;
    s1 += e1 < 0 ? -e1 : e1;
    s2 += e2 < 0 ? -e2 : e2;
    s3 += e3 < 0 ? -e3 : e3;
    s4 += e4 < 0 ? -e4 : e4;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
  out[4] = s4;
}

function fixedResidual(x: Int32Array, n: number, order: number, out: Int32Array): void {
  switch (order) {
    case 0:
      for (let i = 0; i < n; i++) out[i] = x[i]!;
      break;
    case 1:
      for (let i = 1; i < n; i++) out[i] = x[i]! - x[i - 1]!;
      break;
    case 2:
      for (let i = 2; i < n; i++) out[i] = x[i]! - 2 * x[i - 1]! + x[i - 2]!;
      break;
    case 3:
      for (let i = 3; i < n; i++) out[i] = x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!;
      break;
    default:
      for (let i = 4; i < n; i++) out[i] = x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!;
  }
}

/** Best Rice parameter and its exact bit cost for `count` folded values summing to `sum`… estimated from the sum. */
function riceParam(sum: number, count: number, maxParam: number): number {
  if (count === 0 || sum <= count) return 0;
  const k = Math.floor(Math.log2(sum / count));
  return Math.min(maxParam, Math.max(0, k));
}

/** A reusable subframe coder for one block size. */
class SubframeCoder {
  readonly #residual = new Int32Array(FLAC_BLOCK_FRAMES);
  readonly #folded = new Uint32Array(FLAC_BLOCK_FRAMES);
  readonly #costs = new Float64Array(MAX_FIXED_ORDER + 1);
  readonly #sums = new Float64Array(1 << MAX_PARTITION_ORDER);

  /**
   * The best fixed predictor order of `x[0, n)` and its residual size (sum of |residual|), for
   * choosing a stereo decorrelation; the order is handed back to `write()` so it is not searched twice.
   */
  estimate(x: Int32Array, n: number): { cost: number; order: number } {
    fixedCosts(x, n, this.#costs);
    let order = 0;
    for (let o = 1; o <= MAX_FIXED_ORDER; o++) if (this.#costs[o]! < this.#costs[order]!) order = o;
    return { cost: this.#costs[order]!, order };
  }

  /** Writes the subframe of `x[0, n)` at `bits` bits per sample (`knownOrder`: from `estimate()`). */
  write(w: BitWriter, x: Int32Array, n: number, bits: number, knownOrder?: number): void {
    const first = x[0]!;
    let constant = true;
    for (let i = 1; i < n; i++) {
      if (x[i] !== first) {
        constant = false;
        break;
      }
    }
    if (constant) {
      w.write(0, 8); // pad bit, type 000000 (CONSTANT), no wasted bits
      w.writeLong(first >>> 0, bits);
      return;
    }
    const order = knownOrder ?? this.estimate(x, n).order;
    const residual = this.#residual;
    fixedResidual(x, n, order, residual);
    const folded = this.#folded;
    for (let i = order; i < n; i++) folded[i] = fold(residual[i]!);
    // Partition order: the largest that divides the block with room for the warm-up samples.
    let maxOrder = 0;
    while (maxOrder < MAX_PARTITION_ORDER && n % (2 << maxOrder) === 0 && n >> (maxOrder + 1) > order)
      maxOrder++;
    const parts = 1 << maxOrder;
    const sums = this.#sums;
    const partLen = n >> maxOrder;
    for (let p = 0; p < parts; p++) {
      let s = 0;
      const from = p === 0 ? order : p * partLen;
      const to = (p + 1) * partLen;
      for (let i = from; i < to; i++) s += folded[i]!;
      sums[p] = s;
    }
    // Choose the partition order with the fewest estimated bits (param from each partition's mean).
    const rice2 = bits > 16;
    const paramBits = rice2 ? 5 : 4;
    const maxParam = rice2 ? 30 : 14;
    let bestOrder = 0;
    let bestBits = Number.POSITIVE_INFINITY;
    for (let po = maxOrder; po >= 0; po--) {
      const count = 1 << po;
      const per = 1 << (maxOrder - po);
      const len = n >> po;
      let total = 0;
      for (let p = 0; p < count; p++) {
        let s = 0;
        for (let q = p * per; q < (p + 1) * per; q++) s += sums[q]!;
        const m = p === 0 ? len - order : len;
        const k = riceParam(s, m, maxParam);
        total += paramBits + m * (k + 1) + Math.floor(s / 2 ** k);
      }
      if (total < bestBits) {
        bestBits = total;
        bestOrder = po;
      }
    }
    const verbatimBits = n * bits;
    if (bestBits + order * bits >= verbatimBits) {
      w.write(0b00000010, 8); // VERBATIM
      for (let i = 0; i < n; i++) w.writeLong(x[i]! >>> 0, bits);
      return;
    }
    w.write(0b00010000 | (order << 1), 8); // FIXED, order
    for (let i = 0; i < order; i++) w.writeLong(x[i]! >>> 0, bits);
    w.write(rice2 ? 1 : 0, 2);
    w.write(bestOrder, 4);
    const count = 1 << bestOrder;
    const len = n >> bestOrder;
    for (let p = 0; p < count; p++) {
      const from = p === 0 ? order : p * len;
      const to = (p + 1) * len;
      let s = 0;
      for (let i = from; i < to; i++) s += folded[i]!;
      const k = riceParam(s, to - from, maxParam);
      w.write(k, paramBits);
      const mask = (1 << k) - 1;
      for (let i = from; i < to; i++) {
        const u = folded[i]!;
        const q = u >>> k;
        if (q + 1 + k <= 24) {
          // Unary quotient, stop bit and remainder in one write.
          w.write((1 << k) | (u & mask), q + 1 + k);
        } else {
          w.unary(q);
          if (k > 0) w.writeLong(u & mask, k);
        }
      }
    }
  }
}

/** Converts interleaved input bytes to interleaved integers at the stored bit depth. */
function toInts(pcm: Uint8Array, sampleFormat: SampleFormat): { ints: Int32Array; stored: Uint8Array } {
  switch (sampleFormat) {
    case 'int8':
      return { ints: Int32Array.from(new Int8Array(pcm.buffer, pcm.byteOffset, pcm.length)), stored: pcm };
    case 'int16': {
      const copy = pcm.byteOffset % 2 === 0 ? pcm : pcm.slice();
      return {
        ints: Int32Array.from(new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2)),
        stored: pcm,
      };
    }
    case 'int24': {
      const count = pcm.length / 3;
      const ints = new Int32Array(count);
      for (let i = 0, j = 0; i < count; i++, j += 3)
        ints[i] = ((pcm[j]! | (pcm[j + 1]! << 8) | (pcm[j + 2]! << 16)) << 8) >> 8;
      return { ints, stored: pcm };
    }
    default: {
      // int32 and float32 are stored as 24-bit: quantised once.
      const stored = fromFloat32(toFloat32(pcm, sampleFormat), 'int24');
      return toInts(stored, 'int24');
    }
  }
}

/** Codes one FLAC frame number (UTF-8-like, up to 36 bits). */
function writeFrameNumber(w: BitWriter, value: number): void {
  if (value < 0x80) {
    w.write(value, 8);
    return;
  }
  let bytes = 2;
  while (bytes < 7 && value >= 2 ** (5 * bytes + 1)) bytes++;
  const lead = (0xff00 >> bytes) & 0xff;
  w.write(lead | Math.floor(value / 2 ** (6 * (bytes - 1))), 8);
  for (let i = bytes - 2; i >= 0; i--) w.write(0x80 | (Math.floor(value / 2 ** (6 * i)) & 0x3f), 8);
}

class FlacEncoder implements Encoder {
  readonly #rate: number;
  readonly #channels: number;
  readonly #sampleFormat: SampleFormat;
  readonly #bits: number;
  readonly #totalFrames: number | undefined;
  readonly #frames: WholeFrames;
  readonly #md5: Hash = createHash('md5');
  /** Per channel samples of the block being filled. */
  readonly #block: Int32Array[];
  /** Mid and side of a stereo block. */
  readonly #mid = new Int32Array(FLAC_BLOCK_FRAMES);
  readonly #side = new Int32Array(FLAC_BLOCK_FRAMES);
  readonly #coder = new SubframeCoder();
  readonly #out = new BitWriter();
  #fill = 0;
  #frameNumber = 0;
  #written = 0;
  #minFrameBytes = Number.POSITIVE_INFINITY;
  #maxFrameBytes = 0;
  #headerSent = false;
  #ended = false;
  #md5Digest: Uint8Array | null = null;
  readonly #md5Given: Uint8Array | undefined;

  constructor(options: FlacEncoderOptions) {
    const { rate, channels, sampleFormat, totalFrames, md5 } = options ?? ({} as FlacEncoderOptions);
    if (md5 !== undefined && !(md5 instanceof Uint8Array && md5.length === 16)) {
      throw flacError(
        `md5 must be 16 bytes (a Uint8Array), got ${md5 instanceof Uint8Array ? `${md5.length} bytes` : typeof md5}`,
      );
    }
    this.#md5Given = md5;
    const problem = shapeProblem({ rate, channels, sampleFormat });
    if (problem) throw flacError(problem.message);
    if (channels > FLAC_MAX_CHANNELS) {
      throw flacError(`channels must be 1..${FLAC_MAX_CHANNELS} (FLAC's limit), got ${channels}`);
    }
    if (rate > FLAC_MAX_RATE)
      throw flacError(`rate must be 1..${FLAC_MAX_RATE} Hz (FLAC's limit), got ${rate}`);
    if (
      totalFrames !== undefined &&
      (!Number.isSafeInteger(totalFrames) || totalFrames < 0 || totalFrames >= 2 ** 36)
    ) {
      throw flacError(`totalFrames must be an integer 0..2^36-1, got ${totalFrames}`);
    }
    this.#rate = rate;
    this.#channels = channels;
    this.#sampleFormat = sampleFormat;
    this.#bits = flacBitsFor(sampleFormat);
    this.#totalFrames = totalFrames;
    this.#frames = new WholeFrames(BYTES_PER_SAMPLE[sampleFormat] * channels);
    this.#block = Array.from({ length: channels }, () => new Int32Array(FLAC_BLOCK_FRAMES));
  }

  #header(): Uint8Array {
    const out = new Uint8Array(4 + 4 + 34);
    out.set([0x66, 0x4c, 0x61, 0x43]); // fLaC
    out.set([0x80, 0, 0, 34], 4); // last metadata block, STREAMINFO, 34 bytes
    out.set(
      streamInfo({
        minFrameBytes: 0,
        maxFrameBytes: 0,
        rate: this.#rate,
        channels: this.#channels,
        bits: this.#bits,
        totalFrames: this.#totalFrames ?? 0,
        md5: this.#md5Given ?? null,
      }),
      8,
    );
    return out;
  }

  write(pcm: Uint8Array): Uint8Array {
    if (this.#ended)
      throw new CodecError('ENCODER_ENDED', 'flac encoder written after end()', { format: 'flac' });
    const w = this.#out;
    w.reset();
    if (!this.#headerSent) {
      w.writeBytes(this.#header());
      this.#headerSent = true;
    }
    const whole = this.#frames.take(pcm);
    if (whole.length > 0) {
      const { ints, stored } = toInts(whole, this.#sampleFormat);
      this.#md5.update(stored);
      const channels = this.#channels;
      const frames = ints.length / channels;
      if (this.#totalFrames !== undefined && this.#written + frames > this.#totalFrames) {
        throw flacError(`more than the ${this.#totalFrames} frames declared by totalFrames were written`);
      }
      this.#written += frames;
      let i = 0;
      while (i < frames) {
        const n = Math.min(FLAC_BLOCK_FRAMES - this.#fill, frames - i);
        for (let c = 0; c < channels; c++) {
          const dest = this.#block[c]!;
          for (let k = 0, j = i * channels + c; k < n; k++, j += channels) dest[this.#fill + k] = ints[j]!;
        }
        this.#fill += n;
        i += n;
        if (this.#fill === FLAC_BLOCK_FRAMES) this.#encodeBlock(FLAC_BLOCK_FRAMES);
      }
    }
    return w.bytes.slice(0, w.length);
  }

  end(): Uint8Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'flac encoder ended twice', { format: 'flac' });
    this.#ended = true;
    if (this.#frames.pendingBytes > 0) {
      throw new CodecError(
        'CORRUPT_INPUT',
        `flac input ended with ${this.#frames.pendingBytes} bytes, not a whole frame`,
        { format: 'flac' },
      );
    }
    if (this.#totalFrames !== undefined && this.#written !== this.#totalFrames) {
      throw flacError(
        `${this.#written} frames written but totalFrames declared ${this.#totalFrames}; STREAMINFO is wrong`,
      );
    }
    const w = this.#out;
    w.reset();
    if (!this.#headerSent) {
      w.writeBytes(this.#header());
      this.#headerSent = true;
    }
    if (this.#fill > 0) this.#encodeBlock(this.#fill);
    this.#md5Digest = new Uint8Array(this.#md5.digest());
    if (this.#md5Given && Buffer.compare(this.#md5Given, this.#md5Digest) !== 0) {
      throw flacError('the samples written do not match the md5 given up front; STREAMINFO is wrong');
    }
    return w.bytes.slice(0, w.length);
  }

  headerPatches(): HeaderPatch[] {
    if (!this.#ended || !this.#md5Digest) {
      throw flacError('headerPatches() called before end()');
    }
    return [
      {
        offset: STREAMINFO_OFFSET,
        bytes: streamInfo({
          minFrameBytes: Number.isFinite(this.#minFrameBytes) ? this.#minFrameBytes : 0,
          maxFrameBytes: this.#maxFrameBytes,
          rate: this.#rate,
          channels: this.#channels,
          bits: this.#bits,
          totalFrames: this.#written,
          md5: this.#md5Digest,
        }),
      },
    ];
  }

  #encodeBlock(n: number): void {
    const w = this.#out;
    const start = w.length;
    const bits = this.#bits;
    const channels = this.#channels;
    // Channel assignment: independent, or for stereo the cheapest of left/side, right/side, mid/side.
    let assignment = channels - 1;
    /** Best fixed orders of left, right, mid and side, found while choosing the assignment. */
    const orders: ({ cost: number; order: number } | undefined)[] = [];
    if (channels === 2) {
      const left = this.#block[0]!;
      const right = this.#block[1]!;
      const mid = this.#mid;
      const side = this.#side;
      for (let i = 0; i < n; i++) {
        mid[i] = (left[i]! + right[i]!) >> 1;
        side[i] = left[i]! - right[i]!;
      }
      orders[0] = this.#coder.estimate(left, n);
      orders[1] = this.#coder.estimate(right, n);
      orders[2] = this.#coder.estimate(mid, n);
      orders[3] = this.#coder.estimate(side, n);
      const [l, r, m, s] = orders.map((o) => o!.cost) as [number, number, number, number];
      const options = [l + r, l + s, r + s, m + s];
      const best = options.indexOf(Math.min(...options));
      assignment = best === 0 ? 1 : 7 + best;
    }
    // Frame header.
    w.write(0xfff8, 16);
    const blockCode = n === FLAC_BLOCK_FRAMES ? 12 : n <= 256 ? 6 : 7;
    const rateCode =
      RATE_CODES[this.#rate] ??
      (this.#rate % 1000 === 0 && this.#rate / 1000 <= 255
        ? 12
        : this.#rate <= 0xffff
          ? 13
          : this.#rate % 10 === 0 && this.#rate / 10 <= 0xffff
            ? 14
            : 0);
    w.write(blockCode, 4);
    w.write(rateCode, 4);
    w.write(assignment, 4);
    w.write(BITS_CODES[bits]!, 3);
    w.write(0, 1);
    writeFrameNumber(w, this.#frameNumber++);
    if (blockCode === 6) w.write(n - 1, 8);
    else if (blockCode === 7) w.write(n - 1, 16);
    if (rateCode === 12) w.write(this.#rate / 1000, 8);
    else if (rateCode === 13) w.write(this.#rate, 16);
    else if (rateCode === 14) w.write(this.#rate / 10, 16);
    w.write(crc8(w.bytes, start, w.length), 8);
    // Subframes.
    const coder = this.#coder;
    switch (assignment) {
      case 8: // left/side
        coder.write(w, this.#block[0]!, n, bits, orders[0]?.order);
        coder.write(w, this.#side, n, bits + 1, orders[3]?.order);
        break;
      case 9: // right/side: side first
        coder.write(w, this.#side, n, bits + 1, orders[3]?.order);
        coder.write(w, this.#block[1]!, n, bits, orders[1]?.order);
        break;
      case 10: // mid/side
        coder.write(w, this.#mid, n, bits, orders[2]?.order);
        coder.write(w, this.#side, n, bits + 1, orders[3]?.order);
        break;
      default:
        for (let c = 0; c < channels; c++) coder.write(w, this.#block[c]!, n, bits, orders[c]?.order);
    }
    w.align();
    w.write(crc16(w.bytes, start, w.length), 16);
    const frameBytes = w.length - start;
    if (frameBytes < this.#minFrameBytes) this.#minFrameBytes = frameBytes;
    if (frameBytes > this.#maxFrameBytes) this.#maxFrameBytes = frameBytes;
    this.#fill = 0;
  }
}

/**
 * Creates a streaming FLAC encoder: 8-bit (int8), 16-bit (int16) or 24-bit (int24; int32 and
 * float32 are quantised to 24 bits) at any rate audex supports (STREAMINFO holds up to 1 048 575 Hz), 1–8 channels. Each `write()`
 * returns the frames of the blocks it completed; `end()` the last, shorter block. With
 * `totalFrames` STREAMINFO carries the total sample count from the first byte; the MD5 and
 * frame sizes are known only at the end: `headerPatches()` rewrites STREAMINFO with them (and
 * the count, when it was not given) for a seekable output, unless `md5` was given up front.
 * @throws {CodecError} `INVALID_OPTIONS` naming the bad value.
 */
export function createFlacEncoder(options: FlacEncoderOptions): Encoder {
  return new FlacEncoder(options);
}
