// The journal's on-disk format: magic, checksummed records (header, commit, end), encoding and parsing.
import { crc32 } from 'node:zlib';
import type { SampleFormat } from '@audex/pcm';

/**
 * On-disk layout of a journal (`<id>.journal`, next to the raw data file `<id>.pcm`).
 *
 * The file starts with {@link JOURNAL_MAGIC}, then records:
 * `u32 RECORD_MAGIC | u8 type | 3 bytes zero | u32 payload length | payload (UTF-8 JSON) | u32 crc32`,
 * little-endian, the CRC covering type, padding, length and payload. A torn or corrupted record fails
 * its CRC; the parser then resynchronises on the next record magic, so later records still count.
 */
export const JOURNAL_MAGIC = new TextEncoder().encode('AUDEXJ1\n');
const RECORD_MAGIC = 0x524a5841; // "AXJR"
const RECORD_OVERHEAD = 16;
/** Records larger than this are treated as damage (a corrupted length field). */
const MAX_PAYLOAD = 64 * 1024 * 1024;

/** Kinds of journal record. */
export const RecordType = {
  /** Format, rate, channels, meta: written once, first. */
  HEADER: 1,
  /** Frames [start, end) are durable in the data file, with their CRC and timeline updates. */
  COMMIT: 2,
  /** The recording ended cleanly. */
  END: 3,
} as const;

/** The header record. */
export interface HeaderRecord {
  version: 1;
  id: string;
  sampleFormat: SampleFormat;
  channels: number;
  rate: number;
  meta: Record<string, unknown>;
  createdAt: number;
}

/** A commit record: everything new since the previous commit. */
export interface CommitRecord {
  /** First frame this commit covers (the previous commit's end). */
  start: number;
  /** End (exclusive) of the frames now durable. */
  end: number;
  /** CRC-32 of the data file bytes of frames [start, end). */
  crc: number;
  /** Anchors added since the previous commit, as [frame, time]. */
  anchors: [number, number][];
  /** Gaps added since the previous commit, as [startFrame, frames, startTime, durationMs]. */
  gaps: [number, number, number, number][];
  /** Time of frame 0 (ms epoch), repeated in every commit so losing the first one loses nothing. */
  startTime: number | null;
  /** Running totals. */
  overflowCount: number;
  capturedFrames: number;
}

/** The end record. */
export interface EndRecord {
  frameCount: number;
}

/** Encodes one record. */
export function encodeRecord(type: number, value: unknown): Uint8Array {
  const payload = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(payload.byteLength + RECORD_OVERHEAD);
  const view = new DataView(out.buffer);
  view.setUint32(0, RECORD_MAGIC, true);
  out[4] = type;
  view.setUint32(8, payload.byteLength, true);
  out.set(payload, 12);
  view.setUint32(12 + payload.byteLength, crc32(out.subarray(4, 12 + payload.byteLength)), true);
  return out;
}

/** A record found by {@link parseJournal}. */
export interface ParsedRecord {
  type: number;
  value: unknown;
  offset: number;
}

/** A damaged stretch of a journal found by {@link parseJournal}. */
export interface DamagedStretch {
  offset: number;
  length: number;
  /** True when the damage runs to the end of the file (a cut-short or torn tail). */
  tail: boolean;
}

function recordAt(bytes: Uint8Array, view: DataView, offset: number): ParsedRecord | null {
  if (offset + RECORD_OVERHEAD > bytes.byteLength) return null;
  if (view.getUint32(offset, true) !== RECORD_MAGIC) return null;
  const length = view.getUint32(offset + 8, true);
  if (length > MAX_PAYLOAD || offset + RECORD_OVERHEAD + length > bytes.byteLength) return null;
  const crc = view.getUint32(offset + 12 + length, true);
  if (crc !== crc32(bytes.subarray(offset + 4, offset + 12 + length))) return null;
  try {
    const value: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(offset + 12, offset + 12 + length)),
    );
    return { type: bytes[offset + 4]!, value, offset };
  } catch {
    return null;
  }
}

/**
 * Parses a journal's bytes: every record that passes its CRC, plus the damaged stretches between
 * them. Never throws; a missing file magic is reported as damage at offset 0.
 */
export function parseJournal(bytes: Uint8Array): { records: ParsedRecord[]; damaged: DamagedStretch[] } {
  const records: ParsedRecord[] = [];
  const damaged: DamagedStretch[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = JOURNAL_MAGIC.byteLength;
  for (let i = 0; i < JOURNAL_MAGIC.byteLength; i++) {
    if (bytes[i] !== JOURNAL_MAGIC[i]) {
      offset = 0;
      break;
    }
  }
  if (offset === 0)
    damaged.push({
      offset: 0,
      length: Math.min(bytes.byteLength, JOURNAL_MAGIC.byteLength),
      tail: bytes.byteLength <= JOURNAL_MAGIC.byteLength,
    });
  let damageStart = -1;
  while (offset < bytes.byteLength) {
    const record = recordAt(bytes, view, offset);
    if (record !== null) {
      if (damageStart >= 0) {
        damaged.push({ offset: damageStart, length: offset - damageStart, tail: false });
        damageStart = -1;
      }
      records.push(record);
      offset += RECORD_OVERHEAD + view.getUint32(offset + 8, true);
      continue;
    }
    if (damageStart < 0) damageStart = offset;
    offset++;
  }
  if (damageStart >= 0)
    damaged.push({ offset: damageStart, length: bytes.byteLength - damageStart, tail: true });
  return { records, damaged };
}

/** Journal file name of a recording id. */
export function journalFileName(id: string): string {
  return `${id}.journal`;
}

/** Data file name of a recording id. */
export function dataFileName(id: string): string {
  return `${id}.pcm`;
}
