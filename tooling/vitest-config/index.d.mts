import type { UserConfig } from 'vitest/config';
/** The shared vitest setup; `overrides` are merged in. */
export declare function createVitestConfig(overrides?: UserConfig): UserConfig;
