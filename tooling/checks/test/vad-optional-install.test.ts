// Voice activity's weight is opt-in: @audex/recorder installed from its tarball and its
// dependencies' tarballs (npm, an empty project outside the repository) without @audex/vad-silero
// pulls neither onnxruntime-web nor @ricky0123/vad-web, records, and `vad: true` fails with
// MISSING_DEPENDENCY naming the package to install; adding @audex/vad-silero's tarball makes
// `vad: true` work. Then the global layout the CLI's install makes (`npm install -g` of the
// tarballs side by side: sibling top-level packages under <prefix>/lib/node_modules): the
// recorder's own dynamic import finds @audex/vad-silero there.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTarballs, publishedPackages, run, type Workspace } from './_workspace.js';

const packages = publishedPackages();
const byName = new Map(packages.map((p) => [p.name, p]));

/** `root` and every workspace package it depends on (dependencies only: never optional peers). */
function withWorkspaceDependencies(root: string): Workspace[] {
  const found = new Map<string, Workspace>();
  const visit = (name: string) => {
    const pkg = byName.get(name);
    if (!pkg) throw new Error(`${name} is not a published package`);
    if (found.has(name)) return;
    found.set(name, pkg);
    for (const [dep, range] of Object.entries(pkg.manifest.dependencies ?? {}))
      if (range.startsWith('workspace:')) visit(dep);
  };
  visit(root);
  return [...found.values()];
}

/** Bytes under `dir` (files only, symlinks not followed). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Records 1 s from a fast SyntheticSource with `vad` (given as JSON) and prints what happened. */
const RECORD = (recorderImport: string) => `
import { SyntheticSource } from '@audex/capture';
import { MemoryStore } from '@audex/store';
const { AudioRecorder } = await import(${JSON.stringify(recorderImport)});
const vad = JSON.parse(process.argv[2] ?? 'false');
const store = new MemoryStore();
const recorder = new AudioRecorder(store, { rate: 16000, chunk: 320 }, {
  source: new SyntheticSource({ speed: 0, durationMs: 1000 }),
  spoolDir: './spool',
  vad,
});
await recorder.init();
try {
  const key = await recorder.start('vad-check');
  while (recorder.frameCount < 16000) await new Promise((r) => setTimeout(r, 10));
  await recorder.stop({ frames: false });
  const metadata = await store.getMetadata(key);
  console.log(JSON.stringify({ key, frames: metadata.frame_count, speechCount: metadata.speech_count ?? null }));
} catch (error) {
  console.log(JSON.stringify({ error: { name: error.name, code: error.code, message: error.message } }));
} finally {
  await recorder.close();
}
`;

let base: string;
let project: string;
let tarballs: Map<string, string>;
let withoutVad: { status: number | null; output: string };

function node(cwd: string, args: string[]) {
  const result = run(process.execPath, args, cwd);
  const line = result.output.trim().split('\n').pop() ?? '';
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`no JSON result (exit ${result.status}):\n${result.output}`);
  }
  return { status: result.status, output: result.output, result: parsed };
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'audex-vad-optional-'));
  const dir = join(base, 'tarballs');
  mkdirSync(dir);
  const wanted = [
    ...new Set([...withWorkspaceDependencies('@audex/recorder'), byName.get('@audex/vad-silero')!]),
  ];
  const files = packTarballs(wanted, dir);
  tarballs = new Map(
    wanted.map((pkg) => {
      const prefix = pkg.name.replace('@', '').replace('/', '-');
      const file = files.find((f) => f.split('/').pop()!.startsWith(`${prefix}-`));
      if (!file) throw new Error(`no tarball for ${pkg.name} in ${files.join(', ')}`);
      return [pkg.name, file];
    }),
  );
  project = join(base, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user', private: true, type: 'module' }),
  );
  writeFileSync(join(project, 'record.mjs'), RECORD('@audex/recorder'));
  const recorderOnly = [...tarballs].filter(([name]) => name !== '@audex/vad-silero').map(([, f]) => f);
  withoutVad = run('npm', ['install', '--no-fund', '--no-audit', ...recorderOnly], project);
}, 600_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('@audex/recorder installed without @audex/vad-silero', () => {
  it('installs neither onnxruntime-web nor @ricky0123/vad-web (the recorder tarballs declare vad-silero an optional peer)', () => {
    expect(withoutVad.status, withoutVad.output).toBe(0);
    const modules = join(project, 'node_modules');
    expect(existsSync(join(modules, '@audex', 'recorder'))).toBe(true);
    expect(existsSync(join(modules, '@audex', 'analysis'))).toBe(true);
    expect(existsSync(join(modules, '@audex', 'vad-silero'))).toBe(false);
    expect(existsSync(join(modules, 'onnxruntime-web'))).toBe(false);
    expect(existsSync(join(modules, '@ricky0123'))).toBe(false);
    // onnxruntime-web alone is 139 MB; the recorder and everything it needs stay well under that.
    expect(bytesUnder(modules) / 2 ** 20).toBeLessThan(100);
  });

  it('records (loudness in the metadata), and vad: true fails with MISSING_DEPENDENCY naming the package to install', () => {
    const plain = node(project, ['record.mjs', 'false']);
    expect(plain.result, plain.output).toMatchObject({ frames: 16000, speechCount: null });
    const vad = node(project, ['record.mjs', 'true']);
    expect(vad.result, vad.output).toEqual({
      error: {
        name: 'RecorderError',
        code: 'MISSING_DEPENDENCY',
        message: expect.stringContaining(
          'runs Silero VAD from @audex/vad-silero, an optional peer dependency of @audex/recorder that is not installed: run npm install @audex/vad-silero',
        ),
      },
    });
  });

  it('with @audex/vad-silero added, vad: true records (speech regions in the metadata)', () => {
    const added = run(
      'npm',
      ['install', '--no-fund', '--no-audit', tarballs.get('@audex/vad-silero')!],
      project,
    );
    expect(added.status, added.output).toBe(0);
    expect(existsSync(join(project, 'node_modules', 'onnxruntime-web'))).toBe(true);
    const vad = node(project, ['record.mjs', 'true']);
    // The synthetic 440 Hz tone is not speech.
    expect(vad.result, vad.output).toMatchObject({ frames: 16000, speechCount: 0 });
  });
});

describe('installed globally side by side (npm install -g of the tarballs, the layout of the CLI install)', () => {
  it("the recorder's dynamic import finds @audex/vad-silero among the sibling top-level packages", () => {
    const prefix = join(base, 'global');
    const install = run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-fund', '--no-audit', ...tarballs.values()],
      base,
    );
    expect(install.status, install.output).toBe(0);
    const lib = join(prefix, 'lib', 'node_modules');
    expect(existsSync(join(lib, '@audex', 'vad-silero'))).toBe(true);
    // onnxruntime-web lives under vad-silero (global installs keep each package's dependencies
    // below it), out of the recorder's reach: only vad-silero itself imports it.
    expect(existsSync(join(lib, 'onnxruntime-web'))).toBe(false);
    const script = join(base, 'global-record.mjs');
    // A script outside the prefix imports the installed recorder by path (as a global tool would);
    // @audex/capture and @audex/store resolve from the prefix the same way.
    writeFileSync(
      script,
      RECORD(join(lib, '@audex', 'recorder', 'dist', 'index.js'))
        .replace("'@audex/capture'", JSON.stringify(join(lib, '@audex', 'capture', 'dist', 'index.js')))
        .replace("'@audex/store'", JSON.stringify(join(lib, '@audex', 'store', 'dist', 'index.js'))),
    );
    const vad = node(base, [script, 'true']);
    expect(vad.result, vad.output).toMatchObject({ frames: 16000, speechCount: 0 });
  });
});
