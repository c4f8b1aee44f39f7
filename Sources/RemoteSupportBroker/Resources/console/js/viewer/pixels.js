// Pixels of a generation's RFB pixel format (RFC 6143 §7.4) turned into RGBA for a canvas, and the
// RGBA framebuffer itself. RGBA values are handled as one u32 each through a Uint32Array over the
// canvas bytes, so `R | G << 8 | B << 16 | A << 24` assumes a little-endian machine (every browser).

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('the viewer needs a little-endian machine');

const OPAQUE = 0xff000000;

/** The framebuffer of one generation: RGBA bytes for ImageData, black until updated. */
export class Framebuffer {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.rgba = new Uint8ClampedArray(width * height * 4);
    this.pixels = new Uint32Array(this.rgba.buffer);
    this.pixels.fill(OPAQUE);
  }
}

/**
 * Readers for one pixel format: `pixel(buf, p)` reads a whole pixel (`bytesPerPixel` bytes), `cpixel(buf, p)`
 * a ZRLE CPIXEL (`cpixelSize` bytes), both returning the RGBA u32. Channels are scaled to 8 bits as
 * `(v * 255 + max / 2) / max`.
 */
export function pixelReaders(format) {
  const bpp = format.bitsPerPixel / 8;
  const { size: cpixelSize, offset: cpixelOffset } = compactPixel(format);
  const table = (max) => {
    const t = new Uint8Array(max + 1);
    for (let v = 0; v <= max; v++) t[v] = Math.floor((v * 255 + Math.floor(max / 2)) / max);
    return t;
  };
  const rt = table(format.redMax), gt = table(format.greenMax), bt = table(format.blueMax);
  const { redShift: rs, greenShift: gs, blueShift: bs, redMax: rm, greenMax: gm, blueMax: bm } = format;
  const toRGBA = (v) => (rt[(v >>> rs) & rm] | gt[(v >>> gs) & gm] << 8 | bt[(v >>> bs) & bm] << 16 | OPAQUE) >>> 0;

  // The end user's default (BGRX, 0x00RRGGBB little-endian) without tables: the hot path.
  const bgrx = bpp === 4 && !format.bigEndian && rs === 16 && gs === 8 && bs === 0 && rm === 255 && gm === 255 && bm === 255;

  let pixel;
  if (bgrx) pixel = (b, p) => (b[p + 2] | b[p + 1] << 8 | b[p] << 16 | OPAQUE) >>> 0;
  else if (bpp === 4) pixel = format.bigEndian
    ? (b, p) => toRGBA((b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3]) >>> 0)
    : (b, p) => toRGBA((b[p] | b[p + 1] << 8 | b[p + 2] << 16 | b[p + 3] << 24) >>> 0);
  else if (bpp === 2) pixel = format.bigEndian ? (b, p) => toRGBA(b[p] << 8 | b[p + 1]) : (b, p) => toRGBA(b[p] | b[p + 1] << 8);
  else pixel = (b, p) => toRGBA(b[p]);

  let cpixel = pixel;
  if (cpixelSize === 3) {
    // Three bytes taken from `cpixelOffset` of the pixel's four memory bytes; the fourth is zero.
    if (bgrx) cpixel = (b, p) => (b[p + 2] | b[p + 1] << 8 | b[p] << 16 | OPAQUE) >>> 0;
    else if (format.bigEndian) {
      const s = 8 * (1 - cpixelOffset);   // offset 0: bytes 0..2 are the high three; offset 1: the low three
      cpixel = (b, p) => toRGBA(((b[p] << 16 | b[p + 1] << 8 | b[p + 2]) << s) >>> 0);
    } else {
      const s = 8 * cpixelOffset;
      cpixel = (b, p) => toRGBA(((b[p] | b[p + 1] << 8 | b[p + 2] << 16) << s) >>> 0);
    }
  }
  return { bytesPerPixel: bpp, cpixelSize, pixel, cpixel };
}

/**
 * How a pixel is written as a ZRLE CPIXEL (RFC 6143 §7.7.6, as libvncserver, TigerVNC and the Swift
 * encoder do): 32-bit true colour of depth <= 24 whose colour bits fit in three bytes sends those
 * three bytes; otherwise the whole pixel.
 */
export function compactPixel(format) {
  const bpp = format.bitsPerPixel / 8;
  if (format.bitsPerPixel !== 32 || format.depth > 24 || !format.trueColour) return { size: bpp, offset: 0 };
  const channels = [[format.redMax, format.redShift], [format.greenMax, format.greenShift], [format.blueMax, format.blueShift]];
  const fitsLow = channels.every(([max, shift]) => max * 2 ** shift < 2 ** 24);
  const fitsHigh = channels.every(([, shift]) => shift > 7);
  if ((fitsLow && !format.bigEndian) || (fitsHigh && format.bigEndian)) return { size: 3, offset: 0 };
  if ((fitsLow && format.bigEndian) || (fitsHigh && !format.bigEndian)) return { size: 3, offset: 1 };
  return { size: 4, offset: 0 };
}
