/** What went wrong, for scripts that read `--json` errors. */
export type CliErrorCode =
  | 'USAGE'
  | 'BAD_DEVICE'
  | 'BAD_FORMAT'
  | 'BAD_RANGE'
  | 'NOT_FOUND'
  | 'NO_INPUT_DEVICE'
  | 'REFUSED_TTY'
  | 'FAILED';

/**
 * An error the CLI reports as one clear line on stderr, then exits with `exitCode`
 * (2 for usage mistakes, 1 for everything else).
 */
export class CliError extends Error {
  /** Machine-readable kind of failure. */
  readonly code: CliErrorCode;
  /** Process exit code to use. */
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options?.exitCode ?? (code === 'USAGE' ? 2 : 1);
  }
}
