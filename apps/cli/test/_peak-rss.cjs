// Preloaded into a CLI child (NODE_OPTIONS=--require) by tests that bound its memory: prints the
// process's peak resident set (VmHWM from /proc/self/status, in kB) on stderr as it exits.
const { readFileSync, writeSync } = require('node:fs');

process.on('exit', () => {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  writeSync(2, `\npeak-rss-kb ${match ? match[1] : 'unknown'}\n`);
});
