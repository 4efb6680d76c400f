// The gated statistics of ITU-R BS.1770-4 and EBU Tech 3342 over a bounded histogram: block
// loudness from -70 to +10 LUFS in 0.01 LU bins (8001 bins, count and summed power per bin), so a
// day-long recording costs the same memory as a minute. This is the histogram mode of ffmpeg's
// ebur128 filter and of libebur128; the summed power per bin keeps the integrated mean exact except
// for blocks in the one bin the relative gate falls into.

const ABSOLUTE_GATE = -70;
const TOP = 10;
const GRAIN = 100;
const BINS = (TOP - ABSOLUTE_GATE) * GRAIN + 1;

/** BS.1770 loudness of a mean-square power (channel-weighted). */
export function powerToLufs(power: number): number {
  return power > 0 ? -0.691 + 10 * Math.log10(power) : Number.NEGATIVE_INFINITY;
}

/** Mean-square power of a loudness. */
export function lufsToPower(lufs: number): number {
  return 10 ** ((lufs + 0.691) / 10);
}

function binOf(lufs: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor((lufs - ABSOLUTE_GATE) * GRAIN)));
}

function binLufs(bin: number): number {
  return bin / GRAIN + ABSOLUTE_GATE;
}

/** Histogram of block powers above the absolute gate. */
export class GatingHistogram {
  readonly #counts = new Float64Array(BINS);
  readonly #powers = new Float64Array(BINS);
  #count = 0;
  #power = 0;

  /** Adds one block's power; blocks under -70 LUFS are dropped (absolute gate). */
  add(power: number): void {
    const lufs = powerToLufs(power);
    if (!(lufs >= ABSOLUTE_GATE)) return;
    const bin = binOf(lufs);
    this.#counts[bin]! += 1;
    this.#powers[bin]! += power;
    this.#count += 1;
    this.#power += power;
  }

  /** First bin of the relative gate `relativeLu` below the mean of the kept blocks. */
  #gateBin(relativeLu: number): number {
    return binOf(powerToLufs(this.#power / this.#count) + relativeLu);
  }

  /** Integrated loudness: mean power of the blocks above the relative gate (-10 LU), in LUFS. */
  integrated(): number {
    if (this.#count === 0) return Number.NEGATIVE_INFINITY;
    let n = 0;
    let p = 0;
    for (let i = this.#gateBin(-10); i < BINS; i++) {
      n += this.#counts[i]!;
      p += this.#powers[i]!;
    }
    return n > 0 ? powerToLufs(p / n) : Number.NEGATIVE_INFINITY;
  }

  /**
   * Loudness range (EBU Tech 3342): the spread between the 10th and 95th percentiles of the
   * short-term blocks above the relative gate (-20 LU), in LU. Percentiles are taken as ffmpeg
   * and libebur128 take them, on the histogram.
   */
  range(): number {
    if (this.#count === 0) return 0;
    const gate = this.#gateBin(-20);
    let total = 0;
    for (let i = gate; i < BINS; i++) total += this.#counts[i]!;
    if (total === 0) return 0;
    const lowRank = Math.floor(0.1 * total + 0.5);
    let low = binLufs(gate);
    for (let i = gate, n = 0; i < BINS; i++) {
      n += this.#counts[i]!;
      if (n >= lowRank && n > 0) {
        low = binLufs(i);
        break;
      }
    }
    const highRank = Math.floor(0.95 * total + 0.5);
    let high = low;
    for (let i = BINS - 1, n = total; i >= gate; i--) {
      n -= this.#counts[i]!;
      if (n < highRank) {
        high = binLufs(i);
        break;
      }
    }
    return Math.max(0, high - low);
  }
}
