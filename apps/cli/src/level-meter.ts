import { formatBytes, formatDuration, type Paint, paintFor, toDbfs } from './terminal.js';

const WIDTH = 30;
const FLOOR_DB = -60;

/**
 * The live line shown while recording on a terminal: elapsed time, a peak/RMS bar in dBFS and the
 * size recorded so far. Redraws at most every 100 ms; `stop()` clears the line.
 */
export class LevelMeter {
  readonly #out: NodeJS.WriteStream;
  readonly #paint: Paint;
  readonly #label: string;
  #peak = 0;
  #rms = 0;
  #hold = 0;
  #timer: NodeJS.Timeout | undefined;
  #render: () => { elapsedMs: number; bytes: number };
  readonly #note: () => string;

  /**
   * @param stats - elapsed audio and bytes so far.
   * @param note - extra state shown after the size (reconnecting, file number, …), or ''.
   */
  constructor(
    out: NodeJS.WriteStream,
    label: string,
    stats: () => { elapsedMs: number; bytes: number },
    note: () => string = () => '',
  ) {
    this.#out = out;
    this.#paint = paintFor(out);
    this.#label = label;
    this.#render = stats;
    this.#note = note;
  }

  /** Feeds one level reading (linear, 0..1). */
  update(peak: number, rms: number): void {
    this.#peak = Math.max(this.#peak, peak);
    this.#rms = Math.max(this.#rms, rms);
  }

  /** Starts redrawing. */
  start(): void {
    this.#timer = setInterval(() => this.#draw(), 100);
    this.#draw();
  }

  /** Stops redrawing and clears the line. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#out.write('\r\u001b[2K');
  }

  #draw(): void {
    const { elapsedMs, bytes } = this.#render();
    const peakDb = toDbfs(this.#peak);
    const rmsDb = toDbfs(this.#rms);
    this.#hold = Math.max(peakDb, this.#hold - 1.5);
    const cells = (db: number) => Math.round(Math.max(0, Math.min(1, 1 - db / FLOOR_DB)) * WIDTH);
    const rmsCells = cells(rmsDb);
    const peakCells = Math.max(rmsCells, cells(peakDb));
    const bar =
      this.#paint.green('█'.repeat(rmsCells)) +
      (peakDb > -3 ? this.#paint.red : this.#paint.yellow)('▒'.repeat(peakCells - rmsCells)) +
      this.#paint.dim('·'.repeat(WIDTH - peakCells));
    const db = `${peakDb <= -99 ? '  -∞' : peakDb.toFixed(1).padStart(5)} dBFS`;
    const note = this.#note();
    this.#out.write(
      `\r\u001b[2K${this.#paint.red('●')} ${this.#label} ${formatDuration(elapsedMs)}  ${bar} ${db}  ${formatBytes(bytes)}${note ? `  ${note}` : ''}`,
    );
    this.#peak = 0;
    this.#rms = 0;
  }
}
