import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ToneSequenceOptions, writeToneSequence } from './signals.js';

const run = promisify(execFile);

/** Options of {@link startVirtualMic}. */
export interface VirtualMicOptions {
  /** Sample rate of the null sink and the microphone, in Hz. Default 48000. */
  rate?: number;
  /** Channels of the null sink and the microphone. Default 2. */
  channels?: number;
  /**
   * Set `PULSE_SERVER` / `XDG_RUNTIME_DIR` / `PULSE_COOKIE` in this process's `process.env` so
   * PortAudio (ALSA's pulse plugin) in this process and its children uses the virtual mic. Default true.
   * Set them BEFORE the first PortAudio call: ALSA reads its pulse hook when PortAudio initialises.
   */
  setEnv?: boolean;
  /** Let the daemon outlive this process (for the CLI). Default false. */
  detached?: boolean;
  /** How long to wait for the daemon to answer, in ms. Default 10000. */
  timeoutMs?: number;
  /**
   * Let clients hand audio to the daemon in shared memory, PulseAudio's default. Default false: with
   * it, PulseAudio 16.1 now and then aborts when a player disconnects (see the daemon's arguments).
   * Only for showing that difference.
   */
  sharedMemory?: boolean;
}

/** A private PulseAudio daemon whose default source plays back whatever is played into it. */
export interface VirtualMic {
  /** Environment entries that point PulseAudio clients (and ALSA's pulse plugin) at this daemon. */
  readonly env: Readonly<Record<'PULSE_SERVER' | 'XDG_RUNTIME_DIR' | 'PULSE_COOKIE', string>>;
  /** Process id of the daemon (a new one after {@link VirtualMic.restart}). */
  readonly pid: number;
  /**
   * How the daemon ended when nothing here asked it to (a crash: exit code or signal, and its last
   * lines on stderr), else undefined. Such an end is also written to this process's stderr when it
   * happens, so a test that then finds no microphone shows why.
   */
  readonly crash: string | undefined;
  /** Private runtime directory (socket, config), removed by `stop()`. */
  readonly dir: string;
  /** Name of the null sink played into. */
  readonly sinkName: string;
  /** Name of the virtual microphone (the default source). */
  readonly sourceName: string;
  /** Plays a WAV file (or a tone sequence, rendered with sox) into the mic; resolves when done. */
  play(input: string | ToneSequenceOptions): Promise<void>;
  /** Starts playing in the background; the returned handle stops it early or awaits its end. */
  playBackground(input: string | ToneSequenceOptions): Promise<Playback>;
  /**
   * Kills the daemon with SIGKILL, as a crash would (clients see their server vanish); the runtime
   * directory stays, so {@link VirtualMic.restart} can bring it back on the same socket.
   */
  kill(): Promise<void>;
  /** Starts the daemon again on the same socket, with the same sink and mic (after {@link VirtualMic.kill}). */
  restart(): Promise<void>;
  /** Unloads the virtual mic's module (the source vanishes, as an unplugged device does). */
  unloadSource(): Promise<void>;
  /** Loads the virtual mic's module again and makes it the default source. */
  loadSource(): Promise<void>;
  /** Mutes or unmutes the virtual mic (muted, it delivers digital silence). */
  setMuted(muted: boolean): Promise<void>;
  /**
   * Suspends or resumes the virtual mic (`pactl suspend-source`): suspended, its streams get no audio
   * and no error (a stall, as a device whose callbacks stop); resumed, audio flows again.
   */
  setSuspended(suspended: boolean): Promise<void>;
  /** Kills the daemon this helper started (only that one) and removes its runtime directory. */
  stop(): Promise<void>;
}

/** A background playback started by {@link VirtualMic.playBackground}. */
export interface Playback {
  /** `performance.timeOrigin + performance.now()` when the player process was spawned, ms. */
  readonly startedAt: number;
  /** Resolves when playback ends (naturally or after `stop()`). */
  readonly done: Promise<void>;
  /** Stops playback early. */
  stop(): Promise<void>;
}

/** One run of the daemon. */
interface Running {
  daemon: ChildProcess;
  exited: boolean;
  /** Set before this helper kills the daemon, so its end is not taken for a crash. */
  stopping: boolean;
  /** Set when the daemon ended without {@link Running.stopping}. */
  crash?: string;
  exit: Promise<void>;
}

const SINK = 'audex_speaker';
const SOURCE = 'audex_mic';

/**
 * Starts a private PulseAudio daemon (running as whatever user this is, root included) with a
 * null sink and a virtual microphone fed by its monitor, both the defaults, on a unix socket in a
 * fresh temp runtime dir. Nothing of the system's own audio set-up is touched.
 */
export async function startVirtualMic(options: VirtualMicOptions = {}): Promise<VirtualMic> {
  const rate = options.rate ?? 48_000;
  const channels = options.channels ?? 2;
  const dir = await mkdtemp(join(tmpdir(), 'audex-pulse-'));
  const socket = join(dir, 'native');
  const config = join(dir, 'default.pa');
  const remapSource = [
    'module-remap-source',
    `source_name=${SOURCE}`,
    `master=${SINK}.monitor`,
    'source_properties=device.description=audex-virtual-mic',
  ];
  await writeFile(
    config,
    [
      `load-module module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      `load-module module-null-sink sink_name=${SINK} rate=${rate} channels=${channels} sink_properties=device.description=audex-virtual-speaker`,
      `load-module ${remapSource.join(' ')}`,
      `set-default-sink ${SINK}`,
      `set-default-source ${SOURCE}`,
      '',
    ].join('\n'),
  );
  const env = {
    PULSE_SERVER: `unix:${socket}`,
    XDG_RUNTIME_DIR: dir,
    PULSE_COOKIE: join(dir, 'cookie'),
  };
  const childEnv = { ...process.env, ...env, HOME: dir };
  const spawnDaemon = async (): Promise<Running> => {
    const daemon: ChildProcess = spawn(
      'pulseaudio',
      [
        '-n',
        '-F',
        config,
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--system=no',
        '--realtime=no',
        '--high-priority=no',
        '--disallow-module-loading=no',
        '--log-target=stderr',
        '--log-level=error',
        // PulseAudio 16.1 (Debian 12) can abort when a client that shared its memory with the daemon goes
        // away while the sink's IO thread drops the last reference to one of that client's blocks:
        // memblock_free() counts the block out of the pool before taking the import's lock, and
        // pa_memimport_free() (client disconnected) or pa_memimport_process_revoke(), holding that lock,
        // replaces the same block and asserts the count is still > 0 ("Assertion
        // 'pa_atomic_load(&b->pool->stat.n_imported) > 0' failed at memblock.c:780 ... Aborting."). Tests
        // stop a tone player right after a capture, which is that moment: ~1 apps/cli run in 25 lost its
        // daemon (SIGABRT) and the next capture found no input device. Without shared memory the daemon
        // never imports a client's block (clients send audio over the socket), so that path cannot run.
        `--disable-shm=${options.sharedMemory ? 'no' : 'yes'}`,
      ],
      {
        env: childEnv,
        stdio: ['ignore', 'ignore', options.detached ? 'ignore' : 'pipe'],
        detached: options.detached ?? false,
      },
    );
    let stderr = '';
    daemon.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4096);
    });
    const ended = (how: string): void => {
      if (running.exited) return;
      running.exited = true;
      if (running.stopping) return;
      running.crash = `the virtual mic's PulseAudio daemon (pid ${daemon.pid}) ended by itself: ${how}; its stderr: ${stderr.trim() || '(empty)'}`;
      process.stderr.write(`[audex/test-utils] ${running.crash}\n`);
    };
    const running: Running = {
      daemon,
      exited: false,
      stopping: false,
      exit: new Promise<void>((resolve) => {
        // 'close' (not 'exit') so the daemon's last stderr lines are in
        daemon.once('close', (code, signal) => {
          ended(signal ? `signal ${signal}` : `exit code ${code}`);
          resolve();
        });
        daemon.once('error', (error) => {
          ended(`could not run pulseaudio: ${error.message}`);
          resolve();
        });
      }),
    };
    if (options.detached) daemon.unref();
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      if (running.exited) {
        throw new Error(
          `[audex/test-utils] pulseaudio exited during start-up: ${stderr.trim() || '(no output)'}`,
        );
      }
      if (existsSync(socket)) {
        try {
          await run('pactl', ['info'], { env: childEnv, timeout: 2000 });
          return running;
        } catch {
          // not answering yet
        }
      }
      if (Date.now() > deadline) {
        running.stopping = true;
        daemon.kill('SIGKILL');
        throw new Error(
          `[audex/test-utils] pulseaudio did not answer on ${socket} within ${options.timeoutMs ?? 10_000} ms: ${stderr.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let current: Running;
  try {
    current = await spawnDaemon();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const pactl = async (...args: string[]): Promise<string> =>
    (await run('pactl', args, { env: childEnv, timeout: 5000 })).stdout;
  const kill = async (): Promise<void> => {
    if (current.exited) return;
    current.stopping = true;
    current.daemon.kill('SIGKILL');
    await current.exit;
  };
  if (options.setEnv ?? true) Object.assign(process.env, env);

  const players = new Set<ChildProcess>();
  const toFile = async (input: string | ToneSequenceOptions): Promise<string> =>
    typeof input === 'string'
      ? input
      : writeToneSequence(join(dir, `tones-${players.size}-${Date.now()}.wav`), input);
  const playBackground = async (input: string | ToneSequenceOptions): Promise<Playback> => {
    const file = await toFile(input);
    const startedAt = performance.timeOrigin + performance.now();
    const player = spawn('paplay', [`--device=${SINK}`, file], {
      env: childEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    players.add(player);
    let err = '';
    player.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const done = new Promise<void>((resolve, reject) => {
      player.once('error', reject);
      player.once('exit', (code, signal) => {
        players.delete(player);
        if (code === 0 || signal === 'SIGTERM') resolve();
        else reject(new Error(`[audex/test-utils] paplay ${file} failed (${code ?? signal}): ${err.trim()}`));
      });
    });
    return {
      startedAt,
      done,
      stop: async () => {
        if (player.exitCode === null && player.signalCode === null) player.kill('SIGTERM');
        await done.catch(() => {});
      },
    };
  };

  return {
    env,
    get pid() {
      return current.daemon.pid ?? -1;
    },
    get crash() {
      return current.crash;
    },
    dir,
    sinkName: SINK,
    sourceName: SOURCE,
    play: async (input) => (await playBackground(input)).done,
    playBackground,
    kill,
    restart: async () => {
      await kill();
      current = await spawnDaemon();
    },
    unloadSource: async () => {
      const line = (await pactl('list', 'short', 'modules'))
        .split('\n')
        .find((l) => l.includes('module-remap-source') && l.includes(`source_name=${SOURCE}`));
      if (!line) throw new Error(`[audex/test-utils] the virtual mic ${SOURCE} is not loaded`);
      await pactl('unload-module', line.split('\t')[0]!);
    },
    loadSource: async () => {
      await pactl('load-module', ...remapSource);
      await pactl('set-default-source', SOURCE);
    },
    setMuted: async (muted) => {
      await pactl('set-source-mute', SOURCE, muted ? '1' : '0');
    },
    setSuspended: async (suspended) => {
      await pactl('suspend-source', SOURCE, suspended ? '1' : '0');
    },
    stop: async () => {
      for (const p of players) p.kill('SIGTERM');
      if (!current.exited) {
        const { daemon } = current;
        current.stopping = true;
        daemon.kill('SIGTERM');
        const timer = setTimeout(() => daemon.kill('SIGKILL'), 3000);
        await current.exit;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
