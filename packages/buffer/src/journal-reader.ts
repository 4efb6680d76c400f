// Reading a journal back: finds the journals in a directory, parses each (journal-format.ts),
// verifies the data file against the commit records' checksums, rebuilds the timeline, and opens
// the result as an ended, read-only FrameBuffer. Reading never writes: damaged frames read as
// silence and a cut-short data file reads as zeros, but the files stay as they were. Deciding
// which journals to read, and what to do with them, is the caller's job (the recorder's recovery).
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { bytesPerFrame, shapeProblem } from '@audex/pcm';
import { BufferError } from './errors.js';
import { FrameBuffer } from './frame-buffer.js';
import { FrameStore } from './frame-store.js';
import { Journal } from './journal.js';
import {
  type CommitRecord,
  dataFileName,
  type HeaderRecord,
  journalFileName,
  parseJournal,
  RecordType,
} from './journal-format.js';
import { Timeline } from './timeline.js';

/** One recording found in a spool directory by {@link readJournals}. */
export interface JournalReading {
  /** Recording id (the journal's file name without extension). */
  id: string;
  /** The `meta` the recording was created with, JSON types kept. */
  meta: Record<string, unknown>;
  /**
   * Ended, read-only buffer with all audio up to the last flush, its timeline, gaps and
   * overflow count. Reads come from the spool file.
   */
  buffer: FrameBuffer;
  /** Damaged parts (`CORRUPT_JOURNAL`), each naming the file, offset or frame range; the rest is read. */
  errors: BufferError[];
  /** True when the recording had ended cleanly (`end()` completed) before the process stopped. */
  clean: boolean;
  /** Deletes the journal files; call once the recording is safely stored elsewhere. */
  remove(): Promise<void>;
}

/** A journal that could not be read at all (its header is unreadable). */
export interface UnreadableJournal {
  /** Recording id (the journal's file name without extension). */
  id: string;
  /** Why: `CORRUPT_JOURNAL` or `IO_ERROR`. */
  error: BufferError;
  /** Deletes its files. */
  remove(): Promise<void>;
}

/** Options of {@link readJournals}. */
export interface ReadJournalsOptions {
  /** Called for each journal that cannot be read at all; its files are left in place. Default: none. */
  onUnreadable?: (journal: UnreadableJournal) => void;
}

const VERIFY_CHUNK = 1 << 20;

function isHeader(value: unknown): value is HeaderRecord {
  const h = value as Partial<HeaderRecord> | null;
  return (
    h !== null &&
    typeof h === 'object' &&
    h.version === 1 &&
    typeof h.id === 'string' &&
    shapeProblem(h) === undefined &&
    h.meta !== null &&
    typeof h.meta === 'object'
  );
}

function isCommit(value: unknown): value is CommitRecord {
  const c = value as Partial<CommitRecord> | null;
  return (
    c !== null &&
    typeof c === 'object' &&
    Number.isInteger(c.start) &&
    Number.isInteger(c.end) &&
    Number.isInteger(c.crc) &&
    Array.isArray(c.anchors) &&
    Array.isArray(c.gaps) &&
    typeof c.overflowCount === 'number' &&
    typeof c.capturedFrames === 'number'
  );
}

function corrupt(message: string, details: ConstructorParameters<typeof BufferError>[2] = {}): BufferError {
  return new BufferError('CORRUPT_JOURNAL', message, details);
}

/**
 * Finds every recording journaled in `spoolDir` (unfinished ones after a crash, and finished ones
 * not yet removed) and rebuilds each as a read-only {@link FrameBuffer} holding everything up to
 * its last flush, byte for byte. Damage is reported per recording in `errors` and the rest is kept:
 * data failing its checksum reads as silence (the timeline keeps its length); data whose journal
 * record is lost is kept unverified; a cut-short tail is dropped. It never writes to the files. Do
 * not call it on a directory where a live buffer is writing (the result would be incomplete). A
 * missing directory yields `[]`.
 */
export async function readJournals(
  spoolDir: string,
  options: ReadJournalsOptions = {},
): Promise<JournalReading[]> {
  let names: string[];
  try {
    names = await readdir(spoolDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BufferError('IO_ERROR', `reading spool directory ${spoolDir} failed`, {
      file: spoolDir,
      cause: e,
    });
  }
  const out: JournalReading[] = [];
  for (const name of names.filter((n) => n.endsWith('.journal')).sort()) {
    const id = name.slice(0, -'.journal'.length);
    try {
      out.push(await readOne(spoolDir, id));
    } catch (e) {
      const error =
        e instanceof BufferError
          ? e
          : new BufferError('IO_ERROR', `reading ${name} failed`, {
              file: join(spoolDir, name),
              cause: e,
            });
      options.onUnreadable?.({
        id,
        error,
        remove: async () => {
          await rm(join(spoolDir, journalFileName(id)), { force: true });
          await rm(join(spoolDir, dataFileName(id)), { force: true });
        },
      });
    }
  }
  return out;
}

async function readOne(dir: string, id: string): Promise<JournalReading> {
  const journalPath = join(dir, journalFileName(id));
  const dataPath = join(dir, dataFileName(id));
  const { records, damaged } = parseJournal(await readFile(journalPath));
  const errors: BufferError[] = damaged.map((d) =>
    corrupt(
      d.tail
        ? `journal ${journalPath} is cut short or torn: the last ${d.length} bytes (from offset ${d.offset}) are not a complete record and were ignored`
        : `journal ${journalPath}: ${d.length} bytes at offset ${d.offset} are damaged (checksum or framing failed) and were skipped`,
      { file: journalPath, offset: d.offset },
    ),
  );
  const headerRecord = records.find((r) => r.type === RecordType.HEADER);
  if (headerRecord === undefined || !isHeader(headerRecord.value)) {
    throw corrupt(
      `journal ${journalPath} has no readable header record (sample format, rate, channels): nothing can be read back`,
      {
        file: journalPath,
      },
    );
  }
  const header = headerRecord.value;
  const bpf = bytesPerFrame(header.sampleFormat, header.channels);
  const timeline = new Timeline(header.rate);
  let frameCount = 0;
  let capturedFrames = 0;
  let overflowCount = 0;
  let clean = false;
  const pendingAnchors: [number, number][] = [];
  let startTime: number | null = null;

  /** Frame ranges whose bytes failed their checksum: they read as silence. */
  const silenced: [number, number][] = [];
  const data = await open(dataPath, 'r').catch((e: unknown) => {
    throw new BufferError('IO_ERROR', `opening ${dataPath} failed`, { file: dataPath, cause: e });
  });
  try {
    const fileBytes = (await data.stat()).size;
    const chunk = new Uint8Array(VERIFY_CHUNK);
    const crcOf = async (start: number, end: number): Promise<number | null> => {
      if (end * bpf > fileBytes) return null;
      let crc = 0;
      for (let pos = start * bpf; pos < end * bpf; ) {
        const n = Math.min(VERIFY_CHUNK, end * bpf - pos);
        const { bytesRead } = await data.read(chunk, 0, n, pos);
        if (bytesRead < n) return null;
        crc = crc32(chunk.subarray(0, n), crc);
        pos += n;
      }
      return crc;
    };
    for (const record of records) {
      if (record.type === RecordType.END) {
        const end = record.value as { frameCount?: unknown } | null;
        clean = end !== null && typeof end === 'object' && end.frameCount === frameCount;
        continue;
      }
      if (record.type !== RecordType.COMMIT) continue;
      if (!isCommit(record.value)) {
        errors.push(
          corrupt(
            `journal ${journalPath}: commit record at offset ${record.offset} is malformed and was skipped`,
            { file: journalPath, offset: record.offset },
          ),
        );
        continue;
      }
      const c = record.value;
      if (c.start < frameCount || c.end <= c.start) {
        errors.push(
          corrupt(
            `journal ${journalPath}: commit record at offset ${record.offset} (frames ${c.start}..${c.end}) overlaps earlier data and was skipped`,
            { file: journalPath, offset: record.offset },
          ),
        );
        continue;
      }
      if (c.start > frameCount) {
        errors.push(
          corrupt(
            `frames ${frameCount}..${c.start} of ${id}: their journal record is damaged, so the audio was kept unverified`,
            {
              file: dataPath,
              startFrame: frameCount,
              endFrame: c.start,
            },
          ),
        );
      }
      const crc = await crcOf(c.start, c.end);
      if (crc !== c.crc) {
        silenced.push([c.start, c.end]);
        errors.push(
          corrupt(
            `frames ${c.start}..${c.end} of ${id} failed their checksum (the data file is damaged or cut short); they were replaced with silence`,
            { file: dataPath, startFrame: c.start, endFrame: c.end, offset: c.start * bpf },
          ),
        );
      }
      for (const a of c.anchors)
        if (Array.isArray(a) && a.length === 2) pendingAnchors.push([Number(a[0]), Number(a[1])]);
      for (const g of c.gaps) {
        if (Array.isArray(g) && g.length === 4 && g.every((v) => typeof v === 'number')) {
          timeline.addGap({ startFrame: g[0], frames: g[1], startTime: g[2], durationMs: g[3] });
        }
      }
      if (typeof c.startTime === 'number' && Number.isFinite(c.startTime)) startTime ??= c.startTime;
      frameCount = c.end;
      capturedFrames = c.capturedFrames;
      overflowCount = c.overflowCount;
    }
  } finally {
    await data.close();
  }

  if (frameCount > 0) {
    const first = pendingAnchors[0];
    if (first === undefined || first[0] !== 0) {
      // Every commit repeats the start time; only if none survived is it estimated.
      const known = startTime !== null && (first === undefined || startTime < first[1]);
      const t0 = known
        ? (startTime as number)
        : first === undefined
          ? header.createdAt
          : first[1] - (first[0] * 1000) / header.rate;
      timeline.addAnchor(0, t0);
      if (!known) {
        errors.push(
          corrupt(`the start time of ${id} was lost with damaged records; it is estimated`, {
            file: journalPath,
          }),
        );
      }
    }
    for (const [frame, time] of pendingAnchors) {
      try {
        if (frame < frameCount) timeline.addAnchor(frame, time);
      } catch {
        // An anchor that does not follow the previous one (damage) is dropped; neighbours still pin time.
      }
    }
  }
  const journal = await Journal.openForReading(dir, id, bpf, frameCount, silenced);
  const buffer = new FrameBuffer({
    header,
    spoolDir: dir,
    timeline,
    store: FrameStore.reading(journal, bpf, frameCount),
    capturedFrames,
    overflowCount,
    ended: true,
    flushIntervalMs: null,
    onError: undefined,
  });
  const remove = async (): Promise<void> => {
    await buffer.close();
    await rm(journal.dataPath, { force: true });
    await rm(journal.journalPath, { force: true });
  };
  return { id, meta: header.meta, buffer, errors, clean, remove };
}
