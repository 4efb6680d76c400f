// The error class of @audex/web's library API (starting the demo server); request errors answered
// over HTTP are HttpError (src/server/http-error.ts).

/**
 * Codes of {@link WebError}.
 *
 * - `BAD_PORT`: the port is not a whole number from 0 to 65535.
 * - `BAD_HOST`: the host is not an IP address or a host name.
 * - `BAD_SOURCE`: the input source is not `portaudio` or `synthetic`.
 * - `BAD_STORE_FORMAT`: the stored format is not `wav` or `flac`.
 * - `BAD_PRE_ROLL`: the pre-roll is not a number of ms from 0 to 60000.
 * - `BAD_ROTATE`: the rotation length is not a number of ms of at least 1000.
 * - `BAD_SILENCE`: the silence warning's wait is not a number of ms from 100 to 86400000.
 * - `PORT_IN_USE`: another program listens on that port and address.
 * - `PORT_DENIED`: the system refused the port (below 1024 without privileges).
 * - `HOST_UNAVAILABLE`: the host is not an address of this machine, or its name does not resolve.
 * - `CLIENT_MISSING`: the built browser script is missing from the installed package.
 * - `LISTEN_FAILED`: any other failure to listen.
 */
export type WebErrorCode =
  | 'BAD_PORT'
  | 'BAD_HOST'
  | 'BAD_SOURCE'
  | 'BAD_STORE_FORMAT'
  | 'BAD_PRE_ROLL'
  | 'BAD_ROTATE'
  | 'BAD_SILENCE'
  | 'PORT_IN_USE'
  | 'PORT_DENIED'
  | 'HOST_UNAVAILABLE'
  | 'CLIENT_MISSING'
  | 'LISTEN_FAILED';

/**
 * The error `startWebDemo` throws. The message starts with `[audex/web]` and names the value at fault
 * and what is allowed; `cause` keeps the system error when there is one.
 */
export class WebError extends Error {
  /** Always `'WebError'`. */
  override readonly name = 'WebError';
  /** What went wrong, machine-readable. */
  readonly code: WebErrorCode;
  /** The port concerned, when there is one. */
  readonly port: number | undefined;
  /** The host concerned, when there is one. */
  readonly host: string | undefined;

  /**
   * @param code - machine-readable reason.
   * @param message - human explanation, without the `[audex/web]` prefix (added here).
   * @param options - the port and host concerned and the underlying cause.
   */
  constructor(
    code: WebErrorCode,
    message: string,
    options: { port?: number; host?: string; cause?: unknown } = {},
  ) {
    super(`[audex/web] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.port = options.port;
    this.host = options.host;
  }
}

/** True when `error` is a {@link WebError}, optionally with the given code. */
export function isWebError(error: unknown, code?: WebErrorCode): error is WebError {
  return error instanceof WebError && (code === undefined || error.code === code);
}
