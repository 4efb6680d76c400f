import { StoreError } from '@audex/store';
import { CliError } from '../cli-error.js';
import { openStore, type StoreFlags } from '../store-options.js';

/** `audex rm KEY...`: deletes recordings; a missing key is an error unless `--force`. */
export async function rmCommand(keys: string[], flags: StoreFlags & { force?: boolean }): Promise<void> {
  const store = await openStore(flags);
  for (const key of keys) {
    if (!(await store.exists(key))) {
      if (flags.force) continue;
      throw new CliError('NOT_FOUND', `no recording "${key}" in the store; see: audex ls`);
    }
    try {
      await store.delete(key);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'NOT_FOUND' && flags.force) continue;
      throw error;
    }
    process.stderr.write(`removed ${key}\n`);
  }
}
