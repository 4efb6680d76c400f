/**
 * Owns the Ogg container as Opus uses it: page writing (CRC, lacing, granule positions) and page
 * reading.
 */
import { CodecError } from '../errors.js';

/**
 * A minimal Ogg bitstream writer and reader (RFC 3533), enough for one logical stream of small
 * packets (Ogg Opus). Pages end on packet boundaries when written; the reader also handles
 * packets continued across pages.
 */

/** Page header flag: this page continues a packet from the previous page. */
export const OGG_CONTINUED = 0x01;
/** Page header flag: first page of the logical stream. */
export const OGG_BOS = 0x02;
/** Page header flag: last page of the logical stream. */
export const OGG_EOS = 0x04;

const HEADER_BYTES = 27;
const MAX_SEGMENTS = 255;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR. */
export function oggCrc32(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++)
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Lacing values a packet needs: one per 255 bytes, plus a final value below 255. */
function segmentsOf(packet: Uint8Array): number {
  return Math.floor(packet.length / 255) + 1;
}

/** Writes the pages of one logical Ogg stream. */
export class OggPageWriter {
  readonly #serial: number;
  #sequence = 0;

  /** @param serial the stream's serial number (32 bits). */
  constructor(serial: number) {
    this.#serial = serial >>> 0;
  }

  /**
   * Builds one page holding whole `packets` (at most 255 lacing values in total).
   * @param granule the granule position after the last packet on the page.
   * @param flags {@link OGG_BOS} and/or {@link OGG_EOS}.
   */
  page(packets: readonly Uint8Array[], granule: bigint, flags = 0): Uint8Array {
    let segments = 0;
    let body = 0;
    for (const p of packets) {
      segments += segmentsOf(p);
      body += p.length;
    }
    if (segments > MAX_SEGMENTS) throw new RangeError(`${segments} lacing values do not fit one Ogg page`);
    const page = new Uint8Array(HEADER_BYTES + segments + body);
    const view = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53]); // "OggS", version 0
    page[5] = flags;
    view.setBigInt64(6, granule, true);
    view.setUint32(14, this.#serial, true);
    view.setUint32(18, this.#sequence++, true);
    page[26] = segments;
    let lace = HEADER_BYTES;
    let offset = HEADER_BYTES + segments;
    for (const p of packets) {
      for (let left = p.length; ; left -= 255) {
        page[lace++] = Math.min(left, 255);
        if (left < 255) break;
      }
      page.set(p, offset);
      offset += p.length;
    }
    view.setUint32(22, oggCrc32(page), true);
    return page;
  }

  /**
   * Splits `packets` (each with the granule position after it) into as few pages as the lacing
   * limit and `maxPackets` allow; the last page gets `lastFlags`.
   */
  pages(
    packets: readonly Uint8Array[],
    granules: readonly bigint[],
    maxPackets: number,
    lastFlags = 0,
  ): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    while (start < packets.length) {
      let end = start;
      let segments = 0;
      while (end < packets.length && end - start < maxPackets) {
        const s = segmentsOf(packets[end]!);
        if (segments + s > MAX_SEGMENTS) break;
        segments += s;
        end++;
      }
      if (end === start) throw new RangeError('an Ogg packet over 64 770 bytes is not supported');
      const last = end === packets.length;
      out.push(this.page(packets.slice(start, end), granules[end - 1]!, last ? lastFlags : 0));
      start = end;
    }
    return out;
  }
}

/** A packet read back from an Ogg stream. */
export interface OggPacket {
  /** The packet bytes. */
  data: Uint8Array;
  /** Granule position of the page the packet ends on, when it is the last packet ending there; else -1. */
  granule: bigint;
  /** True when the packet ends on the stream's end-of-stream page. */
  eos: boolean;
}

function corrupt(format: string, message: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `${format}: ${message}`, { format });
}

/**
 * Reads every packet of a single-stream Ogg file, checking capture patterns, versions, CRCs,
 * serial numbers and page sequence.
 * @throws {CodecError} `CORRUPT_INPUT` naming what is wrong and where.
 */
export function readOggPackets(data: Uint8Array, format = 'ogg'): OggPacket[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const packets: OggPacket[] = [];
  let partial: Uint8Array[] = [];
  let offset = 0;
  let serial: number | undefined;
  let sequence = 0;
  while (offset < data.length) {
    if (offset + HEADER_BYTES > data.length)
      throw corrupt(format, `truncated Ogg page header at byte ${offset}`);
    if (view.getUint32(offset) !== 0x4f676753)
      throw corrupt(format, `no Ogg page ("OggS") at byte ${offset}`);
    if (data[offset + 4] !== 0)
      throw corrupt(format, `unknown Ogg version ${data[offset + 4]} at byte ${offset}`);
    const flags = data[offset + 5]!;
    const granule = view.getBigInt64(offset + 6, true);
    const pageSerial = view.getUint32(offset + 14, true);
    const pageSequence = view.getUint32(offset + 18, true);
    const crc = view.getUint32(offset + 22, true);
    const segments = data[offset + 26]!;
    const bodyStart = offset + HEADER_BYTES + segments;
    if (bodyStart > data.length) throw corrupt(format, `truncated Ogg lacing table at byte ${offset}`);
    let bodyLength = 0;
    for (let i = 0; i < segments; i++) bodyLength += data[offset + HEADER_BYTES + i]!;
    const end = bodyStart + bodyLength;
    if (end > data.length)
      throw corrupt(format, `truncated Ogg page at byte ${offset}: ${end - data.length} bytes missing`);
    const page = data.slice(offset, end);
    page.fill(0, 22, 26);
    if (oggCrc32(page) !== crc) throw corrupt(format, `Ogg page CRC mismatch at byte ${offset}`);
    if (serial === undefined) {
      if (!(flags & OGG_BOS)) throw corrupt(format, 'the first Ogg page is not a beginning-of-stream page');
      serial = pageSerial;
    } else if (pageSerial !== serial) {
      throw corrupt(format, `a second logical stream (serial ${pageSerial}) is not supported`);
    }
    if (pageSequence !== sequence)
      throw corrupt(format, `Ogg page ${sequence} is missing (found ${pageSequence})`);
    sequence++;
    if (!(flags & OGG_CONTINUED) && partial.length > 0)
      throw corrupt(format, `a packet is cut off before byte ${offset}`);
    let lastEnding = -1;
    for (let i = 0; i < segments; i++) if (data[offset + HEADER_BYTES + i]! < 255) lastEnding = i;
    let body = bodyStart;
    for (let i = 0; i < segments; i++) {
      const lace = data[offset + HEADER_BYTES + i]!;
      partial.push(data.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        const length = partial.reduce((n, p) => n + p.length, 0);
        const packet = new Uint8Array(length);
        let o = 0;
        for (const p of partial) {
          packet.set(p, o);
          o += p.length;
        }
        partial = [];
        packets.push({
          data: packet,
          granule: i === lastEnding ? granule : -1n,
          eos: (flags & OGG_EOS) !== 0,
        });
      }
    }
    offset = end;
    if (flags & OGG_EOS) {
      if (offset !== data.length)
        throw corrupt(format, `${data.length - offset} bytes after the end-of-stream page`);
      if (partial.length > 0) throw corrupt(format, 'the stream ends inside a packet');
      return packets;
    }
  }
  throw corrupt(format, 'truncated: the stream has no end-of-stream page');
}
