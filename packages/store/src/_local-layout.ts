/**
 * How `LocalStore` maps keys to file names (private).
 *
 * Under `root/objects/`, a key `a/b/c.wav` is stored as:
 *   objects/a%/b%/c.wav            the object's bytes, a plain file
 *   objects/a%/b%/c.wav%meta.json  its metadata (JSON text)
 * Each segment is escaped: `%` and the characters Windows forbids (`<>:"|?*`) become `%XX`
 * (uppercase hex). So an escaped name contains `%` only before two hex digits, and the three kinds
 * of names can never collide: objects are bare escaped names, directories end in a lone `%`,
 * metadata files end in `%meta.json`. That is what lets keys `a` and `a/b` both exist.
 */

/** Suffix of a directory holding the keys below one segment. */
export const DIR_SUFFIX = '%';
/** Suffix of a metadata file beside its object. */
export const META_SUFFIX = '%meta.json';

const ESCAPE = /[%<>:"|?*]/g;

/** Escapes one key segment into a file-name stem. */
export function escapeSegment(segment: string): string {
  return segment.replace(ESCAPE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Reverses {@link escapeSegment}; `undefined` for a name this layout never writes. */
export function unescapeSegment(name: string): string | undefined {
  if (/%(?![0-9A-F]{2})/.test(name)) return undefined;
  return name.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The relative path parts of a key: escaped directory names, then the escaped object name. */
export function keyToParts(key: string): { dirs: string[]; name: string } {
  const segments = key.split('/');
  const last = segments.pop()!;
  return { dirs: segments.map((s) => escapeSegment(s) + DIR_SUFFIX), name: escapeSegment(last) };
}

/** What a directory entry is in this layout. */
export type EntryKind =
  | { kind: 'object'; segment: string }
  | { kind: 'dir'; segment: string }
  | { kind: 'meta' }
  | { kind: 'foreign' };

/** Classifies a directory entry by its name and type. */
export function classifyEntry(name: string, isDirectory: boolean, isFile: boolean): EntryKind {
  if (isDirectory) {
    if (!name.endsWith(DIR_SUFFIX)) return { kind: 'foreign' };
    const segment = unescapeSegment(name.slice(0, -DIR_SUFFIX.length));
    return segment === undefined || segment === '' ? { kind: 'foreign' } : { kind: 'dir', segment };
  }
  if (!isFile) return { kind: 'foreign' };
  if (name.endsWith(META_SUFFIX)) return { kind: 'meta' };
  const segment = unescapeSegment(name);
  return segment === undefined ? { kind: 'foreign' } : { kind: 'object', segment };
}
