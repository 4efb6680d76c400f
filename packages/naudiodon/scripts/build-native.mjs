#!/usr/bin/env node
// Builds the native module from source with node-gyp and copies it, with the bundled PortAudio
// library it loads from its own directory (rpath $ORIGIN / @loader_path), to
// prebuilds/<platform>-<arch>/ under the name node-gyp-build looks for. `pnpm build` runs this,
// so `pnpm pack` afterwards ships the binary for the machine that built it (linux-x64 glibc here).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');

// Build against this Node's own headers when it has them (no download), else node-gyp's default.
const args = [gyp, 'rebuild'];
const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
const build = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  console.error(`[audex/naudiodon] node-gyp rebuild failed (exit ${build.status ?? build.signal})`);
  process.exit(1);
}

const release = join(root, 'build', 'Release');
const libc =
  process.platform === 'linux'
    ? process.report.getReport().header.glibcVersionRuntime
      ? '.glibc'
      : '.musl'
    : '';
const target = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
copyFileSync(join(release, 'audex_naudiodon.node'), join(target, `node.napi${libc}.node`));
const libraries = readdirSync(release).filter((f) => /portaudio.*\.(so(\.\d+)*|dylib|dll)$/.test(f));
for (const lib of libraries) copyFileSync(join(release, lib), join(target, lib));
console.log(
  `[audex/naudiodon] prebuilt ${target}: node.napi${libc}.node + ${libraries.join(', ') || 'no bundled library'}`,
);
