// Owns CRC32C (Castagnoli), the checksum S3 verifies for audex's uploads when the server supports
// flexible checksums: a table-driven slicing-by-8 implementation (Node 20 has no native CRC32C).

const POLY = 0x82f63b78; // reflected Castagnoli polynomial
const TABLES = buildTables();

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let t = 1; t < 8; t++) {
      c = (t0[c & 0xff]! ^ (c >>> 8)) >>> 0;
      tables[t]![n] = c;
    }
  }
  return tables;
}

/** An incremental CRC32C: `update()` with the bytes in order, then `digest()`. */
export class Crc32c {
  #crc = 0xffffffff;

  /** Adds `bytes` to the checksum; returns `this`. */
  update(bytes: Uint8Array): this {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ];
    let crc = this.#crc;
    let i = 0;
    const n = bytes.length;
    const end8 = n - (n % 8);
    while (i < end8) {
      const lo = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) ^ crc;
      crc =
        t7[lo & 0xff]! ^
        t6[(lo >>> 8) & 0xff]! ^
        t5[(lo >>> 16) & 0xff]! ^
        t4[lo >>> 24]! ^
        t3[bytes[i + 4]!]! ^
        t2[bytes[i + 5]!]! ^
        t1[bytes[i + 6]!]! ^
        t0[bytes[i + 7]!]!;
      i += 8;
    }
    while (i < n) crc = t0[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
    this.#crc = crc >>> 0;
    return this;
  }

  /** The checksum of the bytes so far, as S3 sends it: 4 bytes big-endian, base64. */
  digestBase64(): string {
    const value = (this.#crc ^ 0xffffffff) >>> 0;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value, 0);
    return out.toString('base64');
  }

  /** The checksum of the bytes so far as an unsigned 32-bit number. */
  digest(): number {
    return (this.#crc ^ 0xffffffff) >>> 0;
  }
}
