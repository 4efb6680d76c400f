// Owns the child processes the local S3 servers run as: spawning a daemon with its output kept for
// error messages, waiting for it to exit, free TCP ports, polling for readiness, and a watchdog that
// SIGKILLs every daemon still registered when the test process dies without closing its servers.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it; free when this returns, not reserved). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The last `maxLines` lines (at most 8 KiB) of a text file, or '' when it cannot be read. */
export function fileTail(path: string, maxLines = 25): string {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 8192);
    const buffer = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// One watchdog shell per test process: it reads "+PID"/"-PID" and "+DIR"/"-DIR" lines on stdin
// and, when stdin closes (the test process exited or was killed), SIGKILLs the PIDs and removes the
// directories still registered. Daemons started with `-f` are children of the test process but
// would outlive it; this is what stops them.
const WATCHDOG = `pids=" "
dirs=" "
while IFS= read -r line; do
  case "$line" in
    +/*) dirs="$dirs\${line#+} " ;;
    -/*) dirs=$(printf '%s' "$dirs" | sed "s| \${line#-} | |") ;;
    +*) pids="$pids\${line#+} " ;;
    -*) pids=$(printf '%s' "$pids" | sed "s/ \${line#-} / /") ;;
  esac
done
[ -n "\${pids# }" ] && kill -9 $pids 2>/dev/null
sleep 0.2
for d in $dirs; do rm -rf "$d"; done
exit 0`;
let watchdog: ChildProcess | undefined;

function guard(line: string): void {
  if (watchdog === undefined || watchdog.exitCode !== null) {
    watchdog = spawn('sh', ['-c', WATCHDOG], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.unref();
    (watchdog.stdin as Socket).unref();
    watchdog.stdin?.on('error', () => {});
  }
  watchdog.stdin?.write(`${line}\n`);
}

/**
 * Has the watchdog remove `directory` should this process die before `release` is called.
 * Paths with whitespace or `|` are not registered (the watchdog's list is space-separated).
 */
export function guardDirectory(directory: string): { release(): void } {
  const usable = directory.startsWith('/') && !/[\s|]/.test(directory);
  if (usable) guard(`+${directory}`);
  return {
    release() {
      if (usable) guard(`-${directory}`);
    },
  };
}

/** A daemon started by {@link startDaemon}. */
export interface Daemon {
  readonly name: string;
  readonly process: ChildProcess;
  /** Exit code or signal, once it has exited. */
  readonly exited: Promise<string>;
  /** True until the process has exited. */
  readonly alive: boolean;
  /** The last lines it wrote to stdout/stderr. */
  output(): string;
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Spawns `command` in the foreground, registered with the watchdog so it never outlives this
 * process. Its stdout/stderr are kept (last 4 KiB) for error messages.
 */
export function startDaemon(name: string, command: string, args: string[], cwd: string): Daemon {
  const proc = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4096);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let alive = true;
  const exited = new Promise<string>((resolve) => {
    proc.once('error', (error) => {
      alive = false;
      resolve(`spawn error ${error.message}`);
    });
    proc.once('exit', (code, signal) => {
      alive = false;
      if (proc.pid !== undefined) guard(`-${proc.pid}`);
      resolve(signal ? `signal ${signal}` : `code ${code}`);
    });
  });
  if (proc.pid !== undefined) guard(`+${proc.pid}`);
  return {
    name,
    process: proc,
    exited,
    get alive() {
      return alive;
    },
    output: () => output.trimEnd(),
    async kill(signal = 'SIGKILL', graceMs = 5000) {
      if (!alive) return;
      proc.kill(signal);
      if (signal !== 'SIGKILL') {
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      } else await exited;
    },
  };
}

/**
 * Runs a command to completion; resolves its stdout, rejects with its output on failure or timeout
 * (then SIGKILLed). `signal` SIGKILLs it too.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4096);
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs);
    proc.once('error', (error) => {
      clearTimeout(timer);
      if (error.name !== 'AbortError') reject(new Error(`${command} could not be started: ${error.message}`));
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} ${signal === 'SIGKILL' ? `timed out after ${options.timeoutMs} ms` : `failed (code ${code})`}: ${(stderr || stdout).trim().slice(-2000)}`,
          ),
        );
    });
  });
}
