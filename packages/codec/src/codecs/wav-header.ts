import { BYTES_PER_SAMPLE, type SampleFormat, shapeProblem } from '@audex/pcm';
import { CodecError } from '../errors.js';

/** What a WAV header describes. */
export interface WavHeaderOptions {
  /** Sample rate in Hz, an integer in 1..4294967295. */
  rate: number;
  /** Interleaved channels, 1..65535. */
  channels: number;
  /**
   * Sample format of the data. `int8` is stored as WAV's 8-bit unsigned PCM (the encoder offsets
   * each sample by 128); the others are stored as they are.
   */
  sampleFormat: SampleFormat;
  /**
   * Frames the data chunk will hold. When given, every size is exact (RF64 with a `ds64` chunk
   * beyond 4 GiB). When omitted, the header is a streaming one: RIFF and data sizes 0xFFFFFFFF
   * ("until the end of the file", read so by ffmpeg, sox and this package's decoder) and a
   * 28-byte `JUNK` chunk that {@link finalizeWavFile} turns into `ds64` if the file ends up
   * beyond 4 GiB.
   */
  frames?: number;
}

/** A parsed WAV header: where the samples are and what they are. */
export interface WavInfo {
  /** `'RIFF'` or `'RF64'`. */
  container: 'RIFF' | 'RF64';
  /** Sample rate in Hz. */
  rate: number;
  /** Interleaved channels. */
  channels: number;
  /** Sample format the data decodes to (8-bit unsigned WAV data is reported as `int8`). */
  sampleFormat: SampleFormat | 'float64';
  /** Bits per sample in the file. */
  bitsPerSample: number;
  /** Bytes per frame (`blockAlign`). */
  blockAlign: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /**
   * Bytes of sample data the header declares, or `null` for a streaming header (size
   * 0xFFFFFFFF or 0: data runs to the end of the file).
   */
  dataBytes: number | null;
  /** Byte offset of the 32-bit data size field, for patching. */
  dataSizeOffset: number;
  /** Byte offset of the `JUNK` or `ds64` chunk header reserved for RF64, or `null`. */
  ds64Offset: number | null;
}

/** Largest size a 32-bit RIFF field holds; bigger files become RF64. */
export const RIFF_MAX = 0xffff_ffff;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** The tail shared by the KSDATAFORMAT_SUBTYPE GUIDs (PCM and IEEE float differ in the first 2 bytes). */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** Speaker masks for the usual layouts (WAVEFORMATEXTENSIBLE dwChannelMask). */
const CHANNEL_MASKS: Readonly<Record<number, number>> = {
  1: 0x4,
  2: 0x3,
  3: 0x7,
  4: 0x33,
  5: 0x37,
  6: 0x3f,
  7: 0x13f,
  8: 0x63f,
};

function bitsOf(format: SampleFormat): number {
  return BYTES_PER_SAMPLE[format] * 8;
}

/**
 * Whether a layout needs WAVE_FORMAT_EXTENSIBLE: Microsoft requires it for more than two channels
 * or integer samples wider than 16 bits. 8/16-bit PCM and float32 in mono or stereo keep their
 * plain tags (1 and 3), the most widely read forms (wavefile, for one, reads extensible float as
 * integers).
 */
function isExtensible(format: SampleFormat, channels: number): boolean {
  return channels > 2 || (format !== 'float32' && bitsOf(format) > 16);
}

function checkHeaderOptions(o: WavHeaderOptions): void {
  const problem = shapeProblem(o);
  if (problem) throw new CodecError('INVALID_OPTIONS', `WAV ${problem.message}`, { format: 'wav' });
  if (o.frames !== undefined && (!Number.isSafeInteger(o.frames) || o.frames < 0)) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `WAV frames must be a non-negative safe integer, got ${o.frames}`,
      {
        format: 'wav',
      },
    );
  }
}

/**
 * Encodes a WAV header to put before raw sample data (the recorder streams a stored recording
 * this way). With `frames` the sizes are exact and a file whose RIFF size would pass 4 GiB gets
 * an RF64 header (`RF64` + `ds64`, EBU Tech 3306). Without `frames` it is a streaming header
 * (see {@link WavHeaderOptions.frames}). The data that follows must be little-endian samples in
 * `sampleFormat`, `int8` offset to unsigned, and padded with one zero byte when its length is odd.
 * @throws {CodecError} `INVALID_OPTIONS` for a bad rate, channel count, format or frame count.
 */
export function encodeWavHeader(options: WavHeaderOptions): Uint8Array {
  checkHeaderOptions(options);
  const { rate, channels, sampleFormat, frames } = options;
  const bits = bitsOf(sampleFormat);
  const blockAlign = (bits / 8) * channels;
  const extensible = isExtensible(sampleFormat, channels);
  const fmtSize = extensible ? 40 : 16;
  const dataBytes = frames === undefined ? undefined : frames * blockAlign;
  const pad = dataBytes !== undefined && dataBytes % 2 === 1 ? 1 : 0;
  const baseLength = 12 + 8 + fmtSize + 8;
  const riffSize = dataBytes === undefined ? undefined : baseLength - 8 + dataBytes + pad;
  const rf64 = riffSize !== undefined && riffSize > RIFF_MAX;
  // ds64 for RF64, or a JUNK placeholder of the same size for a streaming header.
  const reserve = rf64 || frames === undefined ? 36 : 0;
  const header = new Uint8Array(baseLength + reserve);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < 4; i++) header[offset + i] = text.charCodeAt(i);
  };
  let p = 0;
  ascii(p, rf64 ? 'RF64' : 'RIFF');
  view.setUint32(p + 4, riffSize === undefined || rf64 ? RIFF_MAX : riffSize + reserve, true);
  ascii(p + 8, 'WAVE');
  p = 12;
  if (reserve) {
    ascii(p, rf64 ? 'ds64' : 'JUNK');
    view.setUint32(p + 4, 28, true);
    if (rf64) {
      setUint64(view, p + 8, riffSize! + reserve);
      setUint64(view, p + 16, dataBytes!);
      setUint64(view, p + 24, frames!);
      // p + 32: table length 0.
    }
    p += 36;
  }
  ascii(p, 'fmt ');
  view.setUint32(p + 4, fmtSize, true);
  view.setUint16(
    p + 8,
    extensible ? FORMAT_EXTENSIBLE : sampleFormat === 'float32' ? FORMAT_FLOAT : FORMAT_PCM,
    true,
  );
  view.setUint16(p + 10, channels, true);
  view.setUint32(p + 12, rate, true);
  view.setUint32(p + 16, rate * blockAlign, true);
  view.setUint16(p + 20, blockAlign, true);
  view.setUint16(p + 22, bits, true);
  if (extensible) {
    view.setUint16(p + 24, 22, true);
    view.setUint16(p + 26, bits, true);
    view.setUint32(p + 28, CHANNEL_MASKS[channels] ?? 0, true);
    view.setUint16(p + 32, sampleFormat === 'float32' ? FORMAT_FLOAT : FORMAT_PCM, true);
    header.set(GUID_TAIL, p + 34);
  }
  p += 8 + fmtSize;
  ascii(p, 'data');
  view.setUint32(p + 4, dataBytes === undefined || rf64 ? RIFF_MAX : dataBytes, true);
  return header;
}

function setUint64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

function getUint64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

function corrupt(message: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `WAV: ${message}`, { format: 'wav' });
}

function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/**
 * Parses a RIFF/WAVE or RF64 header from the start of a file (the first few kilobytes are
 * enough unless large chunks precede `data`). Reads PCM (8-bit unsigned, 16/24/32-bit signed),
 * IEEE float (32/64-bit) and their WAVE_FORMAT_EXTENSIBLE forms.
 * @throws {CodecError} `CORRUPT_INPUT` when the bytes are not such a WAV header, are cut short
 * before the data chunk, or describe an unsupported encoding.
 */
export function parseWavHeader(bytes: Uint8Array): WavInfo {
  if (bytes.length < 12) throw corrupt(`${bytes.length} bytes is too short for a RIFF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = fourcc(bytes, 0);
  if ((magic !== 'RIFF' && magic !== 'RF64') || fourcc(bytes, 8) !== 'WAVE') {
    throw corrupt(
      `expected "RIFF" or "RF64" then "WAVE", got ${JSON.stringify(magic)}/${JSON.stringify(fourcc(bytes, 8))}`,
    );
  }
  const container = magic as 'RIFF' | 'RF64';
  const riffSize = view.getUint32(4, true);
  let ds64Data: number | null = null;
  let ds64Offset: number | null = null;
  let fmt: Omit<WavInfo, 'container' | 'dataOffset' | 'dataBytes' | 'dataSizeOffset' | 'ds64Offset'> | null =
    null;
  let p = 12;
  while (p + 8 <= bytes.length) {
    const id = fourcc(bytes, p);
    const size = view.getUint32(p + 4, true);
    const body = p + 8;
    if (id === 'data') {
      if (!fmt) throw corrupt('data chunk before the fmt chunk');
      let dataBytes: number | null = size;
      if (container === 'RF64' && size === RIFF_MAX) {
        if (ds64Data === null) throw corrupt('RF64 file without a ds64 chunk');
        dataBytes = ds64Data;
      } else if (size === RIFF_MAX || (size === 0 && (riffSize === 0 || riffSize === RIFF_MAX))) {
        // A streaming writer's placeholder: the data runs to the end of the file.
        dataBytes = null;
      }
      return { container, ...fmt, dataOffset: body, dataBytes, dataSizeOffset: p + 4, ds64Offset };
    }
    if (body + size > bytes.length) {
      throw corrupt(
        `chunk "${id}" of ${size} bytes at offset ${p} runs past the ${bytes.length} bytes available`,
      );
    }
    if (id === 'ds64' || id === 'JUNK') {
      if (p === 12 && size === 28) ds64Offset = p;
      if (id === 'ds64') {
        if (size < 24) throw corrupt(`ds64 chunk of ${size} bytes is shorter than 24`);
        ds64Data = getUint64(view, body + 8);
      }
    } else if (id === 'fmt ') {
      fmt = parseFmt(bytes, view, body, size);
    }
    // Chunks are word-aligned: an odd size is followed by a pad byte.
    p = body + size + (size % 2);
  }
  throw corrupt(fmt ? 'no data chunk (file truncated?)' : 'no fmt chunk (file truncated?)');
}

const BY_BITS: Readonly<Record<number, SampleFormat>> = { 8: 'int8', 16: 'int16', 24: 'int24', 32: 'int32' };

function parseFmt(
  bytes: Uint8Array,
  view: DataView,
  body: number,
  size: number,
): Omit<WavInfo, 'container' | 'dataOffset' | 'dataBytes' | 'dataSizeOffset' | 'ds64Offset'> {
  if (size < 16) throw corrupt(`fmt chunk of ${size} bytes is shorter than 16`);
  let tag = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const rate = view.getUint32(body + 4, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bitsPerSample = view.getUint16(body + 14, true);
  if (tag === FORMAT_EXTENSIBLE) {
    if (size < 40) throw corrupt(`extensible fmt chunk of ${size} bytes is shorter than 40`);
    tag = view.getUint16(body + 24, true);
    const tailMatches = GUID_TAIL.every((b, i) => bytes[body + 26 + i] === b);
    if (!tailMatches || (tag !== FORMAT_PCM && tag !== FORMAT_FLOAT)) {
      throw corrupt('unsupported WAVE_FORMAT_EXTENSIBLE sub-format (only PCM and IEEE float are read)');
    }
  }
  if (channels < 1) throw corrupt('fmt chunk declares 0 channels');
  if (rate < 1) throw corrupt('fmt chunk declares a sample rate of 0');
  let sampleFormat: WavInfo['sampleFormat'] | undefined;
  if (tag === FORMAT_PCM) sampleFormat = BY_BITS[bitsPerSample];
  else if (tag === FORMAT_FLOAT)
    sampleFormat = bitsPerSample === 32 ? 'float32' : bitsPerSample === 64 ? 'float64' : undefined;
  else
    throw corrupt(
      `unsupported format tag 0x${tag.toString(16)} (only PCM, IEEE float and extensible are read)`,
    );
  if (!sampleFormat)
    throw corrupt(`unsupported ${bitsPerSample}-bit ${tag === FORMAT_PCM ? 'PCM' : 'float'} samples`);
  if (blockAlign !== (bitsPerSample / 8) * channels) {
    throw corrupt(`blockAlign ${blockAlign} does not match ${channels} channels of ${bitsPerSample} bits`);
  }
  return { rate, channels, sampleFormat, bitsPerSample, blockAlign };
}
