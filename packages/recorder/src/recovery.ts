// The recorder's recovery room: everything that makes "nothing recorded is lost" true after a
// failed upload or a crash, in one place. It owns the spool layout
//   <spoolDir>/recordings/<id>/            one directory per recording
//     lock.json                            who records into it now (pid, host, boot); removed on release
//     <journal id>.journal / .pcm          the @audex/buffer journal (its header holds key + start time)
//     <journal id>.stored                  written once a store has that journal's audio
// and the procedures on it: claiming a directory, marking a journal stored, keeping recordings
// whose upload failed, and recovering (reading journals back with @audex/buffer and uploading them).
// Each fact is written once: the owner process in lock.json, the key in the journal header.
// A recording made of several files (rotation) is several journals in one directory, each with its
// own key, rotation facts (sequence, previous key) and stored marker; a stored file's journal is
// deleted while the recording goes on, and recovery stores the others one by one. A resumable
// upload keeps its upload journal (<journal id>.upload) in the same directory, and recovery hands
// the journal's buffer back to the Uploader, which resumes the upload.
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type FrameBuffer, readJournals } from '@audex/buffer';
import { analyseBuffer } from './analysis.js';
import type { RecordingTimes } from './metadata.js';
import { buildMetadata, recordingSpan } from './metadata.js';
import type { RecorderSettings } from './options.js';
import type { Recording, RecordingPlace } from './recording.js';
import { type RecordingFile, rotationMetadata } from './recording-file.js';
import type { Reporter } from './report.js';
import { storedExtension, storeFormatOf } from './stored-format.js';
import type { RecoveredRecording } from './types.js';
import type { Uploader } from './upload.js';

const LOCK_FILE = 'lock.json';
const STORED_SUFFIX = '.stored';
const JOURNAL_SUFFIX = '.journal';
const STAGING_SUFFIX = '.claiming';

/** Who records into a spool directory now: written once when it is claimed. */
interface Lock {
  pid: number;
  host: string;
  /** Linux boot id: a pid from before a reboot is not a live process. */
  boot: string | null;
}

const BOOT_ID: string | null = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
})();

function ownLock(): Lock {
  return { pid: process.pid, host: hostname(), boot: BOOT_ID };
}

async function readLock(dir: string): Promise<Lock | null> {
  try {
    const value = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as Partial<Lock>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return null;
    return { pid: value.pid, host: value.host, boot: typeof value.boot === 'string' ? value.boot : null };
  } catch {
    return null;
  }
}

/**
 * Whether the lock's process still records. A lock of this process is live (a recorder releases
 * its locks when it closes); one from another host counts as dead (a spool shared between hosts
 * cannot check), as does one from before a reboot.
 */
function isLive(lock: Lock): boolean {
  if (lock.host !== hostname()) return false;
  if (lock.boot !== null && BOOT_ID !== null && lock.boot !== BOOT_ID) return false;
  if (lock.pid === process.pid) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A recorder's spool: claims a directory per recording, knows which recordings still await a
 * store, and recovers recordings left by a failed upload or a crashed process.
 */
export class Spool {
  /** Absolute spool directory. */
  readonly dir: string;
  readonly #recordingsDir: string;
  readonly #settings: RecorderSettings;
  readonly #uploader: Uploader;
  readonly #report: Reporter;
  /** Files of this recorder whose upload failed, by key (their buffers stay open for recover()). */
  readonly #pending = new Map<string, RecordingFile>();

  constructor(settings: RecorderSettings, uploader: Uploader, report: Reporter) {
    this.dir = settings.spoolDir;
    this.#recordingsDir = join(this.dir, 'recordings');
    this.#settings = settings;
    this.#uploader = uploader;
    this.#report = report;
  }

  /**
   * Creates and locks the directory of recording `id`. The directory appears complete with its
   * lock (made under a staging name, then renamed), so a concurrent recovery never sees it unlocked.
   */
  async claim(id: string): Promise<RecordingPlace> {
    const dir = join(this.#recordingsDir, id);
    const staging = join(this.#recordingsDir, `.${id}${STAGING_SUFFIX}`);
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, LOCK_FILE), JSON.stringify(ownLock()));
    await rename(staging, dir);
    return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
  }

  /**
   * Uploads `file` (ended) with `metadata`, then marks it stored so a crash before its journal is
   * deleted never uploads it twice.
   * @throws {RecorderError} `UPLOAD_FAILED` (from the Uploader).
   */
  async save(file: RecordingFile, metadata = file.metadataNow()): Promise<void> {
    file.uploading(metadata);
    file.storedWith(await this.#uploader.upload(file.buffer, file.key, metadata));
    this.#pending.delete(file.key);
    await writeFile(this.#storedMarker(file.buffer), file.key);
  }

  /** Keeps a file whose upload failed, for {@link Spool.recover}. */
  keep(file: RecordingFile): void {
    this.#pending.set(file.key, file);
  }

  /** Deletes a stored file's journal (and then its stored marker) while its recording goes on. */
  async release(file: RecordingFile): Promise<void> {
    await file.buffer.clear();
    await rm(this.#storedMarker(file.buffer), { force: true });
  }

  /**
   * Forgets a recording: deletes its audio and directory once a store has every file; files not
   * stored stay kept (their directory with them) for {@link Spool.recover}.
   */
  async discard(recording: Recording): Promise<void> {
    const files = recording.files;
    if (files.every((file) => file.stored)) {
      for (const file of files) await file.buffer.clear();
      await rm(this.#recordingDir(recording.id), { recursive: true, force: true });
      return;
    }
    for (const file of files) if (file.stored) await this.release(file);
  }

  /** Deletes a recording that never started (its capture failed to open). */
  async abandon(recording: Recording): Promise<void> {
    for (const file of recording.files) await file.buffer.clear().catch(() => {});
    await rm(this.#recordingDir(recording.id), { recursive: true, force: true });
  }

  /**
   * Closes the buffers of kept recordings and unlocks their directories: their journals stay in
   * the spool for a later recovery (by any recorder).
   */
  async releaseKept(): Promise<void> {
    for (const file of this.#pending.values()) {
      await file.buffer.close().catch(() => {});
      await rm(join(file.buffer.spoolDir, LOCK_FILE), { force: true }).catch(() => {});
    }
    this.#pending.clear();
  }

  /**
   * Saves every recording not yet in the store: those kept after a failed upload in this recorder
   * (`current` stays readable: its buffer is not deleted), and directories in the spool that no
   * live recorder holds. Failures become warnings; what failed stays for a later try.
   */
  async recover(current: Recording | undefined): Promise<RecoveredRecording[]> {
    const recovered: RecoveredRecording[] = [];
    for (const file of [...this.#pending.values()]) {
      try {
        await this.save(file, { ...(file.metadata ?? file.metadataNow()), recovered: true });
      } catch (error) {
        this.#skipped(`could not yet save ${JSON.stringify(file.key)}`, error);
        continue;
      }
      recovered.push(this.#recovered(file.key, file.buffer, file.times, []));
      // A file of an earlier recording: its journal goes, and its directory once no journal is left.
      if (current?.files.includes(file)) continue;
      await this.release(file).catch(() => {});
      await this.#removeIfDone(file.buffer.spoolDir).catch(() => {});
    }
    let names: string[];
    try {
      names = await readdir(this.#recordingsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return recovered;
      this.#skipped(`could not read the spool ${this.dir}`, error);
      return recovered;
    }
    for (const name of names.sort()) {
      const dir = join(this.#recordingsDir, name);
      const lock = await readLock(dir);
      if (lock !== null && isLive(lock)) continue;
      if (name.startsWith('.')) {
        // A claim interrupted by a crash: no journal was ever created in it.
        if (name.endsWith(STAGING_SUFFIX)) await rm(dir, { recursive: true, force: true }).catch(() => {});
        continue;
      }
      try {
        recovered.push(...(await this.#recoverDirectory(dir)));
      } catch (error) {
        this.#skipped(`could not recover ${dir}`, error, '; it stays in the spool');
      }
    }
    return recovered;
  }

  /** Saves the journals of one abandoned recording directory; deletes it once all are stored. */
  async #recoverDirectory(dir: string): Promise<RecoveredRecording[]> {
    const files = await readdir(dir);
    const stored = new Set(
      files.filter((f) => f.endsWith(STORED_SUFFIX)).map((f) => f.slice(0, -STORED_SUFFIX.length)),
    );
    const journalIds = files
      .filter((f) => f.endsWith(JOURNAL_SUFFIX))
      .map((f) => f.slice(0, -JOURNAL_SUFFIX.length));
    const out: RecoveredRecording[] = [];
    let complete = true;
    if (journalIds.some((id) => !stored.has(id))) {
      const journals = await readJournals(dir, {
        onUnreadable: (journal) => {
          if (stored.has(journal.id)) return;
          complete = false;
          this.#report.warn({
            code: 'RECOVERY_DAMAGED',
            message: `[audex/recorder] journal ${journal.id} in ${dir} is unreadable and was left in place: ${journal.error.message}`,
            cause: journal.error,
          });
        },
      });
      for (const journal of journals) {
        const { buffer, meta } = journal;
        try {
          // Stored before the crash (only the cleanup was missed), or nothing captured before it.
          if (stored.has(journal.id) || buffer.frameCount === 0) continue;
          for (const error of journal.errors) {
            this.#report.warn({
              code: 'RECOVERY_DAMAGED',
              message: `[audex/recorder] journal ${journal.id} was damaged; kept what was readable: ${error.message}`,
              cause: error,
            });
          }
          const key =
            typeof meta.key === 'string'
              ? meta.key
              : this.#settings.store.keyBuilder.build(
                  'recovered',
                  `${journal.id}.${storedExtension(storeFormatOf(buffer))}`,
                );
          const requestedAt =
            (typeof meta.requestedAt === 'number' ? meta.requestedAt : 0) || (buffer.startTime ?? 0);
          const times: RecordingTimes = { requestedAt, stoppedAt: buffer.endTime ?? requestedAt };
          const analysis = await analyseBuffer(buffer, this.#settings.vad);
          await this.#uploader.upload(buffer, key, {
            ...buildMetadata(buffer, times, { recovered: true, analysis }),
            ...rotationMetadata(meta),
          });
          await writeFile(this.#storedMarker(buffer), key);
          out.push(this.#recovered(key, buffer, times, journal.errors));
        } catch (error) {
          complete = false;
          this.#skipped(`could not save recovered journal ${journal.id}`, error, '; it stays in the spool');
        } finally {
          await buffer.close().catch(() => {});
        }
      }
    }
    if (complete) await rm(dir, { recursive: true, force: true });
    return out;
  }

  /** Removes a recording directory of this process with no journal left in it. */
  async #removeIfDone(dir: string): Promise<void> {
    const names = await readdir(dir);
    if (names.some((name) => name.endsWith(JOURNAL_SUFFIX))) return;
    if ([...this.#pending.values()].some((file) => file.buffer.spoolDir === dir)) return;
    await rm(dir, { recursive: true, force: true });
  }

  #recordingDir(id: string): string {
    return join(this.#recordingsDir, id);
  }

  #storedMarker(buffer: FrameBuffer): string {
    return join(buffer.spoolDir, `${buffer.id}${STORED_SUFFIX}`);
  }

  #skipped(what: string, error: unknown, after = ''): void {
    this.#report.warn({
      code: 'RECOVERY_SKIPPED',
      message: `[audex/recorder] ${what}: ${(error as Error).message}${after}`,
      cause: error,
    });
  }

  #recovered(key: string, buffer: FrameBuffer, times: RecordingTimes, errors: Error[]): RecoveredRecording {
    const { start, end } = recordingSpan(buffer, times);
    const result: RecoveredRecording = {
      key,
      durationMs: (buffer.frameCount / buffer.rate) * 1000,
      startedAt: new Date(start),
      endedAt: new Date(end),
      frameCount: buffer.frameCount,
      errors,
    };
    this.#report.logger.info({ key, frames: buffer.frameCount }, 'audex recovered an unfinished recording');
    this.#report.emit('recovered', result);
    return result;
  }
}
