/** How long past `--duration` the wall clock waits for a source that delivers slower than its rate. */
const SLOW_SOURCE_GRACE_MS = 1000;

/**
 * Resolves `stopped` when the user asks to stop: Ctrl-C (SIGINT), SIGTERM, `request()`, or when
 * `durationMs` of audio has been captured. Captured audio is counted in frames through
 * `countFrames()` (so `--duration 3` saves at least 3 s, not 3 s of wall clock minus start-up);
 * `startClock()` (called once audio flows) arms a wall-clock fallback at `durationMs` plus a
 * second, for a source that delivers slower than its nominal rate. A second Ctrl-C while stopping
 * exits at once with status 130. `dispose()` removes the handlers.
 */
export function waitForStop(
  durationMs: number | undefined,
  rate: number,
): {
  stopped: Promise<'signal' | 'duration' | 'requested'>;
  startClock(): void;
  countFrames(frames: number): void;
  request(): void;
  dispose(): void;
} {
  const targetFrames =
    durationMs === undefined ? Number.POSITIVE_INFINITY : Math.ceil((durationMs / 1000) * rate);
  let captured = 0;
  let resolveStop!: (why: 'signal' | 'duration' | 'requested') => void;
  const stopped = new Promise<'signal' | 'duration' | 'requested'>((r) => {
    resolveStop = r;
  });
  let signalled = false;
  const onSignal = () => {
    if (signalled) process.exit(130);
    signalled = true;
    resolveStop('signal');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let timer: NodeJS.Timeout | undefined;
  return {
    stopped,
    startClock: () => {
      if (durationMs !== undefined && timer === undefined)
        timer = setTimeout(() => resolveStop('duration'), durationMs + SLOW_SOURCE_GRACE_MS);
    },
    countFrames: (frames) => {
      captured += frames;
      if (captured >= targetFrames) resolveStop('duration');
    },
    request: () => resolveStop('requested'),
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
