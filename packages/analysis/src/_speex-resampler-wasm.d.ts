// Types for @echogarden/speex-resampler-wasm, which ships none: an Emscripten module factory
// (the module's shape is declared where it is used, in _mono-16k.ts).
declare module '@echogarden/speex-resampler-wasm/simd' {
  const factory: (options?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
