import { describe, expect, it } from 'vitest';
import { SampleClock } from '../src/index.js';

// Feeds the clock callbacks of `frames` frames at the CLOCK_MONOTONIC times a device would call
// back at, optionally late; returns the wall time of frame 0 the device really had.
const RATE = 16000;
const PERIOD = 400; // frames per callback, 25 ms
const nowMono = (): number => Number(process.hrtime.bigint()) / 1e6;
const monoToWall = (): number => performance.timeOrigin + performance.now() - nowMono();

describe('SampleClock', () => {
  it('takes the earliest anchor estimate while free, so a late first burst does not set it', () => {
    const clock = new SampleClock(RATE);
    const base = nowMono();
    // callbacks 1..4 arrive together 80 ms late (a burst), then on time
    for (let k = 1; k <= 12; k++) {
      const onTime = base + k * 25;
      clock.observe(k <= 4 ? base + 4 * 25 + 80 : onTime, k * PERIOD, 0);
    }
    clock.lock();
    expect(clock.timeOf(0) - (base + monoToWall())).toBeCloseTo(0, 0);
  });

  it('once locked, slews by at most 0.2 % of elapsed audio and never goes back in time', () => {
    const clock = new SampleClock(RATE);
    const base = nowMono();
    clock.observe(base + 25 + 50, PERIOD, 0); // late by 50 ms, then locked
    clock.lock();
    const anchor0 = clock.timeOf(0);
    let prev = Number.NEGATIVE_INFINITY;
    // 2 s of on-time callbacks: the anchor may come in by at most 0.2 % x 2 s = 4 ms
    for (let k = 2; k <= 80; k++) {
      clock.observe(base + k * 25, k * PERIOD, 0);
      const t = clock.timeOf(k * PERIOD);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    const moved = anchor0 - (clock.timeOf(81 * PERIOD) - (81 * PERIOD * 1000) / RATE);
    expect(moved).toBeGreaterThan(3);
    expect(moved).toBeLessThanOrEqual(SampleClock.MAX_SLEW * 2000 + 1e-6);
  });

  it('jumps forward and reports lost input when frames are missing for elapsed time', () => {
    const clock = new SampleClock(RATE);
    const base = nowMono();
    for (let k = 1; k <= 8; k++) clock.observe(base + k * 25, k * PERIOD, 0);
    clock.lock();
    let gaps = 0;
    // from callback 9 on, 500 ms of wall time passed without those frames
    for (let k = 9; k <= 40; k++) if (clock.observe(base + k * 25 + 500, k * PERIOD, 0)) gaps++;
    expect(gaps).toBe(1);
    expect(clock.frameAt(base + monoToWall() + 40 * 25 + 500)).toBeCloseTo(40 * PERIOD, -1);
  });

  it('maps wall time to frames and back', () => {
    const clock = new SampleClock(RATE);
    clock.observe(nowMono(), PERIOD, 10);
    clock.lock();
    expect(clock.frameAt(clock.timeOf(12345))).toBeCloseTo(12345, 6);
    expect(() => new SampleClock(RATE).lock()).toThrow(/before any observation/);
  });
});
