/** Passes a stream through unchanged while `observe` sees every chunk (e.g. a hasher). */
export async function* tap(source: AsyncIterable<Uint8Array>, observe: (chunk: Uint8Array) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    observe(chunk);
    yield chunk;
  }
}
