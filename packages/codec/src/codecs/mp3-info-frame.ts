/**
 * MPEG audio frame headers and the Xing/Info + LAME tag frame, written by hand because no
 * streaming encoder on npm writes it: it is what tells decoders (ffmpeg, mpg123, browsers) the
 * encoder delay and end padding to trim, so the decoded length is exact.
 *
 * Layout: a silent Layer III frame whose side info is zero, followed by `Info` (CBR) or `Xing`,
 * a flags word, the frame count, then the 36-byte LAME extension with delay and padding as
 * 12 + 12 bits and a CRC-16 (poly 0x8005, reflected) of everything before it.
 */

/** What an MPEG Layer III frame header says. */
export interface Mp3FrameHeader {
  /** 1 for MPEG-1, 2 for MPEG-2, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  /** Sample rate in Hz. */
  rate: number;
  /** Bitrate in kbit/s. */
  kbps: number;
  /** 1 (mono) or 2 (stereo, joint stereo, dual channel). */
  channels: 1 | 2;
  /** Bytes of the whole frame including the header. */
  size: number;
  /** Samples per channel the frame decodes to (1152 or 576). */
  samplesPerFrame: number;
  /** Bytes of side information after the 4-byte header (no CRC). */
  sideInfoSize: number;
}

const KBPS_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const KBPS_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};

/** The ten legal Layer III rates. */
export const MP3_RATES: readonly number[] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/** Parses a Layer III frame header at `offset`, or returns undefined when there is none. */
export function parseFrameHeader(data: Uint8Array, offset = 0): Mp3FrameHeader | undefined {
  if (offset + 4 > data.length) return undefined;
  const b1 = data[offset + 1]!;
  const b2 = data[offset + 2]!;
  const b3 = data[offset + 3]!;
  if (data[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  if (versionBits === 1 || ((b1 >> 1) & 3) !== 1) return undefined; // reserved version, not Layer III
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const mpeg1 = versionBits === 3;
  const kbps = (mpeg1 ? KBPS_V1 : KBPS_V2)[bitrateIndex]!;
  const rate = RATES[versionBits]![rateIndex]!;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  const padding = (b2 >> 1) & 1;
  const size = Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / rate) + padding;
  return {
    version: mpeg1 ? 1 : versionBits === 2 ? 2 : 2.5,
    rate,
    kbps,
    channels,
    size,
    samplesPerFrame: mpeg1 ? 1152 : 576,
    sideInfoSize: mpeg1 ? (channels === 1 ? 17 : 32) : channels === 1 ? 9 : 17,
  };
}

/** What the Info frame tells a decoder. */
export interface Mp3GaplessInfo {
  /** Audio frames after the Info frame, when known. */
  frames?: number;
  /** Samples of encoder delay at the start (LAME: 576), 0–4095. */
  delay: number;
  /** Samples of padding at the end, 0–4095. */
  padding: number;
}

const FLAG_FRAMES = 1;
const LAME_TAG_BYTES = 36;

/** CRC-16/ARC (poly 0x8005 reflected, init 0), the LAME tag checksum. */
function crc16(data: Uint8Array, end: number): number {
  let crc = 0;
  for (let i = 0; i < end; i++) {
    crc ^= data[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/**
 * Builds an Info frame matching the stream's first frame header `template` (same version, rate
 * and channel mode, so decoders accept it as part of the stream). When the template's bitrate
 * gives a frame too small for the tag, a larger bitrate index is used.
 */
export function buildInfoFrame(template: Uint8Array, info: Mp3GaplessInfo): Uint8Array {
  const header = Uint8Array.from(template.subarray(0, 4));
  header[1] = header[1]! | 1; // no CRC
  header[2] = header[2]! & 0xfc; // padding and private bits off
  header[3] = header[3]! & 0xcf; // mode extension 0
  let parsed = parseFrameHeader(header);
  if (!parsed) throw new RangeError('template is not an MPEG Layer III frame header');
  const needed = 4 + parsed.sideInfoSize + 4 + 4 + (info.frames === undefined ? 0 : 4) + LAME_TAG_BYTES;
  while (parsed.size < needed) {
    const index: number = header[2]! >> 4;
    if (index >= 14) throw new RangeError('no bitrate gives a frame large enough for the Info tag');
    header[2] = ((index + 1) << 4) | (header[2]! & 0x0f);
    parsed = parseFrameHeader(header)!;
  }
  const frame = new Uint8Array(parsed.size);
  frame.set(header);
  let p = 4 + parsed.sideInfoSize;
  const view = new DataView(frame.buffer);
  frame.set([0x49, 0x6e, 0x66, 0x6f], p); // "Info": constant bitrate
  p += 4;
  view.setUint32(p, info.frames === undefined ? 0 : FLAG_FRAMES);
  p += 4;
  if (info.frames !== undefined) {
    view.setUint32(p, info.frames);
    p += 4;
  }
  const lame = p;
  frame.set(new TextEncoder().encode('LAME3.100'), lame); // ffmpeg and mpg123 read delays only after "LAME"
  frame[lame + 9] = 0x01; // tag revision 0, CBR
  frame[lame + 20] = Math.min(255, parsed.kbps);
  const delay = Math.max(0, Math.min(4095, info.delay));
  const padding = Math.max(0, Math.min(4095, info.padding));
  frame[lame + 21] = delay >> 4;
  frame[lame + 22] = ((delay & 0x0f) << 4) | (padding >> 8);
  frame[lame + 23] = padding & 0xff;
  view.setUint16(lame + 34, crc16(frame, lame + 34));
  return frame;
}

/** Reads the Xing/Info + LAME tag of a frame, when the frame is one. */
export function parseInfoFrame(data: Uint8Array, offset = 0): Mp3GaplessInfo | undefined {
  const header = parseFrameHeader(data, offset);
  if (!header || offset + header.size > data.length) return undefined;
  let p = offset + 4 + header.sideInfoSize;
  const tag = String.fromCharCode(...data.subarray(p, p + 4));
  if (tag !== 'Info' && tag !== 'Xing') return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const flags = view.getUint32(p + 4);
  p += 8;
  let frames: number | undefined;
  if (flags & 1) {
    frames = view.getUint32(p);
    p += 4;
  }
  if (flags & 2) p += 4;
  if (flags & 4) p += 100;
  if (flags & 8) p += 4;
  if (p + LAME_TAG_BYTES > offset + header.size) return { frames, delay: 0, padding: 0 };
  const encoder = String.fromCharCode(...data.subarray(p, p + 4));
  if (encoder !== 'LAME' && encoder !== 'Lavf' && encoder !== 'Lavc') return { frames, delay: 0, padding: 0 };
  const d = (data[p + 21]! << 16) | (data[p + 22]! << 8) | data[p + 23]!;
  return { frames, delay: d >> 12, padding: d & 0xfff };
}
