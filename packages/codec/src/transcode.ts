/**
 * Owns turning a stored file into another file, or a clip of it, chunk by chunk: streaming
 * decoders in, the encoder pipeline out, and for WAV only the bytes the clip needs read at all.
 * `audex get` and the web demo's export share it.
 */
import { bytesPerFrame, concatBytes, type PcmShape, type SampleFormat } from '@audex/pcm';
import { WAV_HEADER_WINDOW, wavOutputFormat, wavSamplesToPcm } from './codecs/wav-decoder.js';
import { parseWavHeader, type WavInfo } from './codecs/wav-header.js';
import { WholeFrames } from './dsp/_whole-frames.js';
import { CodecError } from './errors.js';
import { createEncoderPipeline, type EncoderPipeline } from './pipeline.js';
import { getCodec } from './registry.js';
import type { Codec, DecodeOptions, HeaderPatch, StreamDecoder, StreamInfo } from './types.js';

/**
 * Reads bytes `[start, end)` of the source file chunk by chunk (`end` omitted: to the end). A
 * store fits as `(range) => store.download(key, { stream: true, range })`. The iteration may be
 * stopped early (its `return()` is called) once enough bytes were read.
 */
export type ByteRangeReader = (range: { start: number; end?: number }) => AsyncIterable<Uint8Array>;

/** Options of {@link transcode} and {@link encodeRange}. */
export interface TranscodeOptions {
  /** Codec id of the source bytes (`'wav'`, `'flac'`, …). */
  sourceFormat: string;
  /** Codec id of the output; default `sourceFormat`. */
  format?: string;
  /** Shape of a headerless source (`'pcm'` needs it); ignored for formats with a header. */
  sourceShape?: PcmShape;
  /** Output rate in Hz; default the source's. */
  rate?: number;
  /** Output channels; default the source's. */
  channels?: number;
  /** Output sample format for lossless formats; default the source's. */
  sampleFormat?: SampleFormat;
  /** Bitrate in bit/s for lossy formats; default the codec's. */
  bitrate?: number;
  /** Start of the clip in seconds from the start of the source; default 0. */
  startSeconds?: number;
  /** End of the clip (exclusive) in seconds; default the end of the source. */
  endSeconds?: number;
}

/** A transcode under way: what it reads and writes, and the output chunk by chunk. */
export interface Transcode {
  /** The codec writing the output (its `mimeType` and `extension` name the file). */
  readonly codec: Codec;
  /** The source's shape and frame count (when its header gives one). */
  readonly source: StreamInfo;
  /** First frame of the clip, in source frames. */
  readonly startFrame: number;
  /** Frame after the clip's last, in source frames; `undefined` when the source's length is unknown and no end was asked. */
  readonly endFrame: number | undefined;
  /** Shape of the output PCM the codec encodes. */
  readonly shape: PcmShape;
  /** Frames the output holds when known up front (then its header is exact as it streams). */
  readonly outputFrames: number | undefined;
  /**
   * The output file, chunk by chunk; iterate it once. Memory stays bounded whatever the source's
   * length (a streaming decoder, one chunk at a time), except for source codecs without
   * `createDecoder`, which are decoded whole.
   * @throws {CodecError} `CORRUPT_INPUT` for a damaged source; source read errors pass through.
   */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** After `chunks` is exhausted: patches for a streaming header (`[]` when `outputFrames` was known). */
  headerPatches(): HeaderPatch[];
}

function checkSeconds(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new CodecError('INVALID_OPTIONS', `${name} must be a non-negative number of seconds, got ${value}`);
  }
}

function checkOptions(options: TranscodeOptions): { source: Codec; target: Codec } {
  if (!options || typeof options.sourceFormat !== 'string') {
    throw new CodecError(
      'INVALID_OPTIONS',
      `sourceFormat must be a codec id, got ${JSON.stringify(options?.sourceFormat)}`,
    );
  }
  checkSeconds('startSeconds', options.startSeconds);
  checkSeconds('endSeconds', options.endSeconds);
  if (
    options.startSeconds !== undefined &&
    options.endSeconds !== undefined &&
    options.endSeconds <= options.startSeconds
  ) {
    throw new CodecError(
      'OUT_OF_RANGE',
      `the clip ends (${options.endSeconds} s) before it starts (${options.startSeconds} s)`,
    );
  }
  return { source: getCodec(options.sourceFormat), target: getCodec(options.format ?? options.sourceFormat) };
}

/**
 * The clip's frames in the source; `OUT_OF_RANGE` when it falls outside. A millisecond of slack
 * at the end: clients compute ends from a rounded duration.
 */
function clipFrames(
  options: TranscodeOptions,
  rate: number,
  frames: number | undefined,
): { startFrame: number; endFrame: number | undefined } {
  const startFrame = Math.round((options.startSeconds ?? 0) * rate);
  const asked = options.endSeconds === undefined ? undefined : Math.round(options.endSeconds * rate);
  if (frames === undefined) return { startFrame, endFrame: asked };
  const duration = frames / rate;
  if (
    (startFrame >= frames && startFrame > 0) ||
    (asked !== undefined && asked > frames + Math.ceil(rate / 1000))
  ) {
    throw new CodecError(
      'OUT_OF_RANGE',
      `range ${options.startSeconds ?? 0}–${options.endSeconds ?? duration} s is outside the recording (0–${duration.toFixed(3)} s)`,
    );
  }
  return { startFrame, endFrame: Math.min(asked ?? frames, frames) };
}

function pipelineFor(
  target: Codec,
  options: TranscodeOptions,
  from: PcmShape,
  clipLength: number | undefined,
): EncoderPipeline {
  return createEncoderPipeline({
    from,
    format: target.format,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    ...(options.channels === undefined ? {} : { channels: options.channels }),
    ...(options.sampleFormat === undefined ? {} : { sampleFormat: options.sampleFormat }),
    ...(options.bitrate === undefined ? {} : { bitrate: options.bitrate }),
    ...(clipLength === undefined ? {} : { totalFrames: clipLength }),
  });
}

/** A stream decoder that needs an async step once the input ended (before `end()`). */
interface FinishingDecoder extends StreamDecoder {
  finish(): Promise<void>;
}

/** A decoder for codecs without `createDecoder`: gathers the file and decodes it whole at the end. */
function wholeFileDecoder(codec: Codec, options: DecodeOptions): FinishingDecoder {
  const parts: Uint8Array[] = [];
  let info: StreamInfo | null = null;
  let decoded: Uint8Array | null = null;
  return {
    get info() {
      return info;
    },
    write(bytes) {
      parts.push(bytes.slice());
      return new Uint8Array(0);
    },
    end() {
      if (!codec.decode) {
        throw new CodecError('INVALID_OPTIONS', `codec "${codec.format}" cannot decode`, {
          format: codec.format,
        });
      }
      return decoded ?? new Uint8Array(0);
    },
    async finish() {
      if (!codec.decode) return;
      const audio = await codec.decode(concatBytes(parts), options);
      parts.length = 0;
      info = {
        shape: { rate: audio.rate, channels: audio.channels, sampleFormat: 'float32' },
        frames: audio.frames,
      };
      decoded = new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength);
    },
  };
}

/** Keeps the frames of a PCM stream that fall in `[start, end)`; counts the rest away. */
class FrameWindow {
  readonly #frameBytes: number;
  readonly #start: number;
  readonly #end: number;
  #position = 0;

  constructor(frameBytes: number, start: number, end: number | undefined) {
    this.#frameBytes = frameBytes;
    this.#start = start;
    this.#end = end ?? Number.POSITIVE_INFINITY;
  }

  /** True once the window's last frame went by. */
  get done(): boolean {
    return this.#position >= this.#end;
  }

  take(pcm: Uint8Array): Uint8Array {
    const frames = pcm.length / this.#frameBytes;
    const from = Math.max(0, this.#start - this.#position);
    const to = Math.min(frames, this.#end - this.#position);
    this.#position += frames;
    if (to <= from) return new Uint8Array(0);
    return pcm.subarray(from * this.#frameBytes, to * this.#frameBytes);
  }
}

/**
 * Transcodes a whole source stream (or a clip of it) to `options.format`, chunk by chunk: a
 * streaming decoder, the frames of the clip, one PCM conversion and the encoder. The source is
 * read until its header is known before this resolves, so a bad format or range fails here,
 * before any output; reading stops as soon as the clip's last frame went by.
 *
 * ```ts
 * const t = await transcode(store.download(key, { stream: true }), { sourceFormat: 'wav', format: 'mp3' });
 * for await (const chunk of t.chunks) out.write(chunk);
 * ```
 * @throws {CodecError} `UNKNOWN_FORMAT`, `INVALID_OPTIONS`, `OUT_OF_RANGE` (clip outside the
 * source, naming both), `CORRUPT_INPUT` (damaged source).
 */
export async function transcode(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: TranscodeOptions,
): Promise<Transcode> {
  const { source, target } = checkOptions(options);
  const decodeOptions: DecodeOptions = options.sourceShape ?? {};
  const decoder: StreamDecoder | FinishingDecoder =
    source.createDecoder?.(decodeOptions) ?? wholeFileDecoder(source, decodeOptions);
  const iterator = (
    Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  const early: Uint8Array[] = [];
  let inputDone = false;
  try {
    while (decoder.info === null) {
      const next = await iterator.next();
      if (next.done) {
        inputDone = true;
        if ('finish' in decoder) await (decoder as FinishingDecoder).finish();
        early.push(decoder.end());
        break;
      }
      early.push(decoder.write(next.value));
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const info = decoder.info as StreamInfo | null;
  if (!info)
    throw new CodecError('CORRUPT_INPUT', `${source.format}: no header in the source`, {
      format: source.format,
    });
  let startFrame: number;
  let endFrame: number | undefined;
  try {
    ({ startFrame, endFrame } = clipFrames(options, info.shape.rate, info.frames));
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const clipLength = endFrame === undefined || info.frames === undefined ? undefined : endFrame - startFrame;
  const pipeline = pipelineFor(target, options, info.shape, clipLength);
  const window = new FrameWindow(
    bytesPerFrame(info.shape.sampleFormat, info.shape.channels),
    startFrame,
    endFrame,
  );

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for (const pcm of early) {
        const out = pipeline.write(window.take(pcm));
        if (out.length > 0) yield out;
      }
      while (!inputDone && !window.done) {
        const next = await iterator.next();
        if (next.done) {
          inputDone = true;
          const out = pipeline.write(window.take(decoder.end()));
          if (out.length > 0) yield out;
          break;
        }
        const out = pipeline.write(window.take(decoder.write(next.value)));
        if (out.length > 0) yield out;
      }
      const last = pipeline.end();
      if (last.length > 0) yield last;
    } finally {
      if (!inputDone) await iterator.return?.();
    }
  }

  return {
    codec: target,
    source: info,
    startFrame,
    endFrame,
    shape: pipeline.shape,
    outputFrames: pipeline.outputFrames,
    chunks: chunks(),
    headerPatches: () => pipeline.headerPatches(),
  };
}

/** Reads a WAV header from the start of the source, stopping the read as soon as it parses. */
async function readWavHeader(read: ByteRangeReader): Promise<WavInfo> {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  let lastError: unknown;
  for await (const chunk of read({ start: 0 })) {
    parts.push(chunk);
    bytes += chunk.length;
    try {
      return parseWavHeader(concatBytes(parts));
    } catch (error) {
      lastError = error;
      if (bytes >= WAV_HEADER_WINDOW) break;
    }
  }
  if (lastError) throw lastError;
  return parseWavHeader(new Uint8Array(0));
}

/**
 * Encodes a clip of a stored file (or all of it) to `options.format`, reading only what it needs:
 * for WAV the header, then exactly the bytes of the clip's frames (a 30 s clip of an 8-hour
 * recording reads 30 s); other sources are streamed through {@link transcode} and stop once
 * the clip is out. The output header is exact (its length is known).
 *
 * ```ts
 * const clip = await encodeRange((range) => store.download(key, { stream: true, range }), {
 *   sourceFormat: 'wav', format: 'mp3', startSeconds: 3600, endSeconds: 3630,
 * });
 * for await (const chunk of clip.chunks) out.write(chunk);
 * ```
 * @throws {CodecError} as {@link transcode}.
 */
export async function encodeRange(read: ByteRangeReader, options: TranscodeOptions): Promise<Transcode> {
  const { source, target } = checkOptions(options);
  if (source.format !== 'wav') return transcode(read({ start: 0 }), options);
  const wav = await readWavHeader(read);
  const shape: PcmShape = { rate: wav.rate, channels: wav.channels, sampleFormat: wavOutputFormat(wav) };
  const frames = wav.dataBytes === null ? undefined : Math.floor(wav.dataBytes / wav.blockAlign);
  const { startFrame, endFrame } = clipFrames(options, wav.rate, frames);
  const clipLength = endFrame === undefined ? undefined : endFrame - startFrame;
  const pipeline = pipelineFor(target, options, shape, clipLength);
  const start = wav.dataOffset + startFrame * wav.blockAlign;
  const end = endFrame === undefined ? undefined : wav.dataOffset + endFrame * wav.blockAlign;

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const whole = new WholeFrames(wav.blockAlign);
    let received = 0;
    if (end === undefined || end > start) {
      for await (const chunk of read(end === undefined ? { start } : { start, end })) {
        received += chunk.length;
        const frames = whole.take(chunk);
        if (frames.length === 0) continue;
        const out = pipeline.write(wavSamplesToPcm(wav, frames));
        if (out.length > 0) yield out;
      }
    }
    if (end !== undefined && received < end - start) {
      throw new CodecError(
        'CORRUPT_INPUT',
        `WAV: the clip needs bytes ${start}–${end} but the source ended after ${start + received} (file truncated)`,
        { format: 'wav' },
      );
    }
    const last = pipeline.end();
    if (last.length > 0) yield last;
  }

  return {
    codec: target,
    source: { shape, frames },
    startFrame,
    endFrame,
    shape: pipeline.shape,
    outputFrames: pipeline.outputFrames,
    chunks: chunks(),
    headerPatches: () => pipeline.headerPatches(),
  };
}
