import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';

// A copy of the package (source) in a directory where no @aws-sdk/client-s3 can be resolved, as a
// user who installed @audex/store without its optional peer dependency has it.
const dir = mkdtempSync(join(tmpdir(), 'audex-no-sdk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('S3Store without @aws-sdk/client-s3 installed: MISSING_DEPENDENCY naming the package; the rest of the store works', () => {
  const pkg = join(dir, 'node_modules', '@audex', 'store');
  mkdirSync(pkg, { recursive: true });
  const here = new URL('..', import.meta.url);
  cpSync(new URL('package.json', here), join(pkg, 'package.json'));
  cpSync(new URL('src', here), join(pkg, 'src'), { recursive: true });
  cpSync(new URL('../pcm', here), join(dir, 'node_modules', '@audex', 'pcm'), {
    recursive: true,
    filter: (source) => !source.includes('node_modules'),
  });
  writeFileSync(
    join(dir, 'check.mjs'),
    `
import { MemoryStore, StoreError } from '@audex/store';
import { S3Store } from '@audex/store/s3';
const memory = new MemoryStore();
await memory.upload(new Uint8Array([1]), 'audex/a');
const store = new S3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIAXX', secretAccessKey: 'secret' } });
const error = await store.upload(new Uint8Array([1]), 'audex/a').then(() => undefined, (e) => e);
const again = await store.download('audex/a').then(() => undefined, (e) => e);
console.log(JSON.stringify({ memory: memory.size, instance: error instanceof StoreError, code: error?.code, message: error?.message, again: again?.code }));
`,
  );
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  // pnpm puts its virtual store on NODE_PATH, where require.resolve (the store's fallback lookup from
  // the application's entry script) would find the SDK: a user's shell has no such NODE_PATH.
  const { NODE_PATH: _pnpmPath, ...env } = process.env;
  const out = execFileSync(process.execPath, ['--import', tsx, '--conditions=@audex/source', 'check.mjs'], {
    cwd: dir,
    encoding: 'utf8',
    env,
  });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  expect(result).toEqual({
    memory: 1,
    instance: true,
    code: 'MISSING_DEPENDENCY',
    message: expect.stringContaining('@aws-sdk/client-s3'),
    again: 'MISSING_DEPENDENCY',
  });
  expect(result.message).toMatch(
    /^\[audex\/store\] S3Store needs the AWS SDK package @aws-sdk\/client-s3.*npm install @aws-sdk\/client-s3@3\.1169\.0/,
  );
});

it("finds the AWS SDK beside the application when it is out of the store's sight (npm install -g of tarballs side by side)", () => {
  // dir/node_modules/@audex/store cannot see dir/app/node_modules; the entry script dir/app/main.mjs can.
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules', '@aws-sdk'), { recursive: true });
  const sdk = realpathSync(
    dirname(createRequire(import.meta.url).resolve('@aws-sdk/client-s3/package.json')),
  );
  symlinkSync(sdk, join(app, 'node_modules', '@aws-sdk', 'client-s3'));
  writeFileSync(
    join(app, 'main.mjs'),
    `
import { S3Store } from '@audex/store/s3';
const store = new S3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIAXX', secretAccessKey: 'secret' }, maxAttempts: 1 });
const error = await store.exists('audex/a').then(() => undefined, (e) => e);
console.log(JSON.stringify({ code: error?.code, message: error?.message }));
`,
  );
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const { NODE_PATH: _pnpmPath, ...env } = process.env;
  const out = execFileSync(
    process.execPath,
    ['--import', tsx, '--conditions=@audex/source', join(app, 'main.mjs')],
    {
      cwd: app,
      encoding: 'utf8',
      env,
    },
  );
  const result = JSON.parse(out.trim().split('\n').pop()!);
  // the SDK loaded and tried the (closed) port: a connection error, not MISSING_DEPENDENCY
  expect(result.code).not.toBe('MISSING_DEPENDENCY');
  expect(result.message).toMatch(/ECONNREFUSED/);
});

it('keeps the AWS SDK out of every module until an S3Store is used, and S3 code out of the main entry', () => {
  const src = new URL('../src/', import.meta.url);
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  expect(files).toContain('s3/connection.ts');
  for (const file of files) {
    const source = readFileSync(new URL(file, src), 'utf8');
    const staticSdkImports = source.split('\n').filter((l) => /^import (?!type ).*@aws-sdk/.test(l));
    expect(staticSdkImports, file).toEqual([]);
    if (!file.startsWith('s3/')) expect(source, file).not.toMatch(/from '\.\/s3\//);
  }
});
