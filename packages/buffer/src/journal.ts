// Writing a recording's journal: the data file and its checksummed records, written in the background and fsynced per commit.
import {
  close as fsClose,
  fsync as fsFsync,
  open as fsOpen,
  read as fsRead,
  write as fsWrite,
  writeSync,
} from 'node:fs';
import { mkdir, open as openHandle, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BufferError } from './errors.js';
import {
  type CommitRecord,
  dataFileName,
  encodeRecord,
  type HeaderRecord,
  JOURNAL_MAGIC,
  journalFileName,
  RecordType,
} from './journal-format.js';

/** Returns a view of the bytes of frames [start, end), which lie within one block. */
export type FrameSource = (start: number, end: number) => Uint8Array;

interface Waiter {
  frame: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function ioError(what: string, file: string, cause: unknown): BufferError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new BufferError('IO_ERROR', `${what} ${file} failed: ${reason}`, { file, cause });
}

function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, flags, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => fsClose(fd, () => resolve()));
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsFsync(fd, (e) => (e ? reject(e) : resolve())));
}

/** Writes all of `data` at `position`, looping over short writes. */
function writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      fsWrite(fd, data, offset, data.byteLength - offset, position + offset, (e, n) => {
        if (e) reject(e);
        else if (offset + n >= data.byteLength) resolve();
        else if (n === 0) reject(new Error('short write'));
        else step(offset + n);
      });
    };
    step(0);
  });
}

function readAll(fd: number, out: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      if (offset >= out.byteLength) {
        resolve(offset);
        return;
      }
      fsRead(fd, out, offset, out.byteLength - offset, position + offset, (e, n) => {
        if (e) reject(e);
        else if (n === 0) resolve(offset);
        else step(offset + n);
      });
    };
    step(0);
  });
}

/** Timeline changes a commit makes durable. */
export type CommitDelta = Omit<CommitRecord, 'start' | 'end' | 'crc'>;

/**
 * The spool of one recording: the append-only raw data file (`<id>.pcm`, frame `f` at byte
 * `f * bytesPerFrame`) and its journal (`<id>.journal`, checksummed records).
 *
 * Data is streamed to the data file by one asynchronous positional write at a time (so at most
 * one block is ever in flight); {@link Journal.commit} waits for the writes, fsyncs the data file,
 * then appends a COMMIT record with the CRC of the new bytes and fsyncs the journal. When the RAM
 * ring needs a block that is not on disk yet (a producer faster than the disk), the caller uses
 * {@link Journal.writeSyncTo}: the append then pays for a synchronous write, and memory stays
 * bounded.
 */
export class Journal {
  /** Path of the raw data file. */
  readonly dataPath: string;
  /** Path of the journal file. */
  readonly journalPath: string;
  readonly #dataFd: number;
  readonly #journalFd: number | null;
  readonly #bpf: number;
  readonly #blockFrames: number;
  readonly #source: FrameSource | null;
  #journalSize: number;
  #issued: number;
  #written: number;
  #committed: number;
  #readyLimit: number;
  #crc = 0;
  #boundary: { frame: number; crc: number | null } | null = null;
  #inflight: { start: number; end: number } | null = null;
  #waiters: Waiter[] = [];
  #ops = 0;
  #idle: (() => void)[] = [];
  #error: BufferError | null = null;
  #closed = false;
  /** Frame ranges that read as silence (their bytes failed the checksum; reading journals only). */
  #silenced: readonly (readonly [number, number])[] = [];

  private constructor(init: {
    dir: string;
    id: string;
    dataFd: number;
    journalFd: number | null;
    journalSize: number;
    bytesPerFrame: number;
    blockFrames: number;
    source: FrameSource | null;
    frames: number;
  }) {
    this.dataPath = join(init.dir, dataFileName(init.id));
    this.journalPath = join(init.dir, journalFileName(init.id));
    this.#dataFd = init.dataFd;
    this.#journalFd = init.journalFd;
    this.#journalSize = init.journalSize;
    this.#bpf = init.bytesPerFrame;
    this.#blockFrames = init.blockFrames;
    this.#source = init.source;
    this.#issued = init.frames;
    this.#written = init.frames;
    this.#committed = init.frames;
    this.#readyLimit = init.frames;
  }

  /**
   * Creates the data and journal files of a new recording, writes and fsyncs the header record
   * (and the directory, so the files survive a power cut).
   * @throws {BufferError} `IO_ERROR` when a file cannot be created (e.g. the id is already used).
   */
  static async create(
    dir: string,
    header: HeaderRecord,
    bytesPerFrame: number,
    blockFrames: number,
    source: FrameSource,
  ): Promise<Journal> {
    const dataPath = join(dir, dataFileName(header.id));
    const journalPath = join(dir, journalFileName(header.id));
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw ioError('creating spool directory', dir, e);
    }
    let dataFd: number;
    let journalFd: number;
    try {
      dataFd = await openFd(dataPath, 'wx+');
    } catch (e) {
      throw ioError('creating', dataPath, e);
    }
    try {
      journalFd = await openFd(journalPath, 'wx');
    } catch (e) {
      await closeFd(dataFd);
      await rm(dataPath, { force: true });
      throw ioError('creating', journalPath, e);
    }
    const head = encodeRecord(RecordType.HEADER, header);
    const first = new Uint8Array(JOURNAL_MAGIC.byteLength + head.byteLength);
    first.set(JOURNAL_MAGIC);
    first.set(head, JOURNAL_MAGIC.byteLength);
    try {
      await writeAll(journalFd, first, 0);
      await fsyncFd(journalFd);
      await fsyncFd(dataFd);
      await syncDirectory(dir);
    } catch (e) {
      await closeFd(dataFd);
      await closeFd(journalFd);
      await rm(dataPath, { force: true });
      await rm(journalPath, { force: true });
      throw ioError('writing the journal header to', journalPath, e);
    }
    return new Journal({
      dir,
      id: header.id,
      dataFd,
      journalFd,
      journalSize: first.byteLength,
      bytesPerFrame,
      blockFrames,
      source,
      frames: 0,
    });
  }

  /**
   * Opens an existing data file for reading (recovery); nothing is written through it. Frames in
   * `silenced` ranges read as zeros, as do frames past the end of the file.
   */
  static async openForReading(
    dir: string,
    id: string,
    bytesPerFrame: number,
    frames: number,
    silenced: readonly (readonly [number, number])[] = [],
  ): Promise<Journal> {
    const dataPath = join(dir, dataFileName(id));
    let dataFd: number;
    try {
      dataFd = await openFd(dataPath, 'r');
    } catch (e) {
      throw ioError('opening', dataPath, e);
    }
    const journal = new Journal({
      dir,
      id,
      dataFd,
      journalFd: null,
      journalSize: 0,
      bytesPerFrame,
      blockFrames: 1,
      source: null,
      frames,
    });
    journal.#silenced = silenced;
    return journal;
  }

  /** Frames handed to the operating system (written or being written). */
  get issued(): number {
    return this.#issued;
  }

  /** Frames whose writes have completed (a contiguous prefix). */
  get written(): number {
    return this.#written;
  }

  /** Frames made durable by the last commit. */
  get committed(): number {
    return this.#committed;
  }

  /** The first write failure, if any: later writes and commits fail with it. */
  get error(): BufferError | null {
    return this.#error;
  }

  /** The frame range an asynchronous write is reading from memory right now, if any. */
  get inflight(): { readonly start: number; readonly end: number } | null {
    return this.#inflight;
  }

  /** Allows the background writer to write frames up to `limit` (whole blocks, normally). */
  allow(limit: number): void {
    if (limit > this.#readyLimit) this.#readyLimit = limit;
    this.#pump();
  }

  /** The end of the next write starting at `start`: the block end, capped by limit and commit point. */
  #nextEnd(start: number, limit: number): number {
    let end = Math.min(limit, (Math.floor(start / this.#blockFrames) + 1) * this.#blockFrames);
    const b = this.#boundary;
    if (b !== null && b.crc === null && start < b.frame) end = Math.min(end, b.frame);
    return end;
  }

  /** Accounts the bytes of [start, end) as issued: CRC, and the commit point when reached. */
  #issue(start: number, end: number): Uint8Array {
    const view = this.#source!(start, end);
    this.#crc = crc32(view, this.#crc);
    this.#issued = end;
    const b = this.#boundary;
    if (b !== null && b.crc === null && end === b.frame) {
      b.crc = this.#crc;
      this.#crc = 0;
    }
    return view;
  }

  #pump(): void {
    if (this.#inflight !== null || this.#error !== null || this.#closed || this.#source === null) return;
    const start = this.#issued;
    if (start >= this.#readyLimit) return;
    const end = this.#nextEnd(start, this.#readyLimit);
    const view = this.#issue(start, end);
    this.#inflight = { start, end };
    this.#ops++;
    writeAll(this.#dataFd, view, start * this.#bpf).then(
      () => {
        this.#inflight = null;
        // Synchronous writes issued meanwhile are complete too.
        this.#written = this.#issued;
        this.#opDone();
        this.#wake();
        this.#pump();
      },
      (e: unknown) => {
        this.#inflight = null;
        this.#opDone();
        this.#fail(ioError('writing audio to', this.dataPath, e));
      },
    );
  }

  /**
   * Writes frames up to `frame` synchronously (the bounded-memory fallback).
   * @throws {BufferError} `IO_ERROR` when the write fails (or an earlier one did).
   */
  writeSyncTo(frame: number): void {
    if (this.#error !== null) throw this.#error;
    if (frame > this.#readyLimit) this.#readyLimit = frame;
    while (this.#issued < frame) {
      const start = this.#issued;
      const end = this.#nextEnd(start, frame);
      const view = this.#issue(start, end);
      try {
        let done = 0;
        while (done < view.byteLength) {
          const n = writeSync(this.#dataFd, view, done, view.byteLength - done, start * this.#bpf + done);
          if (n === 0) throw new Error('short write');
          done += n;
        }
      } catch (e) {
        throw this.#fail(ioError('writing audio to', this.dataPath, e));
      }
    }
    if (this.#inflight === null) {
      this.#written = this.#issued;
      this.#wake();
    }
  }

  #fail(error: BufferError): BufferError {
    if (this.#error === null) this.#error = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#error);
    return this.#error;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.frame <= this.#written) w.resolve();
      else keep.push(w);
    }
    this.#waiters = keep;
  }

  /** Resolves once frames up to `frame` are written (not necessarily fsynced). */
  whenWritten(frame: number): Promise<void> {
    if (frame <= this.#written) return Promise.resolve();
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ frame, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Makes frames up to `target` durable: waits for their writes, fsyncs the data file, appends a
   * COMMIT record and fsyncs the journal. Calls must not overlap (the buffer chains them).
   * @throws {BufferError} `IO_ERROR` on a failed write or fsync.
   */
  async commit(target: number, delta: CommitDelta): Promise<void> {
    if (this.#error !== null) throw this.#error;
    const start = this.#committed;
    if (target <= start || this.#journalFd === null) return;
    this.#boundary = { frame: target, crc: null };
    if (this.#issued === target) {
      this.#boundary.crc = this.#crc;
      this.#crc = 0;
    }
    this.allow(target);
    await this.whenWritten(target);
    const crc = this.#boundary.crc;
    this.#boundary = null;
    if (crc === null)
      throw new BufferError('IO_ERROR', `internal: no checksum for frames ${start}..${target}`);
    const record = encodeRecord(RecordType.COMMIT, {
      start,
      end: target,
      crc,
      ...delta,
    } satisfies CommitRecord);
    await this.#track(async () => {
      try {
        await fsyncFd(this.#dataFd);
        await writeAll(this.#journalFd!, record, this.#journalSize);
        this.#journalSize += record.byteLength;
        await fsyncFd(this.#journalFd!);
      } catch (e) {
        throw this.#fail(ioError('committing the journal', this.journalPath, e));
      }
    });
    this.#committed = target;
  }

  /** Appends the END record (after a final {@link Journal.commit}) and fsyncs it. */
  async writeEnd(frameCount: number): Promise<void> {
    if (this.#journalFd === null) return;
    if (this.#error !== null) throw this.#error;
    const record = encodeRecord(RecordType.END, { frameCount });
    await this.#track(async () => {
      try {
        await writeAll(this.#journalFd!, record, this.#journalSize);
        this.#journalSize += record.byteLength;
        await fsyncFd(this.#journalFd!);
      } catch (e) {
        throw this.#fail(ioError('ending the journal', this.journalPath, e));
      }
    });
  }

  /**
   * Reads frames [start, start + out.byteLength / bytesPerFrame) from the data file into `out`,
   * after waiting for their writes. Bytes past the end of the file read as zeros.
   */
  async read(out: Uint8Array, start: number): Promise<void> {
    await this.whenWritten(start + out.byteLength / this.#bpf);
    if (this.#closed) throw new BufferError('CLOSED', 'the spool was closed while a read was waiting');
    await this.#track(async () => {
      try {
        const n = await readAll(this.#dataFd, out, start * this.#bpf);
        if (n < out.byteLength) out.fill(0, n);
        const end = start + out.byteLength / this.#bpf;
        for (const [from, to] of this.#silenced) {
          if (to <= start || from >= end) continue;
          out.fill(0, (Math.max(from, start) - start) * this.#bpf, (Math.min(to, end) - start) * this.#bpf);
        }
      } catch (e) {
        throw ioError('reading audio from', this.dataPath, e);
      }
    });
  }

  async #track<T>(fn: () => Promise<T>): Promise<T> {
    // Never touch a descriptor after close(): its number may already belong to another file.
    if (this.#closed) throw new BufferError('CLOSED', 'the spool was closed');
    this.#ops++;
    try {
      return await fn();
    } finally {
      this.#opDone();
    }
  }

  #opDone(): void {
    this.#ops--;
    if (this.#ops === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /**
   * Waits for in-flight operations, then closes both files (closing a descriptor under a pending
   * operation could let a reused descriptor number receive its bytes). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ops > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#fail(new BufferError('CLOSED', 'the spool was closed'));
    await closeFd(this.#dataFd);
    if (this.#journalFd !== null) await closeFd(this.#journalFd);
  }

  /** Closes, then deletes both files. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.dataPath, { force: true });
    await rm(this.journalPath, { force: true });
  }
}

/** fsyncs a directory so newly created entries survive a power cut (best effort off Linux). */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await openHandle(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the files themselves are still fsynced.
  }
}
