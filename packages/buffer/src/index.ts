// The public entry of @audex/buffer: a named list of what it exports.
export type { Cursor, CursorOptions, CursorReadOptions, FrameStreamOptions } from './cursor.js';
export { BufferError, type BufferErrorCode, type BufferErrorDetails } from './errors.js';
export { FrameBuffer, type TimeRangeOptions, type TimeRangeRead } from './frame-buffer.js';
export {
  type JournalReading,
  type ReadJournalsOptions,
  readJournals,
  type UnreadableJournal,
} from './journal-reader.js';
export type { FrameBufferOptions } from './options.js';
export { type Gap, Timeline, type TimelineAnchor } from './timeline.js';
