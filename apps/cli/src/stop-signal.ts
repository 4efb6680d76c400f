/** How long past `--duration` the wall clock waits for a source that delivers slower than its rate. */
const SLOW_SOURCE_GRACE_MS = 1000;

/**
 * Resolves `stopped` when the user asks to stop: Ctrl-C (SIGINT), SIGTERM, or `request()` (the
 * recorder's `maxDuration` event requests `'duration'`: `--duration 3` saves exactly 3 s of samples,
 * not 3 s of wall clock minus start-up). `startClock()` (called once audio flows) arms a wall-clock
 * fallback at `durationMs` plus a second, for a source that delivers slower than its nominal rate.
 * A second Ctrl-C while stopping exits at once with status 130. `dispose()` removes the handlers.
 */
export function waitForStop(durationMs: number | undefined): {
  stopped: Promise<'signal' | 'duration' | 'requested'>;
  startClock(): void;
  request(why?: 'duration' | 'requested'): void;
  dispose(): void;
} {
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
    request: (why = 'requested') => resolveStop(why),
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
