import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** Who wrote a recording's journal, and under which key it is to be stored. */
export interface OwnerRecord {
  /** Store key given by `start()`. */
  key: string;
  /** When `start()` was called, ms since the epoch. */
  requestedAt: number;
  /** Process that records it. */
  pid: number;
  /** Host of that process. */
  host: string;
}

/** A recording directory found in the spool. */
export interface SpooledRecording {
  id: string;
  dir: string;
  owner: OwnerRecord | null;
}

const OWNER_FILE = 'owner.json';
const STORED_FILE = 'stored';

/** Recording directories claimed by a recorder of this process, which recovery must not touch. */
const claimed = new Set<string>();

/**
 * The recorder's layout of its spool directory: one directory per recording,
 * `<spoolDir>/recordings/<id>/`, holding the `@audex/buffer` journal files, an `owner.json`
 * (process and key) and, once a store has the recording, a `stored` marker (so a crash between
 * upload and cleanup never uploads it twice). One directory per recording lets recovery skip a
 * recording that another live process is still writing: buffer recovery repairs (truncates) the
 * journals it opens, which must never happen to a live one.
 */
export class Spool {
  /** Absolute spool directory. */
  readonly dir: string;
  readonly #recordingsDir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.#recordingsDir = join(this.dir, 'recordings');
  }

  /** Directory of recording `id`. */
  recordingDir(id: string): string {
    return join(this.#recordingsDir, id);
  }

  /** Creates the directory of a new recording, claims it for this process and writes its owner record. */
  async create(id: string, owner: OwnerRecord): Promise<string> {
    const dir = this.recordingDir(id);
    await mkdir(dir, { recursive: true });
    claimed.add(dir);
    await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner));
    return dir;
  }

  /** Gives up this process's claim on recording `id` (recovery may then take it). */
  release(id: string): void {
    claimed.delete(this.recordingDir(id));
  }

  /** Records that recording `id` is safely in a store. */
  async markStored(id: string, key: string): Promise<void> {
    await writeFile(join(this.recordingDir(id), STORED_FILE), key);
  }

  /** Whether recording `id` was marked stored. */
  async isStored(id: string): Promise<boolean> {
    try {
      await readFile(join(this.recordingDir(id), STORED_FILE));
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes recording `id`'s directory and releases it. */
  async remove(id: string): Promise<void> {
    await rm(this.recordingDir(id), { recursive: true, force: true });
    this.release(id);
  }

  /** Recording directories that no live recorder owns (left by a crash or a closed recorder). */
  async abandoned(): Promise<SpooledRecording[]> {
    let names: string[];
    try {
      names = await readdir(this.#recordingsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: SpooledRecording[] = [];
    for (const id of names.sort()) {
      const dir = this.recordingDir(id);
      if (claimed.has(dir)) continue;
      const owner = await readOwner(dir);
      if (owner && isAlive(owner)) continue;
      out.push({ id, dir, owner });
    }
    return out;
  }
}

async function readOwner(dir: string): Promise<OwnerRecord | null> {
  try {
    const value = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Partial<OwnerRecord>;
    if (typeof value.key !== 'string' || typeof value.pid !== 'number') return null;
    return {
      key: value.key,
      pid: value.pid,
      host: String(value.host),
      requestedAt: typeof value.requestedAt === 'number' ? value.requestedAt : 0,
    };
  } catch {
    return null;
  }
}

/** Identity of this process for {@link OwnerRecord}. */
export function ownerStamp(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/**
 * Whether the owner process is still running. Our own process counts as dead here: a recording of
 * this process that no recorder claims was abandoned (its recorder closed). Other hosts (a shared
 * spool) count as dead too.
 */
function isAlive(owner: OwnerRecord): boolean {
  if (owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
