// The one way to wait for a recorder status: entersState(recorder, status, timeoutMs, signal?),
// the same call as @audex/capture's entersState for a source (discord.js's idiom).
import { describeValue, RecorderError } from './errors.js';
import type { RecorderStatus, StateChange } from './types.js';

/** What {@link entersState} needs of a recorder: its status and its `stateChange` event. */
export interface ObservableRecorder {
  /** The current status. */
  readonly status: RecorderStatus;
  /** Adds a `stateChange` listener. */
  on(event: 'stateChange', listener: (change: StateChange) => void): unknown;
  /** Removes a `stateChange` listener. */
  off(event: 'stateChange', listener: (change: StateChange) => void): unknown;
}

/**
 * Resolves once `recorder.status` is `status` (at once if it is already).
 *
 * ```ts
 * await entersState(recorder, 'initialized', 5_000); // e.g. after a stop() started elsewhere
 * ```
 *
 * @param timeoutMs - how long to wait, in ms (finite, >= 0).
 * @param signal - aborting stops the wait.
 * @throws {RecorderError} `TIMEOUT` after `timeoutMs` (naming the status it is in), `ABORTED` when
 *   `signal` aborts, `INVALID_OPTIONS` for a bad `timeoutMs`.
 */
export function entersState(
  recorder: ObservableRecorder,
  status: RecorderStatus,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    return Promise.reject(
      new RecorderError(
        'INVALID_OPTIONS',
        `timeoutMs must be a finite number of ms >= 0, got ${describeValue(timeoutMs)}`,
        { field: 'timeoutMs' },
      ),
    );
  }
  if (recorder.status === status) return Promise.resolve();
  if (signal?.aborted) {
    return Promise.reject(new RecorderError('ABORTED', `aborted while waiting for status "${status}"`));
  }
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      recorder.off('stateChange', onChange);
      signal?.removeEventListener('abort', onAbort);
    };
    const onChange = ({ to }: StateChange): void => {
      if (to !== status) return;
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(new RecorderError('ABORTED', `aborted while waiting for status "${status}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new RecorderError(
          'TIMEOUT',
          `status did not become "${status}" within ${timeoutMs} ms (it is "${recorder.status}")`,
        ),
      );
    }, timeoutMs);
    recorder.on('stateChange', onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
