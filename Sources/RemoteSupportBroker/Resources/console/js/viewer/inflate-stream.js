// One zlib stream read on demand: ZRLE keeps a single stream per screen generation (PROTOCOL.md §10.3),
// fed one rectangle at a time. Built on the browser's DecompressionStream("deflate").
//
// The Swift encoder ends every rectangle with a zlib sync flush, so all of a rectangle's pixels can be
// inflated from the bytes written so far. DecompressionStream gives no signal that it has consumed
// its input, and in Node (zlib runs on a thread pool) the output arrives some ticks after `write`
// resolves; in Chrome it is enqueued as the chunk is transformed. So the reader asks for exactly the
// bytes it needs, and a wait that sees no output for `stallMs` means the data ended early (truncated
// or corrupt): an error, never a hang. Output is read only as needed, so a zlib bomb costs no more than
// one chunk of the decompressor's output beyond what the tiles use.

export class InflateStream {
  #writer; #reader; #pendingRead = null; #error = null;

  constructor({ stallMs = 5000 } = {}) {
    const stream = new DecompressionStream('deflate');
    this.#writer = stream.writable.getWriter();
    this.#reader = stream.readable.getReader();
    this.stallMs = stallMs;
    /** Inflated bytes not parsed yet are `buffer[start..<end]`. */
    this.buffer = new Uint8Array(1 << 16);
    this.start = 0;
    this.end = 0;
  }

  get available() { return this.end - this.start; }

  /** Gives the next compressed bytes of the stream (copied: the caller's buffer may change). */
  write(bytes) {
    if (this.#error) throw this.#error;
    this.#writer.write(bytes.slice()).catch((error) => { this.#error ??= corrupt(error); });
  }

  /** Resolves once at least `n` bytes are buffered; rejects when the stream failed or stalled. */
  async need(n) {
    while (this.end - this.start < n) {
      if (this.#error) throw this.#error;
      this.#pendingRead ??= this.#reader.read();
      let timer;
      const stalled = new Promise((resolve) => { timer = setTimeout(resolve, this.stallMs, 'stalled'); });
      let result;
      try {
        result = await Promise.race([this.#pendingRead, stalled]);
      } catch (error) {
        this.#error ??= corrupt(error);
        throw this.#error;
      } finally {
        clearTimeout(timer);
      }
      if (result === 'stalled') {
        this.#error = new Error('ZRLE: the zlib data ended inside a tile (truncated or corrupt update)');
        throw this.#error;
      }
      this.#pendingRead = null;
      if (result.done) {
        this.#error = new Error('ZRLE: the zlib stream ended; a ZRLE stream never ends');
        throw this.#error;
      }
      this.#append(result.value);
    }
  }

  #append(chunk) {
    if (this.start > 0 && (this.start === this.end || this.end + chunk.length > this.buffer.length)) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end + chunk.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.end + chunk.length));
      grown.set(this.buffer.subarray(0, this.end));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Releases the stream (a new generation makes a new one). */
  close() {
    this.#error ??= new Error('ZRLE: the zlib stream was closed');
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
  }
}

function corrupt(error) {
  return new Error(`ZRLE: corrupt zlib data (${error?.message ?? error})`);
}
