// The metadata stored with a recording (the reference's keys plus loss accounting) and its wall-clock span.
import type { FrameBuffer } from '@audex/buffer';
import type { GapMetadata, RecordingMetadata } from './types.js';

/**
 * Gaps listed in metadata. S3 allows 2 KB of user metadata per object, so a long list is cut here;
 * `gap_count` and `gap_frames` always hold the totals.
 */
export const MAX_LISTED_GAPS = 8;

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
  extra: { recovered?: boolean; listGaps?: boolean } = {},
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
    content_type: 'audio/wav',
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
  return metadata;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
