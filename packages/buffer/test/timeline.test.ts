import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Timeline } from '../src/index.js';

/** The obvious O(n) model: scan for the segment, interpolate, nominal rate past the last anchor. */
function modelTimeOf(anchors: readonly [number, number][], rate: number, frame: number): number {
  let i = 0;
  while (i + 1 < anchors.length && anchors[i + 1]![0] <= frame) i++;
  const [f0, t0] = anchors[i]!;
  const next = anchors[i + 1];
  if (next === undefined) return t0 + (frame - f0) * (1000 / rate);
  return t0 + ((frame - f0) * (next[1] - t0)) / (next[0] - f0);
}

const anchorsArb = fc
  .record({
    rate: fc.constantFrom(8000, 16000, 44100, 48000),
    t0: fc.double({ min: 1e12, max: 2e12, noNaN: true }),
    steps: fc.array(
      fc.record({
        frames: fc.integer({ min: 1, max: 200_000 }),
        ms: fc.double({ min: 0.01, max: 10_000, noNaN: true }),
      }),
      {
        maxLength: 40,
      },
    ),
  })
  .map(({ rate, t0, steps }) => {
    const anchors: [number, number][] = [[0, t0]];
    for (const s of steps) {
      const [f, t] = anchors[anchors.length - 1]!;
      if (t + s.ms > t) anchors.push([f + s.frames, t + s.ms]);
    }
    return { rate, anchors };
  });

describe('Timeline', () => {
  test('timeOf matches a linear-scan model over random anchors', () => {
    fc.assert(
      fc.property(
        anchorsArb,
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 50 }),
        ({ rate, anchors }, frames) => {
          const tl = new Timeline(rate);
          for (const [f, t] of anchors) tl.addAnchor(f, t);
          for (const f of frames) expect(tl.timeOf(f)).toBe(modelTimeOf(anchors, rate, f));
        },
      ),
    );
  });

  test('frameAt returns the first frame whose time is >= the given time', () => {
    fc.assert(
      fc.property(
        anchorsArb,
        fc.array(fc.double({ min: -1e6, max: 5e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
        ({ rate, anchors }, offsets) => {
          const tl = new Timeline(rate);
          for (const [f, t] of anchors) tl.addAnchor(f, t);
          for (const off of offsets) {
            const t = anchors[0]![1] + off;
            const f = tl.frameAt(t);
            expect(modelTimeOf(anchors, rate, f)).toBeGreaterThanOrEqual(t);
            if (f > 0) expect(modelTimeOf(anchors, rate, f - 1)).toBeLessThan(t);
          }
        },
      ),
    );
  });

  test('time never decreases with the frame index', () => {
    fc.assert(
      fc.property(
        anchorsArb,
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 2, maxLength: 50 }),
        ({ rate, anchors }, frames) => {
          const tl = new Timeline(rate);
          for (const [f, t] of anchors) tl.addAnchor(f, t);
          const sorted = [...frames].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++)
            expect(tl.timeOf(sorted[i]!)).toBeGreaterThanOrEqual(tl.timeOf(sorted[i - 1]!));
        },
      ),
    );
  });

  test('rejects anchors that do not move forward in both frame and time', () => {
    const tl = new Timeline(1000);
    expect(() => tl.addAnchor(5, 100)).toThrow(/first must be frame 0/);
    tl.addAnchor(0, 100);
    expect(() => tl.addAnchor(10, 100)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tl.addAnchor(0, 200)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  test('lookups on an empty timeline fail with OUT_OF_RANGE', () => {
    const tl = new Timeline(1000);
    expect(() => tl.timeOf(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => tl.frameAt(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });

  test('place follows a drifting clock and never moves time backwards on early timestamps', () => {
    const rate = 48_000;
    const tl = new Timeline(rate);
    const drift = 1 + 300e-6; // the sample clock runs 300 ppm slow against the wall clock
    let frame = 0;
    for (let k = 0; k < 3000; k++) {
      const time = 1e12 + (frame * 1000 * drift) / rate + (k % 7 === 0 ? -3 : 0);
      expect(tl.place(frame, time, 1024, false)).toBe(0);
      frame += 1024;
    }
    // After ~64 s the nominal rate would be ~19 ms off; anchors keep the error at the jitter level.
    const truth = 1e12 + (frame * 1000 * drift) / rate;
    expect(Math.abs(tl.timeOf(frame) - truth)).toBeLessThan(4);
    const anchors = tl.anchors();
    for (let i = 1; i < anchors.length; i++) expect(anchors[i]!.time).toBeGreaterThan(anchors[i - 1]!.time);
    expect(tl.gaps).toEqual([]);
  });

  test('place turns late chunks and overflows into silence gaps', () => {
    const tl = new Timeline(1000);
    expect(tl.place(0, 5000, 100, false)).toBe(0);
    expect(tl.place(100, 5100 + 10, 100, false)).toBe(0); // 10 ms of jitter: not a gap
    expect(tl.place(200, 5200 + 300, 100, false)).toBe(300); // 300 ms lost
    expect(tl.gaps).toEqual([{ startFrame: 200, frames: 300, startTime: 5200, durationMs: 300 }]);
    expect(tl.timeOf(500)).toBe(5500);
    expect(tl.place(600, 5600 + 4, 100, true)).toBe(4); // overflow: even a few ms count
    expect(tl.gaps).toHaveLength(2);
    expect(tl.place(704, 5704, 100, true)).toBe(0); // overflow with no time lost: nothing to fill
  });

  test('fill extends the end with a gap at the nominal rate; a late chunk right after it extends the same gap', () => {
    const tl = new Timeline(1000);
    expect(tl.fill(0, 5000)).toBe(0); // empty: nothing to extend
    expect(tl.place(0, 5000, 100, false)).toBe(0);
    expect(tl.fill(100, 5099)).toBe(0);
    expect(tl.fill(100, 5300.9)).toBe(200);
    expect(tl.fill(300, 5450)).toBe(150);
    expect(tl.place(450, 5700, 100, false)).toBe(250);
    expect(tl.gaps).toEqual([{ startFrame: 100, frames: 600, startTime: 5100, durationMs: 600 }]);
    expect(tl.timeOf(700)).toBe(5700);
    expect(tl.place(800, 5900, 100, false)).toBe(100); // after captured frames: a new gap
    expect(tl.gaps).toHaveLength(2);
  });
});
