import { openStore, type StoreFlags } from '../store-options.js';
import { formatDuration, formatTable } from '../terminal.js';

/** Flags of `audex ls`. */
export interface LsFlags extends StoreFlags {
  /** Print JSON instead of a table. */
  json?: boolean;
}

/** One stored recording, as `audex ls --json` prints it. */
export interface ListedRecording {
  key: string;
  durationMs: number | null;
  startedAt: string | null;
  sampleRate: number | null;
  channels: number | null;
  /** EBU R128 integrated loudness in LUFS (stored by the recorder), null when unknown or silent. */
  loudnessLufs: number | null;
  /** Speech regions found (recorded with voice activity detection), null when not analysed. */
  speechCount: number | null;
}

function asNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `audex ls [PREFIX]`: lists stored keys with duration, start time, rate, channels, loudness (LUFS) and speech regions. */
export async function lsCommand(prefix: string | undefined, flags: LsFlags): Promise<void> {
  const store = await openStore(flags);
  const items: ListedRecording[] = [];
  for await (const page of store.list(prefix)) {
    for (const key of page) {
      const meta = await store.getMetadata(key).catch(() => ({}) as Record<string, unknown>);
      items.push({
        key,
        durationMs: asNumber(meta.duration_ms),
        startedAt: typeof meta.started_at === 'string' ? meta.started_at : null,
        sampleRate: asNumber(meta.sample_rate),
        channels: asNumber(meta.channels),
        loudnessLufs: asNumber(meta.loudness_lufs),
        speechCount: asNumber(meta.speech_count),
      });
    }
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  if (items.length === 0) {
    process.stderr.write('No recordings stored yet. Make one with: audex record --duration 5\n');
    return;
  }
  const rows = items.map((r) => [
    r.key,
    r.durationMs === null ? '-' : formatDuration(r.durationMs),
    r.startedAt ?? '-',
    r.sampleRate === null ? '-' : `${r.sampleRate} Hz`,
    r.channels === null ? '-' : String(r.channels),
    r.loudnessLufs === null ? '-' : r.loudnessLufs.toFixed(1),
    r.speechCount === null ? '-' : String(r.speechCount),
  ]);
  process.stdout.write(
    `${formatTable(['KEY', 'DURATION', 'STARTED', 'RATE', 'CH', 'LUFS', 'SPEECH'], rows)}\n`,
  );
}
