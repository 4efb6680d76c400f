import { createTsupConfig } from '@audex/tsup-config';

export default createTsupConfig();
