import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@audex/store';
import { testStore } from '@audex/store/testing';
import { afterAll } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'audex-local-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

testStore('LocalStore', () => new LocalStore({ root }));
