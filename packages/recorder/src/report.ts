// How the rooms of the recorder tell the application what happened: the `AudioRecorder`'s events,
// its warnings and its log, handed to each room as one small object instead of the whole recorder.
import type { RecorderEvents, RecorderLogger, RecorderWarning } from './types.js';

/** The recorder's outlet for events, warnings and logs (implemented by `AudioRecorder`). */
export interface Reporter {
  /** Emits a public event to the recorder's listeners (a listener that throws is logged, never rethrown). */
  emit<K extends keyof RecorderEvents>(event: K, ...args: RecorderEvents[K]): void;
  /** Whether anyone listens to `event` (to skip computing an event nobody wants, e.g. levels). */
  listens(event: keyof RecorderEvents): boolean;
  /** Logs a warning and emits it as a `'warning'` event. */
  warn(warning: RecorderWarning): void;
  /** The configured logger. */
  readonly logger: RecorderLogger;
}
