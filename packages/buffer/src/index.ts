export {
  bytesPerFrame,
  convertSampleFormat,
  fromFloat32,
  packInt24,
  toFloat32,
  unpackInt24,
} from '@audex/pcm';
export type { Cursor, CursorOptions, CursorReadOptions } from './cursor.js';
export { BufferError, type BufferErrorCode, type BufferErrorDetails } from './errors.js';
export {
  FrameBuffer,
  type StreamOptions,
  type TimeRangeOptions,
  type TimeRangeRead,
} from './frame-buffer.js';
export type { FrameBufferOptions } from './options.js';
export {
  type RecoveredJournal,
  type RecoverOptions,
  recoverJournals,
  type UnrecoverableJournal,
} from './recover.js';
export { type Gap, Timeline, type TimelineAnchor } from './timeline.js';
