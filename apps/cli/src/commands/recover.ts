import { AudioRecorder } from '@audex/recorder';
import { createAudioSource } from '../audio-source.js';
import { openStore, type StoreFlags } from '../store-options.js';

/**
 * `audex recover`: saves recordings a crash left unfinished in the spool directory to the store and
 * prints their keys.
 */
export async function recoverCommand(
  flags: StoreFlags & { spoolDir?: string; json?: boolean },
): Promise<void> {
  const store = await openStore(flags);
  const spoolDir = flags.spoolDir ?? process.env.AUDEX_SPOOL_DIR;
  const recorder = new AudioRecorder(
    store,
    {},
    { source: createAudioSource(), ...(spoolDir ? { spoolDir } : {}) },
  );
  try {
    // init() recovers and uploads whatever a crash left in the spool
    const recovered = await recorder.init();
    const keys = recovered.map((r) => r.key);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify(recovered.map((r) => ({ key: r.key, durationMs: r.durationMs, startedAt: r.startedAt, endedAt: r.endedAt, frameCount: r.frameCount, errors: r.errors.map((e) => e.message) })))}\n`,
      );
    } else if (keys.length === 0) {
      process.stderr.write('nothing to recover\n');
    } else {
      for (const key of keys) process.stdout.write(`${key}\n`);
    }
  } finally {
    await recorder.close();
  }
}
