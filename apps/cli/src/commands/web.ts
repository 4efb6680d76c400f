// `audex web`: serves the web demo (@audex/web) on --host/--port over the selected store until Ctrl-C.
import type { WebError } from '@audex/web';
import { audioSourceKind } from '../audio-source.js';
import { CliError } from '../cli-error.js';
import { parseRotate } from '../record-status.js';
import { describeStore, openStore, parseStoreFormat, type StoreFlags } from '../store-options.js';
import { parseTimeOffset } from '../time-value.js';

/** Flags of `audex web`. */
export interface WebFlags extends StoreFlags {
  /** TCP port (`--port`), 0 to 65535; default 3000. */
  port?: string;
  /** Address to listen on (`--host`); default 127.0.0.1. */
  host?: string;
  /** Spool (journal) directory for crash recovery. */
  spoolDir?: string;
  /** Stored file format: `wav` (default) or `flac`. */
  storeFormat?: string;
  /** `--pre-roll`: the microphone stays open while a page is connected; a recording reaches this far back. */
  preRoll?: string;
  /** `--rotate`: a file per this much audio. */
  rotate?: string;
}

/** Parses `--pre-roll`: a length (`2s`, `1500ms`, `0:05`) from 0 to 60 s, in ms. */
export function parsePreRoll(text: string): number {
  let seconds: number;
  try {
    seconds = parseTimeOffset(text, '--pre-roll');
  } catch (error) {
    throw new CliError(
      'USAGE',
      `--pre-roll "${text.slice(0, 40)}" is not a length; use e.g. 2s, 1500ms or 0:05`,
      {
        cause: error,
      },
    );
  }
  if (seconds > 60) {
    throw new CliError('USAGE', `--pre-roll "${text.slice(0, 40)}" is too long; use at most 60 s`);
  }
  return Math.round(seconds * 1000);
}

/** Parses `--port`: a whole number from 0 to 65535 (0 picks a free port). */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new CliError(
      'USAGE',
      `--port "${text.slice(0, 40)}" is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)`,
    );
  }
  return Number(text);
}

/**
 * The CLI's wording for a failure to start the server: the library's message, its subject ("port
 * 80 …", "host name "x" …") spelled as the flag to change.
 */
function startError(error: WebError): CliError {
  const reason = error.message.replace(/^\[audex\/web\] /, '');
  const asFlag = (flag: 'port' | 'host') => reason.replace(/^(port|host name|host) /, `--${flag} `);
  switch (error.code) {
    case 'BAD_PORT':
      return new CliError('USAGE', asFlag('port'), { cause: error });
    case 'BAD_HOST':
      return new CliError('USAGE', asFlag('host'), { cause: error });
    case 'PORT_IN_USE':
      return new CliError(
        'FAILED',
        `port ${error.port} on ${error.host} is already in use by another program; pick another with --port (--port 0 picks a free one)`,
        { cause: error },
      );
    case 'PORT_DENIED':
      return new CliError('FAILED', asFlag('port'), { cause: error });
    case 'HOST_UNAVAILABLE':
      return new CliError('FAILED', asFlag('host'), { cause: error });
    default:
      return new CliError('FAILED', reason, { cause: error });
  }
}

/** `audex web`: starts the web demo, prints its address, and serves until Ctrl-C (a recording is saved). */
export async function webCommand(flags: WebFlags): Promise<void> {
  const port = flags.port === undefined ? undefined : parsePort(flags.port);
  const storeFormat = parseStoreFormat(flags.storeFormat);
  const preRollMs = flags.preRoll === undefined ? undefined : parsePreRoll(flags.preRoll);
  const rotateMs = flags.rotate === undefined ? undefined : Math.round(parseRotate(flags.rotate) * 1000);
  const source = audioSourceKind();
  // loaded on demand: the other commands do not need the HTTP and WebSocket server
  const { isWebError, startWebDemo } = await import('@audex/web');
  const store = await openStore(flags);
  const spoolDir = flags.spoolDir ?? process.env.AUDEX_SPOOL_DIR;
  let demo: Awaited<ReturnType<typeof startWebDemo>>;
  try {
    demo = await startWebDemo({
      store,
      storeLabel: describeStore(flags),
      source,
      ...(port !== undefined ? { port } : {}),
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(spoolDir ? { spoolDir } : {}),
      ...(storeFormat ? { storeFormat } : {}),
      ...(preRollMs !== undefined ? { preRollMs } : {}),
      ...(rotateMs !== undefined ? { rotateMs } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    throw isWebError(error) ? startError(error) : error;
  }
  process.stdout.write('  Ctrl-C stops the server (a recording in progress is saved first)\n');
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // a second Ctrl-C while saving exits at once
      const again = () => process.exit(130);
      process.on('SIGINT', again);
      process.on('SIGTERM', again);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await demo.close();
}
