// ZRLE rectangles (RFC 6143 §7.7.6): 64x64 tiles in one zlib stream, subencodings raw (0), solid (1),
// packed palette (2-16), plain RLE (128) and palette RLE (130-255). Every count from the wire is checked
// against the tile before it is used (palette indices, run lengths).

const TILE = 64;
const NEED_MORE = -1;

/**
 * Decodes one rectangle's zlib data (the bytes after its 4-byte length) into `fb` (a Framebuffer);
 * `rect` is already checked against the framebuffer. `stream` is the generation's InflateStream,
 * `readers` the pixel format's `pixelReaders`. Rejects with an Error on malformed data.
 */
export async function decodeZRLE(data, rect, fb, stream, readers) {
  stream.write(data);
  const palette = new Uint32Array(128);
  for (let ty = rect.y; ty < rect.y + rect.height; ty += TILE) {
    const th = Math.min(TILE, rect.y + rect.height - ty);
    for (let tx = rect.x; tx < rect.x + rect.width; tx += TILE) {
      const tw = Math.min(TILE, rect.x + rect.width - tx);
      // A tile is decoded from the bytes buffered so far; when they run out it is decoded again from
      // its start once more output is in (the pixels it wrote are simply written again).
      for (;;) {
        const next = decodeTile(stream.buffer, stream.start, stream.end, tx, ty, tw, th, fb, readers, palette);
        if (next !== NEED_MORE) { stream.start = next; break; }
        await stream.need(stream.available + 1);
      }
    }
  }
  // The Swift decoder's rule: the rectangle's data holds exactly its tiles. Output still on its way
  // from the decompressor shows up at the next rectangle (its tiles would not parse).
  if (stream.available > 0) throw new Error(`ZRLE: ${stream.available} inflated bytes left over after the rectangle's tiles`);
}

/** Decodes one tile from `b[p..<end]`; returns the position after it, or NEED_MORE. */
function decodeTile(b, p, end, tx, ty, tw, th, fb, readers, palette) {
  const out = fb.pixels, stride = fb.width;
  const n = tw * th;
  const cs = readers.cpixelSize, cpixel = readers.cpixel;
  if (p >= end) return NEED_MORE;
  const sub = b[p++];
  let o = ty * stride + tx;
  if (sub === 0) {                                   // raw CPIXELs
    if (end - p < n * cs) return NEED_MORE;
    for (let row = 0; row < th; row++, o += stride) {
      for (let x = 0; x < tw; x++, p += cs) out[o + x] = cpixel(b, p);
    }
    return p;
  }
  if (sub === 1) {                                   // solid
    if (end - p < cs) return NEED_MORE;
    const colour = cpixel(b, p);
    for (let row = 0; row < th; row++, o += stride) out.fill(colour, o, o + tw);
    return p + cs;
  }
  if (sub <= 16) {                                   // packed palette
    if (end - p < sub * cs) return NEED_MORE;
    for (let i = 0; i < sub; i++, p += cs) palette[i] = cpixel(b, p);
    const bits = sub === 2 ? 1 : sub <= 4 ? 2 : 4;
    const rowBytes = (tw * bits + 7) >> 3;
    if (end - p < rowBytes * th) return NEED_MORE;
    const mask = (1 << bits) - 1;
    for (let row = 0; row < th; row++, o += stride, p += rowBytes) {
      for (let x = 0; x < tw; x++) {
        const bit = x * bits;
        const index = (b[p + (bit >> 3)] >> (8 - bits - (bit & 7))) & mask;
        if (index >= sub) throw new Error(`ZRLE: packed palette index ${index} of a ${sub}-colour palette`);
        out[o + x] = palette[index];
      }
    }
    return p;
  }
  if (sub === 128 || sub >= 130) {                   // plain RLE, palette RLE
    const size = sub - 128;
    if (size > 0) {
      if (end - p < size * cs) return NEED_MORE;
      for (let i = 0; i < size; i++, p += cs) palette[i] = cpixel(b, p);
    }
    let filled = 0, x = 0, row = 0;
    while (filled < n) {
      let colour, runs;
      if (size === 0) {
        if (end - p < cs) return NEED_MORE;
        colour = cpixel(b, p);
        p += cs;
        runs = true;
      } else {
        if (p >= end) return NEED_MORE;
        const v = b[p++];
        const index = v & 127;
        if (index >= size) throw new Error(`ZRLE: palette RLE index ${index} of a ${size}-colour palette`);
        colour = palette[index];
        runs = (v & 128) !== 0;
      }
      let length = 1;
      if (runs) {
        // A run length: bytes of 255, then one below 255, plus one; at most the rest of the tile.
        for (;;) {
          if (p >= end) return NEED_MORE;
          const v = b[p++];
          length += v;
          if (filled + length > n) throw new Error(`ZRLE: a run of ${length}+ pixels passes the tile's end`);
          if (v !== 255) break;
        }
      }
      // Fill `length` pixels left to right, top to bottom.
      filled += length;
      while (length > 0) {
        const k = Math.min(length, tw - x);
        const at = (ty + row) * stride + tx + x;
        if (k === 1) out[at] = colour; else out.fill(colour, at, at + k);
        length -= k;
        x += k;
        if (x === tw) { x = 0; row++; }
      }
    }
    return p;
  }
  throw new Error(`ZRLE: subencoding ${sub} is not defined`);
}
