// The metadata stored with a recording (the reference's keys plus loss accounting) and its wall-clock span.
import type { FrameBuffer } from '@audex/buffer';
import type { AnalysisFacts } from './analysis.js';
import { storedContentType, storeFormatOf } from './stored-format.js';
import type { GapMetadata, RecordingMetadata, SpeechMetadata } from './types.js';

/**
 * Gaps listed in metadata. S3 allows 2 KB of user metadata per object, so a long list is cut here;
 * `gap_count` and `gap_frames` always hold the totals.
 */
export const MAX_LISTED_GAPS = 8;

/**
 * Speech regions are listed while the metadata's JSON stays within this many bytes: S3's 2 KB of
 * user metadata hold about 1500 bytes of JSON once encoded. `speech_count` and `speech_ms` always
 * hold the totals.
 */
export const MAX_METADATA_JSON_BYTES = 1400;

/** Wall-clock facts the buffer cannot know. */
export interface RecordingTimes {
  /** When capture was requested (start()), ms since the epoch; used when no audio arrived. */
  requestedAt: number;
  /** When the recording stopped (stop(), or the last recovered audio), ms since the epoch. */
  stoppedAt: number;
}

/** First and last wall-clock instants of a buffer's audio, falling back to the call times. */
export function recordingSpan(buffer: FrameBuffer, times: RecordingTimes): { start: number; end: number } {
  const start = buffer.startTime ?? times.requestedAt;
  const end = buffer.endTime ?? start;
  return { start, end };
}

/** The metadata stored with a recording: the reference's keys plus loss accounting. */
export function buildMetadata(
  buffer: FrameBuffer,
  times: RecordingTimes,
  extra: { recovered?: boolean; listGaps?: boolean; analysis?: AnalysisFacts | undefined } = {},
): RecordingMetadata {
  const { start, end } = recordingSpan(buffer, times);
  const rate = buffer.rate;
  const allGaps = buffer.gaps;
  const listed = extra.listGaps === false ? [] : allGaps.slice(0, MAX_LISTED_GAPS);
  const gaps: GapMetadata[] = listed.map((gap) => ({
    position: gap.startFrame,
    length: gap.frames,
    start_ms: round3((gap.startFrame / rate) * 1000),
    duration_ms: round3((gap.frames / rate) * 1000),
  }));
  let gapFrames = 0;
  for (const gap of allGaps) gapFrames += gap.frames;
  const metadata: RecordingMetadata = {
    content_type: storedContentType(storeFormatOf(buffer)),
    duration_ms: round3((buffer.frameCount / rate) * 1000),
    sample_rate: rate,
    channels: buffer.channels,
    started_at: new Date(start).toISOString(),
    ended_at: new Date(end).toISOString(),
    frame_count: buffer.frameCount,
    sample_format: buffer.sampleFormat,
    overflow_count: buffer.overflowCount,
    gaps,
    gap_count: allGaps.length,
    gap_frames: gapFrames,
    captured_frames: buffer.capturedFrames,
    wall_clock_ms: round3(Math.max(0, times.stoppedAt - times.requestedAt)),
  };
  if (extra.recovered) metadata.recovered = true;
  if (extra.analysis) addAnalysis(metadata, extra.analysis);
  return metadata;
}

/** Adds loudness and (with `vad`) speech regions, listing as many regions as fit the budget. */
export function addAnalysis(metadata: RecordingMetadata, facts: AnalysisFacts): void {
  const { loudness, speech } = facts;
  const finite = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  metadata.loudness_lufs = finite(loudness.integratedLufs);
  metadata.loudness_range_lu = Math.round(loudness.loudnessRangeLu * 100) / 100;
  metadata.true_peak_dbtp = finite(loudness.truePeakDbtp);
  if (!speech) return;
  let total = 0;
  for (const r of speech) total += r.endMs - r.startMs;
  metadata.speech_count = speech.length;
  metadata.speech_ms = Math.round(total);
  const listed: SpeechMetadata[] = [];
  metadata.speech = listed;
  let bytes = Buffer.byteLength(JSON.stringify(metadata));
  for (const r of speech) {
    const entry = { start_ms: Math.round(r.startMs), end_ms: Math.round(r.endMs) };
    const more = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (bytes + more > MAX_METADATA_JSON_BYTES) break;
    listed.push(entry);
    bytes += more;
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
