// RFB FramebufferUpdate messages (RFC 6143 §7.6.1) applied to one generation's RGBA framebuffer:
// Raw (0), CopyRect (1) and ZRLE (16) rectangles (PROTOCOL.md §10.3).

import { InflateStream } from './inflate-stream.js';
import { Framebuffer, pixelReaders } from './pixels.js';
import { decodeZRLE } from './zrle.js';

export const Encoding = Object.freeze({ raw: 0, copyRect: 1, zrle: 16 });
export const MAXIMUM_DIMENSION = 16384;

/**
 * One screen generation: its framebuffer and its ZRLE zlib stream. A message is checked whole
 * (headers, bounds, encodings, lengths) before any pixel changes; an error inside ZRLE data is found
 * while decoding, and the stream is then broken for good (the session must end). Updates must be
 * applied one at a time, in order (await each `apply`).
 */
export class UpdateDecoder {
  /** `pixelFormat` as `parsePixelFormat` returns it; `stallMs`: see InflateStream. */
  constructor(width, height, pixelFormat, { stallMs, maximumRectangles = 65535, maximumCompressedRectangleBytes = 64 << 20 } = {}) {
    if (!(width >= 1 && width <= MAXIMUM_DIMENSION && height >= 1 && height <= MAXIMUM_DIMENSION)) {
      throw new Error(`screen size ${width}x${height} is outside 1...${MAXIMUM_DIMENSION}`);
    }
    this.width = width;
    this.height = height;
    this.format = pixelFormat;
    this.framebuffer = new Framebuffer(width, height);
    this.readers = pixelReaders(pixelFormat);
    this.stream = new InflateStream({ stallMs });
    this.maximumRectangles = maximumRectangles;
    this.maximumCompressedRectangleBytes = maximumCompressedRectangleBytes;
    this.failed = null;
  }

  /**
   * Applies one FramebufferUpdate message (Uint8Array). Resolves to the changed rectangles
   * `[{x, y, width, height}]` (in framebuffer coordinates, for putImageData); rejects on malformed input.
   */
  async apply(message) {
    if (this.failed) throw this.failed;
    try {
      const rectangles = this.parse(message);
      const fb = this.framebuffer;
      for (const r of rectangles) {
        if (r.encoding === Encoding.raw) this.#raw(message, r);
        else if (r.encoding === Encoding.copyRect) copyRect(fb.pixels, fb.width, r, r.sourceX, r.sourceY);
        else await decodeZRLE(message.subarray(r.start, r.end), r, fb, this.stream, this.readers);
      }
      return rectangles.filter((r) => r.width > 0 && r.height > 0)
        .map(({ x, y, width, height }) => ({ x, y, width, height }));
    } catch (error) {
      this.failed = error;
      throw error;
    }
  }

  /** Checks a message's structure and returns its rectangles with their payload ranges. */
  parse(m) {
    const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const need = (p, n, what) => { if (m.length - p < n) throw new Error(`the update ends inside ${what}`); };
    need(0, 4, 'its header');
    if (m[0] !== 0) throw new Error(`message type ${m[0]} is not FramebufferUpdate (0)`);
    const count = view.getUint16(2);
    if (count > this.maximumRectangles) throw new Error(`${count} rectangles, more than the limit of ${this.maximumRectangles}`);
    const bpp = this.readers.bytesPerPixel;
    const result = [];
    let p = 4;
    for (let i = 0; i < count; i++) {
      need(p, 12, `the header of rectangle ${i}`);
      const x = view.getUint16(p), y = view.getUint16(p + 2), width = view.getUint16(p + 4), height = view.getUint16(p + 6);
      const encoding = view.getInt32(p + 8);
      p += 12;
      if (x + width > this.width || y + height > this.height) {
        throw new Error(`rectangle ${i} ${width}x${height}+${x}+${y} is outside the ${this.width}x${this.height} framebuffer`);
      }
      const r = { x, y, width, height, encoding, start: p, end: p };
      if (encoding === Encoding.raw) {
        const size = width * height * bpp;
        need(p, size, `the pixels of raw rectangle ${i}`);
        p += size;
      } else if (encoding === Encoding.copyRect) {
        need(p, 4, `the source of CopyRect ${i}`);
        r.sourceX = view.getUint16(p);
        r.sourceY = view.getUint16(p + 2);
        p += 4;
        if (r.sourceX + width > this.width || r.sourceY + height > this.height) {
          throw new Error(`CopyRect ${i} source ${width}x${height}+${r.sourceX}+${r.sourceY} is outside the framebuffer`);
        }
      } else if (encoding === Encoding.zrle) {
        need(p, 4, `the length of ZRLE rectangle ${i}`);
        const length = view.getUint32(p);
        p += 4;
        if (length > this.maximumCompressedRectangleBytes) {
          throw new Error(`ZRLE rectangle ${i} claims ${length} bytes, over the limit of ${this.maximumCompressedRectangleBytes}`);
        }
        need(p, length, `the data of ZRLE rectangle ${i}`);
        r.start = p;
        p += length;
      } else {
        throw new Error(`rectangle ${i} uses encoding ${encoding}, not Raw, CopyRect or ZRLE`);
      }
      r.end = p;
      // An empty ZRLE rectangle still carries zlib bytes (the stream's header, a flush): keep it.
      if ((width === 0 || height === 0) && encoding !== Encoding.zrle) continue;
      result.push(r);
    }
    if (p !== m.length) throw new Error(`${m.length - p} bytes after the last rectangle`);
    return result;
  }

  #raw(m, r) {
    const { pixels, width: stride } = this.framebuffer;
    const { pixel, bytesPerPixel } = this.readers;
    let p = r.start;
    for (let row = 0; row < r.height; row++) {
      let o = (r.y + row) * stride + r.x;
      for (let x = 0; x < r.width; x++, p += bytesPerPixel) pixels[o++] = pixel(m, p);
    }
  }

  /** Releases the zlib stream (the generation is over). */
  close() { this.stream.close(); }
}

/**
 * CopyRect (RFC 6143 §7.7.2) as if through a temporary buffer: rows bottom-up when the source lies
 * above, and copyWithin (memmove) within a row, so overlapping source and destination work.
 */
export function copyRect(pixels, stride, d, sourceX, sourceY) {
  const rows = sourceY < d.y ? [d.height - 1, -1, -1] : [0, d.height, 1];
  for (let r = rows[0]; r !== rows[1]; r += rows[2]) {
    const from = (sourceY + r) * stride + sourceX;
    pixels.copyWithin((d.y + r) * stride + d.x, from, from + d.width);
  }
}
