#!/usr/bin/env python3
"""Compare a captured PPM with a source PPM.

    compare_ppm.py CAPTURED.ppm SOURCE.ppm[.gz] [--bits R,G,B]

Both files are binary PPM (P6); either may be gzip-compressed (detected by the
magic bytes 1f 8b, not the file name). With --bits, the SOURCE channels (8-bit)
are first reduced to R,G,B bits the way our codec and LibVNCServer do it:
    reduced = (value * max + 127) // 255,   max = 2**bits - 1
and compared with the captured values as they are (vnc-capture writes raw
channel values, e.g. 0..31/0..63/0..31 for RGB565: --bits 5,6,5; BGR233: --bits 3,3,2).

Prints "identical" or the first differing pixel and the number of differing
pixels; exit 0 if identical, 1 if any pixel differs, 2 on a usage/format error.
"""
import argparse
import gzip
import sys


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:2] != b"P6":
        raise ValueError(f"{path}: not a binary PPM (P6)")
    # header: P6 <ws> width <ws> height <ws> maxval <one ws> pixels; '#' comments allowed
    pos = 2
    fields = []
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace() and data[pos:pos + 1] != b"#":
            pos += 1
        if start == pos:
            raise ValueError(f"{path}: truncated PPM header")
        fields.append(int(data[start:pos]))
    pos += 1  # the single whitespace after maxval
    width, height, maxval = fields
    if maxval > 255:
        raise ValueError(f"{path}: maxval {maxval} > 255 not supported")
    pixels = data[pos:pos + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError(f"{path}: truncated pixel data")
    return width, height, maxval, pixels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("captured")
    ap.add_argument("source")
    ap.add_argument("--bits", help="reduce SOURCE channels to R,G,B bits, e.g. 5,6,5")
    args = ap.parse_args()

    try:
        wa, ha, _, pa = read_ppm(args.captured)
        wb, hb, maxb, pb = read_ppm(args.source)
    except (OSError, ValueError) as e:
        print(f"compare_ppm: {e}", file=sys.stderr)
        return 2
    if (wa, ha) != (wb, hb):
        print(f"size differs: {args.captured} is {wa}x{ha}, {args.source} is {wb}x{hb}")
        return 1

    if args.bits:
        try:
            bits = [int(x) for x in args.bits.split(",")]
            if len(bits) != 3 or not all(1 <= b <= 8 for b in bits):
                raise ValueError
        except ValueError:
            print("compare_ppm: --bits wants R,G,B with 1..8 each", file=sys.stderr)
            return 2
        if maxb != 255:
            print("compare_ppm: --bits needs an 8-bit (maxval 255) source", file=sys.stderr)
            return 2
        tables = []
        for b in bits:
            m = (1 << b) - 1
            tables.append(bytes((v * m + 127) // 255 for v in range(256)))
        # reduce each channel plane with its own table
        red = pb[0::3].translate(tables[0])
        green = pb[1::3].translate(tables[1])
        blue = pb[2::3].translate(tables[2])
        buf = bytearray(len(pb))
        buf[0::3] = red
        buf[1::3] = green
        buf[2::3] = blue
        pb = bytes(buf)

    if pa == pb:
        print(f"identical ({wa}x{ha})")
        return 0

    # count differing pixels without a Python loop over every pixel: compare rows,
    # then pixels only inside differing rows
    row = wa * 3
    ndiff = 0
    first = None
    for y in range(ha):
        ra = pa[y * row:(y + 1) * row]
        rb = pb[y * row:(y + 1) * row]
        if ra == rb:
            continue
        for x in range(wa):
            a = ra[3 * x:3 * x + 3]
            b = rb[3 * x:3 * x + 3]
            if a != b:
                ndiff += 1
                if first is None:
                    first = (x, y, tuple(a), tuple(b))
    x, y, a, b = first
    print(f"first difference at x={x} y={y}: captured {a} source{' (reduced)' if args.bits else ''} {b}")
    print(f"{ndiff} of {wa * ha} pixels differ")
    return 1


if __name__ == "__main__":
    sys.exit(main())
