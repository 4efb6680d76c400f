/**
 * Resolves `stopped` when the user asks to stop: Ctrl-C (SIGINT), SIGTERM, `request()`, or
 * `durationMs` after `startClock()` (called once audio flows, so the length counts captured audio,
 * not device start-up). A second Ctrl-C while stopping exits at once with status 130.
 * `dispose()` removes the handlers.
 */
export function waitForStop(durationMs: number | undefined): {
  stopped: Promise<'signal' | 'duration' | 'requested'>;
  startClock(): void;
  request(): void;
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
        timer = setTimeout(() => resolveStop('duration'), durationMs);
    },
    request: () => resolveStop('requested'),
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
