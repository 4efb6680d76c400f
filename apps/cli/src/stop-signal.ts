/**
 * Resolves when the user asks to stop: Ctrl-C (SIGINT), SIGTERM, or after `durationMs`. A second
 * Ctrl-C while stopping exits at once with status 130. `dispose()` removes the handlers.
 */
export function waitForStop(durationMs: number | undefined): {
  stopped: Promise<'signal' | 'duration' | 'requested'>;
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
  const timer = durationMs === undefined ? undefined : setTimeout(() => resolveStop('duration'), durationMs);
  return {
    stopped,
    request: () => resolveStop('requested'),
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
