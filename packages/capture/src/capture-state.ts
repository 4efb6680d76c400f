import type { EventEmitter } from 'node:events';
import { CaptureError } from './errors.js';
import type { CaptureEvents, CaptureStatus } from './types.js';

/** A source whose lifecycle can be observed: a status and one `stateChange` event. */
export interface ObservableSource extends EventEmitter<CaptureEvents> {
  /** The current lifecycle status. */
  readonly status: CaptureStatus;
}

/**
 * Resolves once `source` reaches `status` (at once if it is there already), or rejects with a
 * `CaptureError` (`INVALID_STATE`) after `timeoutMs` milliseconds or when `signal` aborts.
 */
export function entersState(
  source: ObservableSource,
  status: CaptureStatus,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (source.status === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      source.off('stateChange', onChange);
      signal?.removeEventListener('abort', onAbort);
    };
    const onChange = ({ to }: { to: CaptureStatus }): void => {
      if (to !== status) return;
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(new CaptureError('INVALID_STATE', `aborted while waiting for status "${status}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new CaptureError(
          'INVALID_STATE',
          `status did not become "${status}" within ${timeoutMs} ms (it is "${source.status}")`,
        ),
      );
    }, timeoutMs);
    source.on('stateChange', onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
