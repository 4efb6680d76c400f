import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CapturedChunk } from '@audex/pcm';

/** A temporary spool directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'audex-buffer-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes: frame f, byte j of a frame get a value from (seed, f, j). */
export function patternBytes(startFrame: number, frames: number, bpf: number, seed = 1): Uint8Array {
  const out = new Uint8Array(frames * bpf);
  for (let f = 0; f < frames; f++) {
    const x = (startFrame + f) * 2654435761 + seed * 40503;
    for (let j = 0; j < bpf; j++) out[f * bpf + j] = ((x >>> ((j % 4) * 8)) + j * 31 + 1) & 0xff;
  }
  return out;
}

/** A chunk of pattern bytes at `time`. */
export function chunk(
  startFrame: number,
  frames: number,
  bpf: number,
  time: number,
  seed = 1,
): CapturedChunk {
  return { data: patternBytes(startFrame, frames, bpf, seed), frames, time };
}
