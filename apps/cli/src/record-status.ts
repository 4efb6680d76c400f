// What `audex record` shows about a recording that keeps going: the input lost and back, the files
// of a rotation as each is stored, a silent input. On a terminal the state joins the live level
// line (`note()`); each change is also one line on stderr, so logs and pipes see it too. Parses
// `--rotate` (a file length: 10m, 1h, 90s, 1:30:00).
import type { AudioRecorder } from '@audex/recorder';
import { CliError } from './cli-error.js';
import { type Paint, paintFor } from './terminal.js';
import { parseTimeOffset } from './time-value.js';

const UNITS: Record<string, number> = { h: 3600, m: 60, min: 60 };

/** `--rotate`: a file length in seconds (`10m`, `1h`, `90s`, `1500ms`, `1:30:00`), at least 1 s. */
export function parseRotate(value: string): number {
  const unit = /^(\d+(?:\.\d+)?)(h|m|min)$/.exec(value.trim());
  let seconds: number;
  try {
    seconds = unit ? Number(unit[1]) * UNITS[unit[2]!]! : parseTimeOffset(value, '--rotate');
  } catch (error) {
    throw new CliError(
      'USAGE',
      `--rotate "${value}" is not a file length; use e.g. 10m, 1h, 90s or 1:30:00`,
      {
        cause: error,
      },
    );
  }
  if (!(seconds >= 1)) {
    throw new CliError(
      'USAGE',
      `--rotate "${value}" is too short; a file must last at least 1 s (e.g. 10m, 1h, 30s)`,
    );
  }
  return seconds;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Follows a recorder's device, rotation and silence events for `audex record`. */
export class RecordStatus {
  readonly #err: NodeJS.WriteStream;
  readonly #paint: Paint;
  readonly #live: boolean;
  /** Keys stored so far, in order (with rotation, one per file). */
  readonly stored: string[] = [];
  #reconnecting = false;
  #silent = false;
  #files = 1;

  /**
   * @param recorder - the recorder to follow.
   * @param live - a live level line is shown (notices then clear it first).
   * @param onStored - called with each key as it is stored.
   */
  constructor(recorder: AudioRecorder, live: boolean, onStored: (key: string) => void) {
    this.#err = process.stderr;
    this.#paint = paintFor(this.#err);
    this.#live = live;
    recorder.on('deviceLost', ({ message }) => {
      this.#reconnecting = true;
      this.#say(
        `${this.#paint.yellow('input lost:')} ${message}; reconnecting (the outage is kept as silence)`,
      );
    });
    recorder.on('deviceRestored', ({ gapMs }) => {
      this.#reconnecting = false;
      this.#say(`${this.#paint.green('input back')} after ${seconds(gapMs)}`);
    });
    recorder.on('rotated', ({ sequence }) => {
      this.#files = sequence + 1;
    });
    recorder.on('stored', ({ key }) => {
      this.stored.push(key);
      onStored(key);
    });
    recorder.on('silence', ({ durationMs }) => {
      this.#silent = true;
      this.#say(
        `${this.#paint.yellow('warning:')} no sound for ${seconds(durationMs)}: is the microphone muted or dead?`,
      );
    });
    recorder.on('sound', ({ silentMs }) => {
      this.#silent = false;
      this.#say(`sound again after ${seconds(silentMs)} of silence`);
    });
  }

  /** Files begun so far (1 without rotation). */
  get files(): number {
    return this.#files;
  }

  /** The state for the live line: the file number, reconnecting, silent input. */
  note(): string {
    const parts: string[] = [];
    if (this.#files > 1) parts.push(`file ${this.#files}`);
    if (this.#reconnecting) parts.push(this.#paint.yellow('reconnecting…'));
    if (this.#silent) parts.push(this.#paint.yellow('silent input'));
    return parts.join('  ');
  }

  #say(line: string): void {
    this.#err.write(`${this.#live ? '\r\u001b[2K' : ''}${line}\n`);
  }
}
