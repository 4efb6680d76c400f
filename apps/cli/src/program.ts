// The `audex` command tree (commander): flags, help texts, and the error-to-exit-code policy. Each
// command's module is imported only when that command runs.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { STORE_FLAG_HELP } from './store-options.js';
import { paintFor } from './terminal.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function storeFlags(command: Command): Command {
  return command
    .option('--store-dir <dir>', STORE_FLAG_HELP.storeDir)
    .option('--s3-bucket <bucket>', STORE_FLAG_HELP.s3Bucket)
    .option('--s3-endpoint <url>', STORE_FLAG_HELP.s3Endpoint)
    .option('--s3-region <region>', STORE_FLAG_HELP.s3Region);
}

function captureFlags(command: Command): Command {
  return command
    .option(
      '-d, --device <index|name>',
      'input device: its index or part of its name (default: system default)',
    )
    .option('-r, --rate <hz>', 'sample rate in Hz (default 16000)')
    .option('-c, --channels <n>', 'channels (default 1)')
    .option('-t, --duration <time>', 'stop after this long (12, 12.5s, 1500ms, 1:30); default until Ctrl-C')
    .option('--prefix <part>', 'key part after the store prefix (repeatable)', collect)
    .option('--spool-dir <dir>', 'journal directory used for crash recovery (env AUDEX_SPOOL_DIR)');
}

/** The version of this package, read from its package.json (`src/` and `dist/` both sit one level below it). */
function packageVersion(): string {
  const manifest: { version?: unknown } = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  );
  if (typeof manifest.version !== 'string') throw new Error('[audex/cli] package.json has no version');
  return manifest.version;
}

/** Builds the `audex` command tree. */
export function buildProgram(): Command {
  const program = new Command('audex')
    .description('Record audio from a microphone, stream it encoded, and manage stored recordings.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nEnvironment: AUDEX_STORE_DIR, AUDEX_S3_BUCKET, AWS_* (S3), AUDEX_SOURCE=synthetic (test tone), NO_COLOR.',
    );

  program
    .command('devices')
    .description('list audio input devices')
    .option('--json', 'print JSON')
    .action((opts) => import('./commands/devices.js').then((m) => m.devicesCommand(opts)));

  storeFlags(
    captureFlags(
      program
        .command('record')
        .description('record until Ctrl-C or --duration, save a WAV (or FLAC) to the store, print its key'),
    ),
  )
    .option(
      '--sample-format <format>',
      'capture sample format: int8, int16, int24, int32, float32 (default int16)',
    )
    .option('--json', 'print the result as JSON')
    .option('--vad', 'mark speech regions in the stored metadata (voice activity; see ls and get --speech)')
    .option(
      '--store-format <format>',
      'stored file format: wav or flac (lossless, about half the size; 8/16/24-bit captures) (default wav)',
    )
    .option(
      '--rotate <length>',
      'store a file per this much audio (10m, 1h, 90s), each as it closes; the files join sample for sample',
    )
    .action((opts) =>
      import('./commands/record.js').then((m) => m.recordCommand({ ...opts, prefix: opts.prefix ?? [] })),
    );

  storeFlags(
    captureFlags(
      program
        .command('stream')
        .description('record and write one continuous encoded stream to stdout (e.g. > live.mp3)'),
    ),
  )
    .option('-f, --format <format>', 'output format: mp3, opus, flac, wav or pcm', 'mp3')
    .option('-b, --bitrate <kbps>', 'bitrate for mp3/opus in kbit/s (defaults 128 / 64)')
    .option('--sample-format <format>', 'capture sample format: int8, int16, int24, int32, float32')
    .option('--save', 'also save the recording to the store')
    .action((opts) =>
      import('./commands/stream.js').then((m) => m.streamCommand({ ...opts, prefix: opts.prefix ?? [] })),
    );

  storeFlags(
    program
      .command('ls')
      .description('list stored recordings')
      .argument('[prefix]', 'only keys under this prefix'),
  )
    .option('--json', 'print JSON')
    .action((prefix, opts) => import('./commands/ls.js').then((m) => m.lsCommand(prefix, opts)));

  storeFlags(
    program
      .command('get')
      .description('download a recording, optionally transcoded and/or cut to a time range')
      .argument('<key>', 'key of the recording (see audex ls)'),
  )
    .option('-f, --format <format>', 'transcode to this format: wav, flac, mp3, opus or pcm')
    .option('--from <time>', 'start of the range, from the recording start (12.5, 1500ms, 1:02.5)')
    .option('--to <time>', 'end of the range, from the recording start')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option(
      '--speech [mode]',
      'only the speech: joined (default), or "split" for one file per region (-o NAME.EXT gives NAME-1.EXT, …)',
    )
    .option('--normalize [lufs]', 'normalise loudness to this target in LUFS (default -23, EBU R128)')
    .option('--true-peak <dbtp>', 'true-peak ceiling for --normalize in dBTP (default -1)')
    .action((key, opts) => import('./commands/get.js').then((m) => m.getCommand(key, opts)));

  storeFlags(program.command('rm').description('delete recordings').argument('<key...>', 'keys to delete'))
    .option('--force', 'ignore keys that do not exist')
    .action((keys, opts) => import('./commands/rm.js').then((m) => m.rmCommand(keys, opts)));

  storeFlags(program.command('recover').description('save recordings a crash left unfinished'))
    .option('--spool-dir <dir>', 'journal directory to recover from (env AUDEX_SPOOL_DIR)')
    .option('--json', 'print JSON')
    .action((opts) => import('./commands/recover.js').then((m) => m.recoverCommand(opts)));

  storeFlags(
    program
      .command('web')
      .description('serve the web demo: record, watch the level, play and download recordings in a browser'),
  )
    .option('-p, --port <port>', 'TCP port, 0 to 65535 (0 picks a free one; default 3000)')
    .option(
      '--host <host>',
      'address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 shares the microphone with the network)',
    )
    .option('--spool-dir <dir>', 'journal directory used for crash recovery (env AUDEX_SPOOL_DIR)')
    .option('--store-format <format>', 'stored file format: wav or flac (default wav)')
    .option(
      '--pre-roll <length>',
      'keep the microphone open while a page is connected; Start records at once, this far back (2s; at most 60s)',
    )
    .option('--rotate <length>', 'store a file per this much audio (10m, 1h, 90s), each as it closes')
    .action((opts) => import('./commands/web.js').then((m) => m.webCommand(opts)));

  return program;
}

/** Runs the CLI on `argv` and returns the exit code; errors are printed as one clear line. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    outputError: (text, write) => write(paintFor(process.stderr).red(text)),
  });
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and --version exit through here with code 0; usage errors were already printed
      return error.exitCode === 0 ? 0 : 2;
    }
    const paint = paintFor(process.stderr);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${paint.red('audex: error:')} ${message}\n`);
    if (process.env.AUDEX_DEBUG && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
