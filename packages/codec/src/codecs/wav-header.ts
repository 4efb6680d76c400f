/**
 * Owns every byte of a WAV header: laying it out (RIFF or RF64, `fact`, the streaming `JUNK`
 * reserve), the patches that make a streaming header exact, and parsing.
 */
import { BYTES_PER_SAMPLE, type SampleFormat, shapeProblem } from '@audex/pcm';
import { CodecError } from '../errors.js';
import type { HeaderPatch } from '../types.js';

/** What a WAV header describes. */
export interface WavHeaderOptions {
  /** Sample rate in Hz, an integer from 1 to 768000 (`MAX_RATE` of @audex/pcm). */
  rate: number;
  /** Interleaved channels, 1 to 64 (`MAX_CHANNELS` of @audex/pcm). */
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
  /** Byte offset of the `fact` chunk's 32-bit frame count, or `null` when there is no `fact` chunk. */
  factFramesOffset: number | null;
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
 * Where the fields a writer may have to fill in later sit in a header made by
 * {@link layoutWavHeader}: byte offsets from the start of the file.
 */
export interface WavHeaderLayout {
  /** The header bytes. */
  header: Uint8Array;
  /** Bytes per frame. */
  blockAlign: number;
  /** Offset of the 32-bit data size field. */
  dataSizeOffset: number;
  /** Offset of the `fact` chunk's 32-bit frame count, or `null` when the file has no `fact` chunk (plain PCM). */
  factFramesOffset: number | null;
  /** Offset of the 36-byte `JUNK`/`ds64` chunk reserved for RF64, or `null` when there is none. */
  ds64Offset: number | null;
}

/**
 * Whether a layout needs a `fact` chunk: every WAV whose format tag is not plain PCM (IEEE float,
 * WAVE_FORMAT_EXTENSIBLE) should carry one with the frame count (strict readers such as
 * libsndfile warn otherwise).
 */
function needsFact(format: SampleFormat, channels: number): boolean {
  return format === 'float32' || isExtensible(format, channels);
}

/**
 * Lays out a WAV header (see {@link encodeWavHeader}) and says where its size fields are, so a
 * streaming writer can patch them at the end ({@link wavSizePatches}).
 * @throws {CodecError} `INVALID_OPTIONS` for a bad rate, channel count, format or frame count.
 */
export function layoutWavHeader(options: WavHeaderOptions): WavHeaderLayout {
  checkHeaderOptions(options);
  const { rate, channels, sampleFormat, frames } = options;
  const bits = bitsOf(sampleFormat);
  const blockAlign = (bits / 8) * channels;
  const extensible = isExtensible(sampleFormat, channels);
  const fmtSize = extensible ? 40 : 16;
  const dataBytes = frames === undefined ? undefined : frames * blockAlign;
  const pad = dataBytes !== undefined && dataBytes % 2 === 1 ? 1 : 0;
  const factBytes = needsFact(sampleFormat, channels) ? FACT_CHUNK_BYTES : 0;
  const rf64 = dataBytes !== undefined && 12 + 8 + fmtSize + factBytes + dataBytes + pad > RIFF_MAX;
  // RF64 keeps its counts in ds64; libsndfile's RF64 reader takes a fact chunk for an unknown one.
  const fact = factBytes > 0 && !rf64;
  const baseLength = 12 + 8 + fmtSize + (fact ? FACT_CHUNK_BYTES : 0) + 8;
  const riffSize = dataBytes === undefined ? undefined : baseLength - 8 + dataBytes + pad;
  // ds64 for RF64, or a JUNK placeholder of the same size for a streaming header.
  const reserve = rf64 || frames === undefined ? DS64_CHUNK_BYTES : 0;
  const header = new Uint8Array(baseLength + reserve);
  const view = new DataView(header.buffer);
  let p = 0;
  ascii(header, p, rf64 ? 'RF64' : 'RIFF');
  view.setUint32(p + 4, riffSize === undefined || rf64 ? RIFF_MAX : riffSize + reserve, true);
  ascii(header, p + 8, 'WAVE');
  p = 12;
  let ds64Offset: number | null = null;
  if (reserve) {
    ds64Offset = p;
    if (rf64) header.set(ds64Chunk(riffSize! + reserve, dataBytes!, frames!), p);
    else {
      ascii(header, p, 'JUNK');
      view.setUint32(p + 4, DS64_CHUNK_BYTES - 8, true);
    }
    p += DS64_CHUNK_BYTES;
  }
  ascii(header, p, 'fmt ');
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
  let factFramesOffset: number | null = null;
  if (fact) {
    ascii(header, p, 'fact');
    view.setUint32(p + 4, 4, true);
    factFramesOffset = p + 8;
    // RF64 and streaming headers: -1, "see ds64" (EBU Tech 3306) or "not known yet".
    view.setUint32(factFramesOffset, frames === undefined || rf64 ? RIFF_MAX : frames, true);
    p += 12;
  }
  ascii(header, p, 'data');
  view.setUint32(p + 4, dataBytes === undefined || rf64 ? RIFF_MAX : dataBytes, true);
  return { header, blockAlign, dataSizeOffset: p + 4, factFramesOffset, ds64Offset };
}

/**
 * Encodes a WAV header to put before raw sample data. With `frames` the sizes are exact and a
 * file whose RIFF size would pass 4 GiB gets an RF64 header (`RF64` + `ds64`, EBU Tech 3306).
 * Without `frames` it is a streaming header (see {@link WavHeaderOptions.frames}). Non-PCM
 * layouts (float32, WAVE_FORMAT_EXTENSIBLE) carry a `fact` chunk with the frame count. The data
 * that follows must be little-endian samples in `sampleFormat`, `int8` offset to unsigned, and
 * followed by one zero pad byte (not counted in the data size) when its length is odd.
 * Prefer the `wav` encoder ({@link createWavEncoder}), which writes all of this itself.
 * @throws {CodecError} `INVALID_OPTIONS` for a bad rate, channel count, format or frame count.
 */
export function encodeWavHeader(options: WavHeaderOptions): Uint8Array {
  return layoutWavHeader(options).header;
}

/**
 * The patches that turn a streaming header (laid out without `frames`) into exact sizes once
 * `dataBytes` of sample data follow it: RIFF and data sizes, the `fact` frame count, the pad byte
 * of an odd data size (appended after the data), and `RF64` + `ds64` beyond 4 GiB.
 * @throws {CodecError} `TOO_LARGE` when the data passed 4 GiB and the header has no reserved chunk.
 */
export function wavSizePatches(
  layout: Pick<WavHeaderLayout, 'blockAlign' | 'dataSizeOffset' | 'factFramesOffset' | 'ds64Offset'> & {
    dataOffset: number;
    container?: 'RIFF' | 'RF64';
  },
  dataBytes: number,
): HeaderPatch[] {
  const { dataOffset, dataSizeOffset, factFramesOffset, ds64Offset } = layout;
  const frames = Math.floor(dataBytes / layout.blockAlign);
  const pad = dataBytes % 2;
  const riffSize = dataOffset - 8 + dataBytes + pad;
  const factChunkOffset = factFramesOffset === null ? null : factFramesOffset - 8;
  const patches: HeaderPatch[] = [];
  if (pad) patches.push({ offset: dataOffset + dataBytes, bytes: new Uint8Array(1) });
  if (riffSize <= RIFF_MAX) {
    if (ds64Offset !== null && layout.container === 'RF64') {
      // Shrunk below 4 GiB since it was made RF64: the ds64 chunk becomes JUNK again.
      patches.push({ offset: ds64Offset, bytes: asciiBytes('JUNK') });
    }
    patches.push({ offset: 0, bytes: concatFields(asciiBytes('RIFF'), u32(riffSize)) });
    patches.push({ offset: dataSizeOffset, bytes: u32(dataBytes) });
    if (factFramesOffset !== null) patches.push({ offset: factFramesOffset, bytes: u32(frames) });
    return patches;
  }
  if (ds64Offset === null) {
    throw new CodecError(
      'TOO_LARGE',
      `WAV: ${dataBytes} bytes of data pass RIFF's 4 GiB and the header has no reserved chunk to become RF64`,
      { format: 'wav' },
    );
  }
  patches.push({ offset: ds64Offset, bytes: ds64Chunk(riffSize, dataBytes, frames) });
  patches.push({ offset: 0, bytes: concatFields(asciiBytes('RF64'), u32(RIFF_MAX)) });
  patches.push({ offset: dataSizeOffset, bytes: u32(RIFF_MAX) });
  // RF64 counts frames in ds64: the fact chunk becomes filler (as in an RF64 written up front).
  if (factChunkOffset !== null) patches.push({ offset: factChunkOffset, bytes: asciiBytes('JUNK') });
  return patches;
}

/** Bytes of the `fact` chunk: 8 + a 32-bit frame count. */
const FACT_CHUNK_BYTES = 12;

/** Bytes of the `ds64` chunk (and of the `JUNK` chunk reserved for it): 8 + 28. */
const DS64_CHUNK_BYTES = 36;

function ds64Chunk(riffSize: number, dataBytes: number, frames: number): Uint8Array {
  const chunk = new Uint8Array(DS64_CHUNK_BYTES);
  const view = new DataView(chunk.buffer);
  ascii(chunk, 0, 'ds64');
  view.setUint32(4, DS64_CHUNK_BYTES - 8, true);
  setUint64(view, 8, riffSize);
  setUint64(view, 16, dataBytes);
  setUint64(view, 24, frames);
  // 32: table length 0.
  return chunk;
}

function ascii(bytes: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < 4; i++) bytes[offset + i] = text.charCodeAt(i);
}

function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(4);
  ascii(bytes, 0, text);
  return bytes;
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function concatFields(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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
  let factFramesOffset: number | null = null;
  let fmt: Omit<WavInfo, FmtFields> | null = null;
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
      return {
        container,
        ...fmt,
        dataOffset: body,
        dataBytes,
        dataSizeOffset: p + 4,
        ds64Offset,
        factFramesOffset,
      };
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
    } else if (id === 'fact') {
      if (size >= 4) factFramesOffset = body;
    } else if (id === 'fmt ') {
      fmt = parseFmt(bytes, view, body, size);
    }
    // Chunks are word-aligned: an odd size is followed by a pad byte.
    p = body + size + (size % 2);
  }
  throw corrupt(fmt ? 'no data chunk (file truncated?)' : 'no fmt chunk (file truncated?)');
}

/** Fields of {@link WavInfo} that come from other chunks than `fmt `. */
type FmtFields =
  | 'container'
  | 'dataOffset'
  | 'dataBytes'
  | 'dataSizeOffset'
  | 'ds64Offset'
  | 'factFramesOffset';

const BY_BITS: Readonly<Record<number, SampleFormat>> = { 8: 'int8', 16: 'int16', 24: 'int24', 32: 'int32' };

function parseFmt(bytes: Uint8Array, view: DataView, body: number, size: number): Omit<WavInfo, FmtFields> {
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
