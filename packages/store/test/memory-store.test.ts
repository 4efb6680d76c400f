import { MemoryStore } from '@audex/store';
import { testStore } from '@audex/store/testing';

testStore('MemoryStore', () => new MemoryStore());
