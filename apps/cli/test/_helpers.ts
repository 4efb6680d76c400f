import { type ChildProcess, spawn } from 'node:child_process';

/** The CLI launcher, run exactly as a user would: `node apps/cli/bin/audex.mjs`. */
export const BIN = new URL('../bin/audex.mjs', import.meta.url).pathname;

/** Result of one CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** What the CLI wrote to stderr (the native audio stack's device-scan chatter is silenced inside @audex/naudiodon). */
  stderr: string;
}

/** Starts the CLI with `args`; `env` is merged over this process's environment. */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a started CLI process's output until it exits. */
export function finish(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return finish(startCli(args, env));
}
