import { MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, partBytesAt } from '@audex/store/s3';
import { describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Cuts `total` bytes as a streamed upload does: each part sized by what was uploaded before it. */
function cut(total: number, minPartBytes: number): number[] {
  const parts: number[] = [];
  let uploaded = 0;
  while (uploaded < total) {
    const size = Math.min(partBytesAt(uploaded, minPartBytes), total - uploaded);
    parts.push(size);
    uploaded += size;
  }
  return parts;
}

describe('part sizing', () => {
  it('uses S3 limits: 10 000 parts, 5 MiB to 5 GiB each, 5 TiB per object', () => {
    expect([MAX_PARTS, MIN_PART_BYTES, MAX_PART_BYTES, MAX_OBJECT_BYTES]).toEqual([
      10_000,
      5 * MiB,
      5 * GiB,
      5 * 1024 * GiB,
    ]);
  });

  it.each([5 * MiB, 8 * MiB, 64 * MiB, 100 * MiB, GiB, 5 * GiB])(
    'cuts a 5 TiB stream into at most 10 000 parts of 5 MiB to 5 GiB, never shrinking (start %d bytes)',
    (start) => {
      const parts = cut(MAX_OBJECT_BYTES, start);
      expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(MAX_OBJECT_BYTES);
      for (const [i, size] of parts.entries()) {
        expect(size).toBeLessThanOrEqual(MAX_PART_BYTES);
        if (i < parts.length - 1) {
          expect(size).toBeGreaterThanOrEqual(Math.max(MIN_PART_BYTES, start));
          expect(size % MiB).toBe(0);
          expect(parts[i + 1]! >= size || i + 1 === parts.length - 1).toBe(true);
        }
      }
    },
  );

  it('keeps the starting part size for the first 1000 parts, then grows by 0.1 % of the bytes uploaded', () => {
    expect(partBytesAt(0, 5 * MiB)).toBe(5 * MiB);
    expect(partBytesAt(999 * 5 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(partBytesAt(1000 * 5 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(partBytesAt(1000 * 5 * MiB + 1, 5 * MiB)).toBe(6 * MiB);
    // A day of 48 kHz stereo float32 (~31 GiB) has 32 MiB parts by its end.
    expect(partBytesAt(31 * GiB, 5 * MiB)).toBe(32 * MiB);
    expect(partBytesAt(4 * 1024 * GiB, 5 * MiB)).toBe(4195 * MiB);
    expect(partBytesAt(MAX_OBJECT_BYTES, 5 * MiB)).toBe(5 * GiB);
  });

  it('needs 7 863 parts for 5 TiB from 5 MiB parts, and 3 217 for the 48.8 GiB that 10 000 fixed 5 MiB parts allowed', () => {
    expect(cut(MAX_OBJECT_BYTES, 5 * MiB)).toHaveLength(7863);
    expect(cut(10_000 * 5 * MiB, 5 * MiB)).toHaveLength(3217);
    expect(cut(4 * GiB, 5 * MiB)).toEqual(Array.from({ length: 820 }, (_, i) => (i < 819 ? 5 * MiB : MiB)));
  });

  it('is deterministic: the same bytes uploaded give the same next part (resumed uploads cut alike)', () => {
    for (const uploaded of [0, 123, 5 * GiB + 7, 3 * 1024 * GiB]) {
      expect(partBytesAt(uploaded, 5 * MiB)).toBe(partBytesAt(uploaded, 5 * MiB));
    }
  });
});
