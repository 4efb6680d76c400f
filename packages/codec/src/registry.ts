/**
 * Owns the codec registry: registering, looking up and listing codecs by format id, and
 * `decodeAudio`.
 */
import { CodecError } from './errors.js';
import type { Codec, DecodedAudio, DecodeOptions } from './types.js';

const codecs = new Map<string, Codec>();

/**
 * Registers a codec under `codec.format`, replacing any codec of the same name (so a built-in
 * can be swapped). Every `stream()` and `segment()` sees it at once.
 * @throws {CodecError} `INVALID_OPTIONS` when the codec lacks a format name or `createEncoder`.
 */
export function registerCodec(codec: Codec): void {
  if (!codec || typeof codec.format !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(codec.format)) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `a codec needs a format name of letters, digits, '.', '_' or '-', got ${JSON.stringify(codec?.format)}`,
    );
  }
  if (typeof codec.createEncoder !== 'function') {
    throw new CodecError('INVALID_OPTIONS', `codec "${codec.format}" has no createEncoder()`, {
      format: codec.format,
    });
  }
  codecs.set(codec.format, codec);
}

/** Removes a registered codec; returns whether one was registered under that name. */
export function unregisterCodec(format: string): boolean {
  return codecs.delete(format);
}

/**
 * The codec registered under `format`.
 * @throws {CodecError} `UNKNOWN_FORMAT`, listing the registered formats.
 */
export function getCodec(format: string): Codec {
  const codec = codecs.get(format);
  if (!codec) {
    throw new CodecError(
      'UNKNOWN_FORMAT',
      `unknown format ${JSON.stringify(format)}; registered formats: ${listFormats().join(', ') || '(none)'}`,
      { format },
    );
  }
  return codec;
}

/** True when a codec is registered under `format`. */
export function hasCodec(format: string): boolean {
  return codecs.has(format);
}

/** The registered format names, sorted. */
export function listFormats(): string[] {
  return [...codecs.keys()].sort();
}

/**
 * Decodes a whole file with the codec registered under `format`. `options` carries the shape
 * headerless formats (`pcm`) need.
 * @throws {CodecError} `UNKNOWN_FORMAT`, `INVALID_OPTIONS` (codec cannot decode) or `CORRUPT_INPUT`.
 */
export async function decodeAudio(
  data: Uint8Array,
  format: string,
  options?: DecodeOptions,
): Promise<DecodedAudio> {
  const codec = getCodec(format);
  if (!codec.decode) {
    throw new CodecError('INVALID_OPTIONS', `codec "${format}" cannot decode`, { format });
  }
  return codec.decode(data, options);
}
