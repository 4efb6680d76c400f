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
}

function asNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `audex ls [PREFIX]`: lists stored keys with duration, start time, rate and channels. */
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
  ]);
  process.stdout.write(`${formatTable(['KEY', 'DURATION', 'STARTED', 'RATE', 'CH'], rows)}\n`);
}
