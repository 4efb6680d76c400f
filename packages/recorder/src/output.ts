// The recorder's output room: what `stream()` and `segment()` make of a recording. It parses their
// options, finds where a stream starts and which frames a time range covers, and hands the PCM to
// the codec (output-format.ts picks and wraps the codec; encoded-stream.ts runs one live stream).
// Across rotated files or reconnect gaps nothing changes here: both keep one timeline per recording.
import { AnalysisError, normalizeLoudness } from '@audex/analysis';
import { type AudioConfig, bytesPerFrame, concatBytes } from '@audex/pcm';
import { encodedStream, standaloneFiles } from './encoded-stream.js';
import { describeValue, RecorderError } from './errors.js';
import { createOutputPipeline, encoding, resolveOutput } from './output-format.js';
import type { Recording } from './recording.js';
import type { RecordingFrames } from './recording-frames.js';
import type { Reporter } from './report.js';
import type { SegmentOptions, StreamOptions, StreamStart } from './types.js';

/** The default format of `segment()`: raw PCM in the capture format, as the reference. */
export const SEGMENT_DEFAULT_FORMAT = 'pcm';
/** The default format of `stream()`. */
export const STREAM_DEFAULT_FORMAT = 'pcm';

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function parseTime(value: Date | number, field: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RecorderError(
      'INVALID_RANGE',
      `${field} must be a valid Date or a finite number of ms since the Unix epoch, got ${describeValue(value)}`,
      { field },
    );
  }
  return ms;
}

/** `from` as ms since the epoch, or `undefined` for `'start'`/`'now'`. */
function parseStreamStart(from: StreamStart): number | undefined {
  if (from === 'start' || from === 'now') return undefined;
  if (from instanceof Date || typeof from === 'number') {
    const ms = from instanceof Date ? from.getTime() : from;
    if (Number.isFinite(ms)) return ms;
  }
  throw new RecorderError(
    'INVALID_OPTIONS',
    `from must be 'start', 'now', a Date or ms since the Unix epoch, got ${describeValue(from)}`,
    { field: 'from' },
  );
}

/** The frame a stream starting at `from` reads first (clamped to what is recorded). */
function streamStartFrame(buffer: RecordingFrames, from: StreamStart, fromMs: number | undefined): number {
  if (from === 'start') return buffer.firstFrame;
  const now = buffer.frameCount;
  if (from === 'now' || fromMs === undefined) return now;
  if (buffer.startTime === null || buffer.endTime === null) return buffer.firstFrame;
  if (fromMs <= buffer.startTime) return buffer.firstFrame;
  if (fromMs >= buffer.endTime) return now;
  return Math.min(now, buffer.frameAt(fromMs));
}

/**
 * `stream()`: validates the options at the call, then streams `recording` (the one being captured,
 * if any) through its own cursor, converter and encoder.
 * @throws {RecorderError} `INVALID_OPTIONS` naming the bad option.
 */
export function openStream(
  recording: Recording | undefined,
  config: Readonly<AudioConfig>,
  options: StreamOptions,
  report: Reporter,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (options === null || typeof options !== 'object') {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `stream options must be an object, got ${describeValue(options)}`,
    );
  }
  const chunkFrames = options.chunkSize ?? config.chunk;
  if (!Number.isInteger(chunkFrames) || chunkFrames < 1 || chunkFrames > config.rate * 60) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `chunkSize must be an integer number of frames from 1 to ${config.rate * 60} (60 s), got ${describeValue(chunkFrames)}`,
      { field: 'chunkSize' },
    );
  }
  const from = options.from ?? 'start';
  const fromMs = parseStreamStart(from);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `signal must be an AbortSignal, got ${describeValue(signal)}`,
      {
        field: 'signal',
      },
    );
  }
  const spec = resolveOutput(options, config, STREAM_DEFAULT_FORMAT);
  // WAV stream chunks are standalone files, as the reference's; every other format is one stream.
  const encoder =
    spec.codec.format === 'wav' ? standaloneFiles(config, spec) : createOutputPipeline(config, spec);
  if (!recording) {
    report.warn({
      code: 'NO_RECORDING',
      message: '[audex/recorder] stream() called with no recording running; the stream ends at once',
    });
    return (async function* () {})();
  }
  const startFrame = streamStartFrame(recording.frames, from, fromMs);
  return encodedStream({
    openCursor: () => recording.cursor(startFrame),
    chunkFrames,
    spec,
    encoder,
    signal,
  });
}

/**
 * `segment()`: the samples captured in `[startedAt, endedAt)`, clamped to the recording (a
 * `RANGE_CLAMPED` warning says so), as one complete file in the requested format.
 * @throws {RecorderError} `INVALID_RANGE`, `OUT_OF_RANGE`, `NO_RECORDING`, `INVALID_OPTIONS`,
 *   `ENCODE_FAILED`.
 */
export async function cutSegment(
  recording: Recording | undefined,
  config: Readonly<AudioConfig>,
  range: { startedAt: Date | number; endedAt: Date | number },
  options: SegmentOptions,
  report: Reporter,
): Promise<Uint8Array> {
  const startMs = parseTime(range.startedAt, 'startedAt');
  const endMs = parseTime(range.endedAt, 'endedAt');
  if (endMs <= startMs) {
    throw new RecorderError(
      'INVALID_RANGE',
      `segment range is ${endMs < startMs ? 'reversed' : 'empty'}: endedAt ${iso(endMs)} must be after startedAt ${iso(startMs)}`,
      { field: 'endedAt' },
    );
  }
  const spec = resolveOutput(options ?? {}, config, SEGMENT_DEFAULT_FORMAT);
  const buffer = recording?.frames;
  if (!buffer || buffer.startTime === null || buffer.endTime === null || buffer.frameCount === 0) {
    throw new RecorderError(
      'NO_RECORDING',
      recording
        ? 'segment() called before any audio was captured'
        : 'segment() called with no recording; call start() first',
    );
  }
  const recStart = buffer.startTime;
  const recEnd = buffer.endTime;
  if (endMs <= recStart || startMs >= recEnd) {
    throw new RecorderError(
      'OUT_OF_RANGE',
      `segment ${iso(startMs)} – ${iso(endMs)} lies outside the recording, which spans ${iso(recStart)} – ${iso(recEnd)}`,
      { field: endMs <= recStart ? 'endedAt' : 'startedAt' },
    );
  }
  const from = Math.max(startMs, recStart);
  const to = Math.min(endMs, recEnd);
  if (from !== startMs || to !== endMs) {
    report.warn({
      code: 'RANGE_CLAMPED',
      message: `[audex/recorder] segment ${iso(startMs)} – ${iso(endMs)} clamped to the recording: ${iso(from)} – ${iso(to)}`,
    });
  }
  const analysis = analysisOptions(options ?? {}, recording!);
  let data: Uint8Array;
  let first: number;
  try {
    ({ data, startFrame: first } = await buffer.readTimeRange(from, to));
    if (data.byteLength === 0) throw new Error('the range holds no frame');
  } catch (error) {
    if ((error as { code?: string }).code === 'CLEARED') {
      throw new RecorderError('NO_RECORDING', 'the recording was cleared while segment() read it', {
        cause: error,
      });
    }
    throw new RecorderError('OUT_OF_RANGE', `could not read the segment: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (analysis.speech) data = speechOnly(data, first, recording!, config);
  if (analysis.normalize) data = normalized(data, config, analysis.normalize);
  const totalFrames = data.byteLength / buffer.bytesPerFrame;
  const pipeline = createOutputPipeline(config, spec, totalFrames);
  return encoding(spec, () => concatBytes([pipeline.write(data), pipeline.end()]));
}

/** The analysis options of `segment()`, checked. */
function analysisOptions(
  options: SegmentOptions,
  recording: Recording,
): { speech: boolean; normalize: { targetLufs?: number; truePeakDbtp?: number } | undefined } {
  const { speech = false, normalize = false } = options;
  if (typeof speech !== 'boolean') {
    throw new RecorderError('INVALID_OPTIONS', `speech must be a boolean, got ${describeValue(speech)}`, {
      field: 'speech',
    });
  }
  if (speech && !recording.current.analysis.detectsSpeech) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      'speech: true needs voice activity detection: create the recorder with the vad option',
      { field: 'speech' },
    );
  }
  if (typeof normalize !== 'boolean' && (normalize === null || typeof normalize !== 'object')) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `normalize must be a boolean or { targetLufs, truePeakDbtp }, got ${describeValue(normalize)}`,
      { field: 'normalize' },
    );
  }
  return { speech, normalize: normalize === true ? {} : normalize === false ? undefined : normalize };
}

/** The frames of `data` (starting at frame `first`) inside the recording's speech regions, joined. */
function speechOnly(
  data: Uint8Array,
  first: number,
  recording: Recording,
  config: Readonly<AudioConfig>,
): Uint8Array {
  const frameBytes = bytesPerFrame(config.sampleFormat, config.channels);
  const last = first + data.byteLength / frameBytes;
  const pieces: Uint8Array[] = [];
  for (const region of recording.speech) {
    const from = Math.max(first, Math.round((region.startMs * config.rate) / 1000));
    const to = Math.min(last, Math.round((region.endMs * config.rate) / 1000));
    if (to > from) pieces.push(data.subarray((from - first) * frameBytes, (to - first) * frameBytes));
  }
  if (pieces.length === 0) {
    throw new RecorderError('OUT_OF_RANGE', 'segment() with speech: true found no speech in the range', {
      field: 'speech',
    });
  }
  return concatBytes(pieces);
}

function normalized(
  data: Uint8Array,
  config: Readonly<AudioConfig>,
  target: { targetLufs?: number; truePeakDbtp?: number },
): Uint8Array {
  try {
    return normalizeLoudness(data, config, target).pcm;
  } catch (error) {
    if (error instanceof AnalysisError && error.code === 'INVALID_OPTIONS') {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `normalize: ${error.message.replace(/^\[audex\/analysis\] /, '')}`,
        {
          field: error.field ? `normalize.${error.field}` : 'normalize',
          cause: error,
        },
      );
    }
    throw error;
  }
}
