import { describe, expect, it } from 'vitest';
import { Crc32c } from '../src/s3/crc32c.js';

const hex = (bytes: Uint8Array): string => new Crc32c().update(bytes).digest().toString(16).padStart(8, '0');

describe('CRC32C', () => {
  it('matches the check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(hex(Buffer.from('123456789'))).toBe('e3069283');
    expect(hex(new Uint8Array(32))).toBe('8a9136aa');
    expect(hex(new Uint8Array(32).fill(0xff))).toBe('62a8ab43');
    expect(hex(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe('46dd794e');
    expect(hex(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe('113fdb5c');
    expect(hex(new Uint8Array(0))).toBe('00000000');
  });

  it('gives the same checksum however the bytes are split, and S3 base64 form', () => {
    const data = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
    const whole = new Crc32c().update(data).digest();
    for (const cuts of [[1], [7, 8, 9], [65_536], [3, 50_000, 99_999]]) {
      const crc = new Crc32c();
      let last = 0;
      for (const at of [...cuts, data.length]) {
        crc.update(data.subarray(last, at));
        last = at;
      }
      expect(crc.digest()).toBe(whole);
    }
    expect(new Crc32c().update(Buffer.from('123456789')).digestBase64()).toBe(
      Buffer.from('e3069283', 'hex').toString('base64'),
    );
  });
});
