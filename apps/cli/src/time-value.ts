import { CliError } from './cli-error.js';

const CLOCK = /^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/;
const PLAIN = /^(\d+(?:\.\d+)?)(ms|s)?$/;

/**
 * Parses a time offset into a recording, in seconds: `12`, `12.5`, `12.5s`, `1500ms`, `1:02.5`, `1:02:03`.
 * Throws a `BAD_RANGE` CliError naming `what` and the accepted shapes.
 */
export function parseTimeOffset(value: string, what: string): number {
  const text = value.trim();
  const plain = PLAIN.exec(text);
  let seconds: number | undefined;
  if (plain) {
    const n = Number(plain[1]);
    seconds = plain[2] === 'ms' ? n / 1000 : n;
  } else {
    const clock = CLOCK.exec(text);
    if (clock) {
      const h = Number(clock[1] ?? 0);
      const m = Number(clock[2]);
      const s = Number(clock[3]);
      if (s < 60 && (clock[1] === undefined || m < 60)) seconds = h * 3600 + m * 60 + s;
    }
  }
  if (seconds === undefined || !Number.isFinite(seconds)) {
    throw new CliError(
      'BAD_RANGE',
      `${what} "${value}" is not a time; use seconds (12.5, 12.5s), milliseconds (1500ms) or a clock (1:02.5, 1:02:03)`,
    );
  }
  return seconds;
}
