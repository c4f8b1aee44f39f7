#!/usr/bin/env python3
"""Generate the interop test frames: small synthetic desktops, deterministic, no dependencies.

    make_fixtures.py OUTDIR

Writes binary PPM (P6, maxval 255) files, some gzipped (.ppm.gz), named SEQUENCE-NNN.ppm[.gz]:

  stills-000..002   640x480  text page, gradient (gz), photo-like noise: each a whole new frame
  odd-000..002      333x217  a mixed still (text, gradient, noise), then small edits at the right
                             and bottom edges (gz): sizes that are not multiples of 64
  scroll-000..007   640x480  a document scrolling up 19 rows per frame under a fixed title bar,
                             above a fixed status line; new rows come in at the bottom (odd frames gz)
  drag-000..007     640x480  a window dragged by (+53,+21) per frame over a gradient wallpaper with
                             a fixed task bar (even frames gz)

Prints one line per sequence: NAME COUNT WIDTHxHEIGHT.
"""
import gzip
import os
import random
import sys

BG = (250, 250, 246)


def write_ppm(path, width, height, rows, compress):
    data = b"".join(bytes(r) for r in rows)
    assert len(data) == width * height * 3, (path, len(data))
    payload = b"P6\n%d %d\n255\n" % (width, height) + data
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
        path += ".gz"
    with open(path, "wb") as f:
        f.write(payload)


class Font:
    """Random 6x10 glyphs in 8x16 cells: looks like text to an encoder (few colours, sharp edges)."""

    W, H = 8, 16

    def __init__(self, seed):
        rng = random.Random(seed)
        self.glyphs = []
        for _ in range(64):
            bits = [[0] * self.W for _ in range(self.H)]
            for y in range(3, 13):
                for x in range(1, 7):
                    bits[y][x] = 1 if rng.random() < 0.38 else 0
            self.glyphs.append(bits)

    def line(self, text_codes, width, fg_for, bg):
        """Rows (16 of them) of one text line; text_codes is a list of glyph indexes or None for space;
        fg_for(i) gives the colour of character i."""
        rows = []
        bgpx = bytes(bg)
        for y in range(self.H):
            row = bytearray()
            for i, code in enumerate(text_codes):
                if code is None:
                    row += bgpx * self.W
                    continue
                fg = bytes(fg_for(i))
                for b in self.glyphs[code][y]:
                    row += fg if b else bgpx
            row += bgpx * (width - len(row) // 3)
            rows.append(row[: width * 3])
        return rows


def words(rng, columns):
    """Glyph codes for one line of 'words' (None = space), ragged right."""
    codes = []
    limit = rng.randint(columns // 3, columns - 2)
    while len(codes) < limit:
        n = rng.randint(2, 9)
        codes += [rng.randrange(64) for _ in range(n)] + [None]
    return codes[:columns]


PALETTE_FG = [(20, 20, 30), (30, 60, 170), (150, 30, 40), (20, 110, 40)]


def text_rows(font, rng, width, lines, bg=BG):
    rows = []
    columns = width // Font.W
    for _ in range(lines):
        codes = words(rng, columns)
        colour_of_word = {}
        word = 0
        for i, c in enumerate(codes):
            if c is None:
                word += 1
            colour_of_word[i] = PALETTE_FG[0] if rng.random() < 0.8 else PALETTE_FG[1 + word % 3]
        rows += font.line(codes, width, lambda i: colour_of_word[i], bg)
    return rows


def gradient_rows(width, height, x0=0, y0=0, full_w=None, full_h=None):
    full_w = full_w or width
    full_h = full_h or height
    rows = []
    for y in range(height):
        yy = y + y0
        g = yy * 255 // max(1, full_h - 1)
        row = bytearray(width * 3)
        for x in range(width):
            xx = x + x0
            row[3 * x] = xx * 255 // max(1, full_w - 1)
            row[3 * x + 1] = g
            row[3 * x + 2] = (xx + yy) * 255 // max(1, full_w + full_h - 2)
        rows.append(row)
    return rows


def photo_rows(rng, width, height, cell=24):
    """Value noise: a coarse random grid, bilinearly interpolated, plus fine grain."""
    gw, gh = width // cell + 2, height // cell + 2
    grid = [[(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(gw)] for _ in range(gh)]
    grain = rng.randbytes(width * height)
    rows = []
    for y in range(height):
        gy, fy = divmod(y, cell)
        row = bytearray(width * 3)
        for x in range(width):
            gx, fx = divmod(x, cell)
            a, b, c, d = grid[gy][gx], grid[gy][gx + 1], grid[gy + 1][gx], grid[gy + 1][gx + 1]
            n = grain[y * width + x] % 17 - 8
            for k in range(3):
                top = a[k] * (cell - fx) + b[k] * fx
                bottom = c[k] * (cell - fx) + d[k] * fx
                v = (top * (cell - fy) + bottom * fy) // (cell * cell) + n
                row[3 * x + k] = 0 if v < 0 else 255 if v > 255 else v
        rows.append(row)
    return rows


def fill_rows(width, height, colour):
    return [bytearray(bytes(colour) * width) for _ in range(height)]


def paste(dst, src, x, y):
    """Pastes rows `src` into rows `dst` at (x, y), clipped."""
    for j, srow in enumerate(src):
        yy = y + j
        if not 0 <= yy < len(dst):
            continue
        drow = dst[yy]
        w = len(drow) // 3
        sw = len(srow) // 3
        x0, x1 = max(0, x), min(w, x + sw)
        if x0 < x1:
            drow[3 * x0:3 * x1] = srow[3 * (x0 - x):3 * (x1 - x)]


def copy_rows(rows):
    return [bytearray(r) for r in rows]


# ---------------------------------------------------------------- sequences

def stills(out):
    w, h = 640, 480
    font = Font(1)
    rng = random.Random(11)
    text = text_rows(font, rng, w, h // 16)
    write_ppm(f"{out}/stills-000.ppm", w, h, text, False)
    write_ppm(f"{out}/stills-001.ppm", w, h, gradient_rows(w, h), True)
    write_ppm(f"{out}/stills-002.ppm", w, h, photo_rows(random.Random(12), w, h), False)
    return "stills", 3, w, h


def odd(out):
    w, h = 333, 217
    font = Font(2)
    rng = random.Random(21)
    rows = text_rows(font, rng, w, 6)                            # 96 rows of text
    rows += gradient_rows(w, 60, 0, 96, w, h)                    # 60 rows of gradient
    rows += photo_rows(random.Random(22), w, h - len(rows), 16)  # the rest photo-like
    write_ppm(f"{out}/odd-000.ppm", w, h, rows, False)
    # Small edits where the last, partial tiles are: right edge, bottom edge, bottom-right corner.
    edited = copy_rows(rows)
    paste(edited, fill_rows(21, 40, (200, 30, 30)), w - 21, 10)
    paste(edited, fill_rows(50, 9, (30, 30, 200)), 100, h - 9)
    paste(edited, text_rows(font, random.Random(23), 40, 1, (255, 255, 200)), w - 40, h - 16)
    write_ppm(f"{out}/odd-001.ppm", w, h, edited, True)
    edited2 = copy_rows(edited)
    paste(edited2, fill_rows(1, 1, (0, 255, 0)), w - 1, h - 1)     # one pixel, the very last one
    paste(edited2, fill_rows(333, 1, (255, 255, 255)), 0, 64)       # one whole row on a tile edge
    write_ppm(f"{out}/odd-002.ppm", w, h, edited2, False)
    return "odd", 3, w, h


def scroll(out):
    w, h = 640, 480
    frames, step = 8, 19
    title_h, status_h = 24, 18
    view_h = h - title_h - status_h
    font = Font(3)
    rng = random.Random(31)
    # The document: text, a shaded code block, a photo, more text.
    doc = []
    doc += text_rows(font, rng, w, 12)
    code_bg = (236, 240, 248)
    doc += fill_rows(w, 6, code_bg)
    doc += text_rows(font, rng, w, 6, code_bg)
    doc += fill_rows(w, 6, code_bg)
    img = photo_rows(random.Random(32), 300, 120, 20)
    block = fill_rows(w, 130, BG)
    paste(block, img, 170, 5)
    doc += block
    doc += text_rows(font, rng, w, (view_h + frames * step) // 16 + 1)
    title = fill_rows(w, title_h, (60, 64, 72))
    paste(title, font.line([5, 9, 17, None, 33, 2, 40, 12], 80, lambda i: (230, 230, 230), (60, 64, 72)), 8, 4)
    status = fill_rows(w, status_h, (220, 220, 220))
    paste(status, font.line([7, 7, None, 21, 22, 23, None, 60, 61], 90, lambda i: (40, 40, 40), (220, 220, 220)), 4, 1)
    for k in range(frames):
        rows = copy_rows(title) + copy_rows(doc[k * step:k * step + view_h]) + copy_rows(status)
        write_ppm(f"{out}/scroll-{k:03d}.ppm", w, h, rows, k % 2 == 1)
    return "scroll", frames, w, h


def drag(out):
    w, h = 640, 480
    frames, dx, dy = 8, 53, 21
    wallpaper = gradient_rows(w, h)
    taskbar = fill_rows(w, 28, (32, 36, 48))
    paste(taskbar, fill_rows(24, 20, (90, 140, 220)), 4, 4)
    paste(wallpaper, taskbar, 0, h - 28)
    font = Font(4)
    ww, wh = 220, 160
    window = fill_rows(ww, wh, (255, 255, 255))
    paste(window, fill_rows(ww, 22, (40, 90, 180)), 0, 0)
    paste(window, font.line([1, 2, 3, None, 4, 5], 60, lambda i: (255, 255, 255), (40, 90, 180)), 6, 3)
    paste(window, text_rows(font, random.Random(41), ww - 12, 8, (255, 255, 255)), 6, 28)
    for side in (0, ww - 1):
        paste(window, fill_rows(1, wh, (20, 20, 20)), side, 0)
    for edge in (0, wh - 1):
        paste(window, fill_rows(ww, 1, (20, 20, 20)), 0, edge)
    for k in range(frames):
        rows = copy_rows(wallpaper)
        paste(rows, window, 15 + k * dx, 12 + k * dy)
        write_ppm(f"{out}/drag-{k:03d}.ppm", w, h, rows, k % 2 == 0)
    return "drag", frames, w, h


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (stills, odd, scroll, drag):
        name, count, w, h = make(out)
        print(f"{name} {count} {w}x{h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
