const EMPTY = new Uint8Array(0);

/**
 * Joins byte arrays into one, in order.
 *
 * Copies only when it has to: when exactly one part holds bytes, that part is returned as is
 * (the result shares its memory), and when none does, a shared zero-length array is returned.
 * Call `.slice()` on the result when you need a private copy. Never throws.
 *
 * @param parts - The arrays to join; empty ones are skipped.
 * @returns A `Uint8Array` of the parts' total length holding their bytes back to back.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  let only: Uint8Array | undefined;
  let nonEmpty = 0;
  for (const p of parts) {
    if (p.byteLength === 0) continue;
    total += p.byteLength;
    only = p;
    nonEmpty++;
  }
  if (nonEmpty === 0) return EMPTY;
  if (nonEmpty === 1) return only!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
