import type { CapturedChunk } from '@audex/pcm';
import { expectTypeOf, test } from 'vitest';
import type {
  BufferError,
  Cursor,
  FrameBuffer,
  FrameBufferOptions,
  Gap,
  JournalReading,
  readJournals,
} from '../src/index.js';

test('the FrameBuffer contract the recorder codes against', () => {
  expectTypeOf<FrameBuffer['append']>().toEqualTypeOf<(chunk: CapturedChunk) => void>();
  expectTypeOf<FrameBuffer['read']>().toEqualTypeOf<
    (startFrame: number, endFrame: number) => Promise<Uint8Array>
  >();
  expectTypeOf<ReturnType<FrameBuffer['readTimeRange']>>().toEqualTypeOf<
    Promise<{ startFrame: number; endFrame: number; data: Uint8Array }>
  >();
  expectTypeOf<FrameBuffer['startTime']>().toEqualTypeOf<number | null>();
  expectTypeOf<FrameBuffer['gaps']>().toEqualTypeOf<readonly Gap[]>();
  expectTypeOf<ReturnType<FrameBuffer['stream']>>().toMatchTypeOf<AsyncIterable<Uint8Array>>();
  expectTypeOf<FrameBuffer['cursor']>().returns.toEqualTypeOf<Cursor>();
  expectTypeOf<Cursor['read']>().returns.toEqualTypeOf<Promise<Uint8Array | null>>();
  expectTypeOf<FrameBufferOptions['memoryMs']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<typeof readJournals>().returns.toEqualTypeOf<Promise<JournalReading[]>>();
  expectTypeOf<JournalReading['errors']>().toEqualTypeOf<BufferError[]>();
  expectTypeOf<BufferError['code']>().toMatchTypeOf<string>();
});
