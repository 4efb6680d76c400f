import { describe, expect, it } from 'vitest';
import { RegionTracker, type SpeechEvent } from '../src/_speech-regions.js';

/** Feeds 32 ms windows with the given probabilities; returns every event including end(). */
function track(
  probabilities: number[],
  settings = { threshold: 0.5, minSpeechMs: 200, minSilenceMs: 250, padMs: 50 },
) {
  const t = new RegionTracker(settings);
  const events: SpeechEvent[] = [];
  for (const [i, p] of probabilities.entries()) events.push(...t.push(p, i * 32, (i + 1) * 32));
  events.push(...t.end(probabilities.length * 32));
  return events;
}
const run = (p: number, windows: number) => new Array<number>(windows).fill(p);

describe('RegionTracker', () => {
  it('confirms speech after minSpeechMs and closes it after minSilenceMs, padded', () => {
    const events = track([...run(0, 10), ...run(0.9, 20), ...run(0, 20)]);
    expect(events).toEqual([
      { type: 'speechStart', startMs: 320 - 50, atMs: 32 * 17 },
      { type: 'speechEnd', region: { startMs: 270, endMs: 960 + 50 }, atMs: 32 * 38 },
    ]);
  });

  it('drops speech shorter than minSpeechMs', () => {
    expect(track([...run(0, 5), ...run(0.9, 5), ...run(0, 20)])).toEqual([]);
  });

  it('bridges pauses shorter than minSilenceMs and dips between the two thresholds', () => {
    const events = track([...run(0.9, 10), ...run(0, 5), ...run(0.4, 3), ...run(0.9, 10), ...run(0, 20)]);
    expect(events.filter((e) => e.type === 'speechEnd')).toHaveLength(1);
  });

  it('cuts the hang-over at the end of the audio and never overlaps the previous region', () => {
    const pad = { threshold: 0.5, minSpeechMs: 0, minSilenceMs: 64, padMs: 500 };
    const events = track([...run(0.9, 5), ...run(0, 3), ...run(0.9, 5)], pad);
    const regions = events.flatMap((e) => (e.type === 'speechEnd' ? [e.region] : []));
    expect(regions).toHaveLength(2);
    expect(regions[0]!.startMs).toBe(0);
    expect(regions[1]!.startMs).toBeGreaterThanOrEqual(regions[0]!.endMs);
    expect(regions[1]!.endMs).toBe(13 * 32);
  });
});
