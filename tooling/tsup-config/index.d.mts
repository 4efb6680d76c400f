import type { Options } from 'tsup';
/** The shared tsup recipe: ESM + CJS + .d.ts, Node 20 target. */
export declare function createTsupConfig(options?: Partial<Options>): Options | Options[];
