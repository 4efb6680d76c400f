import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../src/index.js';

describe('concatBytes', () => {
  it('joins the parts back to back in order', () => {
    const out = concatBytes([Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)]);
    expect(out).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6));
  });

  it('honours the offset and length of subarray views', () => {
    const backing = Uint8Array.of(9, 1, 2, 9, 9, 3, 4, 9);
    const out = concatBytes([backing.subarray(1, 3), backing.subarray(5, 7)]);
    expect(out).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(out.byteOffset).toBe(0);
    expect(out.buffer).not.toBe(backing.buffer);
  });

  it('returns a zero-length array for no parts or only empty parts', () => {
    expect(concatBytes([]).byteLength).toBe(0);
    expect(concatBytes([new Uint8Array(0), new Uint8Array(0)]).byteLength).toBe(0);
  });

  it('returns the only non-empty part as is, without a copy', () => {
    const part = Uint8Array.of(7, 8, 9);
    expect(concatBytes([part])).toBe(part);
    expect(concatBytes([new Uint8Array(0), part, new Uint8Array(0)])).toBe(part);
  });

  it('equals the bytes of the parts joined, for any parts', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (parts) => {
        const out = concatBytes(parts);
        expect(Array.from(out)).toEqual(parts.flatMap((p) => Array.from(p)));
      }),
    );
  });
});
