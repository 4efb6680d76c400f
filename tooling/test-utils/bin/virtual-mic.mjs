#!/usr/bin/env node
// audex-virtual-mic start|stop|status|play FILE — a PulseAudio virtual microphone for headless machines.
// State (daemon pid, env) is kept in $AUDEX_VIRTUAL_MIC_STATE or <tmpdir>/audex-virtual-mic.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

const stateFile = process.env.AUDEX_VIRTUAL_MIC_STATE ?? join(tmpdir(), 'audex-virtual-mic.json');
const [command, arg] = process.argv.slice(2);
const readState = () => (existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : null);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exports = (env) =>
  Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join('\n');

if (command === 'start') {
  const state = readState();
  if (state && alive(state.pid)) {
    console.log(exports(state.env));
    process.exit(0);
  }
  register();
  const { startVirtualMic } = await import('../src/virtual-mic.ts');
  const mic = await startVirtualMic({ detached: true, setEnv: false });
  writeFileSync(stateFile, JSON.stringify({ pid: mic.pid, dir: mic.dir, env: mic.env }));
  console.error(`virtual mic running (pid ${mic.pid}); run: eval "$(audex-virtual-mic start)"`);
  console.log(exports(mic.env));
  process.exit(0);
} else if (command === 'stop') {
  const state = readState();
  if (state && alive(state.pid)) process.kill(state.pid, 'SIGTERM');
  if (state) rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  console.error(state ? `stopped pid ${state.pid}` : 'not running');
} else if (command === 'status') {
  const state = readState();
  if (!state || !alive(state.pid)) {
    console.log('not running');
    process.exit(1);
  }
  console.log(`running, pid ${state.pid}\n${exports(state.env)}`);
  console.log(
    execFileSync('pactl', ['list', 'short', 'sources'], { env: { ...process.env, ...state.env } }).toString(),
  );
} else if (command === 'play' && arg) {
  const state = readState();
  if (!state || !alive(state.pid)) {
    console.error('not running: audex-virtual-mic start first');
    process.exit(1);
  }
  execFileSync('paplay', ['--device=audex_speaker', arg], {
    env: { ...process.env, ...state.env },
    stdio: 'inherit',
  });
} else {
  console.error('usage: audex-virtual-mic start | stop | status | play FILE.wav');
  process.exit(2);
}
