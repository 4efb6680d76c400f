import { StoreError } from './errors.js';
import { validateKey } from './validate-key.js';

/** Options of {@link KeyBuilder}. */
export interface KeyBuilderOptions {
  /** First segment of every built key. Default `'audex'`. Must not contain the separator. */
  prefix?: string;
  /** Joins the parts. Default `'/'`. Must be non-empty. */
  separator?: string;
}

/**
 * Builds store keys under a fixed prefix: `new KeyBuilder().build('session-1', 'segment', 'abc.wav')`
 * gives `'audex/session-1/segment/abc.wav'`.
 */
export class KeyBuilder {
  /** The first segment of every built key. */
  readonly prefix: string;
  /** The string joining the parts. */
  readonly separator: string;

  /**
   * @param options - prefix (default `'audex'`) and separator (default `'/'`).
   * @throws StoreError `INVALID_OPTIONS` for an empty separator or a prefix containing it.
   */
  constructor(options: KeyBuilderOptions = {}) {
    const { prefix = 'audex', separator = '/' } = options;
    if (typeof separator !== 'string' || separator.length === 0) {
      throw new StoreError('INVALID_OPTIONS', `KeyBuilder separator must be a non-empty string`);
    }
    if (typeof prefix !== 'string' || (prefix.length > 0 && prefix.includes(separator))) {
      throw new StoreError(
        'INVALID_OPTIONS',
        `KeyBuilder prefix ${JSON.stringify(prefix)} must be a string without the separator ${JSON.stringify(separator)}`,
      );
    }
    this.prefix = prefix;
    this.separator = separator;
  }

  /**
   * Joins the prefix and `parts` with the separator (an empty prefix is left out).
   *
   * @throws StoreError `INVALID_KEY` when a part is empty or the result is not a valid store key
   * (see `validateKey`), e.g. a part `'..'`.
   */
  build(...parts: string[]): string {
    for (const part of parts) {
      if (typeof part !== 'string' || part.length === 0) {
        throw new StoreError(
          'INVALID_KEY',
          `KeyBuilder.build parts must be non-empty strings, got ${JSON.stringify(part)}`,
        );
      }
    }
    const all = this.prefix.length > 0 ? [this.prefix, ...parts] : parts;
    const key = all.join(this.separator);
    validateKey(key);
    return key;
  }

  /** True when `key` starts with the prefix followed by the separator (any key when the prefix is empty). */
  validate(key: string): boolean {
    if (typeof key !== 'string') return false;
    if (this.prefix.length === 0) return key.length > 0;
    return (
      key.startsWith(this.prefix + this.separator) && key.length > this.prefix.length + this.separator.length
    );
  }
}
