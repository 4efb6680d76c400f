/**
 * Owns FLAC's bit-level plumbing: an MSB-first bit writer and reader, and the two CRCs every
 * frame carries (CRC-8 of the header, CRC-16 of the frame).
 */

const CRC8 = new Uint8Array(256);
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c8 = i;
  let c16 = i << 8;
  for (let b = 0; b < 8; b++) {
    c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff;
    c16 = c16 & 0x8000 ? ((c16 << 1) ^ 0x8005) & 0xffff : (c16 << 1) & 0xffff;
  }
  CRC8[i] = c8;
  CRC16[i] = c16;
}

/** CRC-8 (polynomial 0x07, initial 0) of `bytes[from, to)`: FLAC's frame header check. */
export function crc8(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = CRC8[crc ^ bytes[i]!]!;
  return crc;
}

/** CRC-16 (polynomial 0x8005, initial 0) of `bytes[from, to)`: FLAC's frame check. */
export function crc16(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[(crc >>> 8) ^ bytes[i]!]!;
  return crc;
}

/** An MSB-first bit writer into a growing byte buffer. */
export class BitWriter {
  #bytes: Uint8Array;
  #length = 0;
  /** Pending bits, right-aligned. */
  #acc = 0;
  #accBits = 0;

  constructor(capacity = 1 << 16) {
    this.#bytes = new Uint8Array(capacity);
  }

  /** Bytes written so far (whole bytes only). */
  get length(): number {
    return this.#length;
  }

  /** The underlying buffer (valid up to `length`). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  reset(): void {
    this.#length = 0;
    this.#acc = 0;
    this.#accBits = 0;
  }

  #ensure(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra + 1024));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  /** Writes the low `n` bits of `value` (0 ≤ n ≤ 24). */
  write(value: number, n: number): void {
    if (n === 0) return;
    this.#acc = ((this.#acc << n) | (value & ((1 << n) - 1))) >>> 0;
    this.#accBits += n;
    if (this.#accBits >= 8) {
      this.#ensure(4);
      while (this.#accBits >= 8) {
        this.#accBits -= 8;
        this.#bytes[this.#length++] = (this.#acc >>> this.#accBits) & 0xff;
      }
      this.#acc &= (1 << this.#accBits) - 1;
    }
  }

  /** Writes the low `n` bits of `value` for any n ≤ 32. */
  writeLong(value: number, n: number): void {
    if (n > 24) {
      this.write(Math.floor(value / 2 ** 16) & 0xffff, n - 16);
      this.write(value & 0xffff, 16);
    } else {
      this.write(value, n);
    }
  }

  /** Writes `count` zero bits then a one bit. */
  unary(count: number): void {
    let q = count;
    while (q >= 16) {
      this.write(0, 16);
      q -= 16;
    }
    this.write(1, q + 1);
  }

  /** Pads with zero bits to a byte boundary. */
  align(): void {
    if (this.#accBits > 0) this.write(0, 8 - this.#accBits);
  }

  /** Appends whole bytes (the writer must be byte-aligned). */
  writeBytes(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }
}

/** Thrown by {@link BitReader} when the bytes run out: the caller waits for more input. */
export const NEED_MORE = Symbol('flac: need more bytes');

/** An MSB-first bit reader over bytes; reading past the end throws {@link NEED_MORE}. */
export class BitReader {
  readonly bytes: Uint8Array;
  /** Position in bits from the start of `bytes`. */
  pos: number;
  readonly #endBits: number;

  constructor(bytes: Uint8Array, startByte = 0) {
    this.bytes = bytes;
    this.pos = startByte * 8;
    this.#endBits = bytes.length * 8;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  read(n: number): number {
    if (n === 0) return 0;
    if (this.pos + n > this.#endBits) throw NEED_MORE;
    let value = 0;
    let left = n;
    while (left > 0) {
      const byte = this.bytes[this.pos >>> 3]!;
      const bitInByte = this.pos & 7;
      const avail = 8 - bitInByte;
      const take = Math.min(avail, left);
      const bits = (byte >>> (avail - take)) & ((1 << take) - 1);
      value = value * (1 << take) + bits;
      left -= take;
      this.pos += take;
    }
    return value;
  }

  /** Reads `n` bits as a two's-complement signed number. */
  readSigned(n: number): number {
    if (n === 0) return 0;
    const v = this.read(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }

  /** Counts zero bits up to the next one bit (consumed). */
  unary(): number {
    let count = 0;
    for (;;) {
      if (this.pos >= this.#endBits) throw NEED_MORE;
      const bitInByte = this.pos & 7;
      const byte = (this.bytes[this.pos >>> 3]! << bitInByte) & 0xff;
      if (byte === 0) {
        count += 8 - bitInByte;
        this.pos += 8 - bitInByte;
        continue;
      }
      const lead = Math.clz32(byte) - 24;
      count += lead;
      this.pos += lead + 1;
      return count;
    }
  }

  /** Skips to the next byte boundary. */
  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  /** Byte position (after `align()`). */
  get bytePos(): number {
    return this.pos >>> 3;
  }
}
