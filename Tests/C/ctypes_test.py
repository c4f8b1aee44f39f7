#!/usr/bin/env python3
"""libremotesupport from Python ctypes: round trips (threads=2), caller-owned buffers, error codes.

    python3 Tests/C/ctypes_test.py [path/to/libremotesupport.so]

The default library is .build/debug/libremotesupport.so (or $RS_LIBRARY). ctypes cannot see the header's
macros, so the constants and structs are repeated here (and the *_init functions fill the option structs).
The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
"""
import ctypes as C
import os
import random
import sys

RS_OK = 0
RS_ERR_TRUNCATED = -1
RS_ERR_UNSUPPORTED_FORMAT = -10
RS_ERR_MALFORMED = -11
RS_ERR_INVALID_ARGUMENT = -13
RS_ERR_NULL_POINTER = -100
RS_ERR_BUFFER_TOO_SMALL = -101
RS_ERR_MESSAGE_PENDING = -102
RS_FORMAT_BGRX8888, RS_FORMAT_RGBX8888, RS_FORMAT_RGB565, RS_FORMAT_BGR233 = 1, 2, 3, 4
RS_ENCODING_RAW, RS_ENCODING_COPYRECT, RS_ENCODING_ZRLE = 0, 1, 16


class PixelFormat(C.Structure):
    _fields_ = [("bits_per_pixel", C.c_uint8), ("depth", C.c_uint8), ("big_endian", C.c_uint8),
                ("true_colour", C.c_uint8), ("red_max", C.c_uint16), ("green_max", C.c_uint16),
                ("blue_max", C.c_uint16), ("red_shift", C.c_uint8), ("green_shift", C.c_uint8),
                ("blue_shift", C.c_uint8), ("padding", C.c_uint8 * 3)]


class Rect(C.Structure):
    _fields_ = [("x", C.c_uint32), ("y", C.c_uint32), ("width", C.c_uint32), ("height", C.c_uint32)]


class EncoderOptions(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("compression_level", C.c_int32), ("detect_motion", C.c_int32),
                ("threads", C.c_int32)]


class DecoderOptions(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("max_rectangles", C.c_uint32), ("max_rectangle_bytes", C.c_uint64)]


class UpdateStats(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("rectangles", C.c_uint32), ("copy_rectangles", C.c_uint32),
                ("zrle_rectangles", C.c_uint32), ("raw_rectangles", C.c_uint32), ("changed_tiles", C.c_uint32),
                ("encoded_pixels", C.c_uint64), ("uncompressed_bytes", C.c_uint64), ("message_bytes", C.c_uint64),
                ("tiles_raw", C.c_uint64), ("tiles_solid", C.c_uint64), ("tiles_packed_palette", C.c_uint64),
                ("tiles_plain_rle", C.c_uint64), ("tiles_palette_rle", C.c_uint64)]


def load(path):
    lib = C.CDLL(path)
    P, U8P, SZ, I = C.c_void_p, C.POINTER(C.c_uint8), C.c_size_t, C.c_int
    sigs = {
        "rs_version": (C.c_char_p, []),
        "rs_version_number": (C.c_uint32, []),
        "rs_status_name": (C.c_char_p, [I]),
        "rs_last_error": (C.c_char_p, []),
        "rs_pixel_format_preset": (I, [I, C.POINTER(PixelFormat)]),
        "rs_encoder_options_init": (I, [C.POINTER(EncoderOptions)]),
        "rs_decoder_options_init": (I, [C.POINTER(DecoderOptions)]),
        "rs_update_stats_init": (I, [C.POINTER(UpdateStats)]),
        "rs_encoder_new": (I, [C.c_uint32, C.c_uint32, C.POINTER(PixelFormat), C.POINTER(PixelFormat),
                               C.POINTER(EncoderOptions), C.POINTER(P)]),
        "rs_encoder_set_encodings": (I, [P, C.POINTER(C.c_int32), SZ]),
        "rs_encoder_encode": (I, [P, C.c_char_p, SZ, SZ, I, C.POINTER(Rect), C.POINTER(U8P), C.POINTER(SZ)]),
        "rs_encoder_encode_into": (I, [P, C.c_char_p, SZ, SZ, I, C.POINTER(Rect), U8P, SZ, C.POINTER(SZ)]),
        "rs_encoder_copy_message": (I, [P, U8P, SZ, C.POINTER(SZ)]),
        "rs_encoder_stats": (I, [P, C.POINTER(UpdateStats)]),
        "rs_encoder_errmsg": (C.c_char_p, [P]),
        "rs_encoder_free": (None, [P]),
        "rs_decoder_new": (I, [C.c_uint32, C.c_uint32, C.POINTER(PixelFormat), C.POINTER(DecoderOptions),
                               C.POINTER(P)]),
        "rs_decoder_apply": (I, [P, C.c_char_p, SZ, C.POINTER(SZ)]),
        "rs_decoder_pixels": (I, [P, C.POINTER(U8P), C.POINTER(SZ)]),
        "rs_decoder_copy_pixels": (I, [P, U8P, SZ, SZ]),
        "rs_decoder_errmsg": (C.c_char_p, [P]),
        "rs_decoder_free": (None, [P]),
    }
    for name, (restype, argtypes) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
    return lib


passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def desktop(w, h, seed):
    """BGRX frame: text-like left third, gradient middle, noise right."""
    rng = random.Random(seed)
    out = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            i = (y * w + x) * 4
            band = x * 3 // w
            if band == 0:
                ink = (y % 12) < 9 and (x * 7 + y * 3 + seed) % 11 < 3
                b, g, r = (40, 20, 20) if ink else (240, 245, 245)
            elif band == 1:
                b, g, r = 128, (y * 3) & 255, (x * 2) & 255
            else:
                b, g, r = rng.randrange(256), rng.randrange(256), rng.randrange(256)
            out[i:i + 4] = bytes((b, g, r, 0))
    return bytes(out)


def scrolled(frame, w, h, lines, fresh):
    row = w * 4
    return frame[lines * row:] + fresh[(h - lines) * row:]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RS_LIBRARY", ".build/debug/libremotesupport.so")
    lib = load(path)
    name = lambda s: lib.rs_status_name(s).decode()

    check(lib.rs_version().decode().count(".") == 2, "rs_version")
    check(lib.rs_version_number() >= 1000, "rs_version_number")
    check(name(RS_ERR_BUFFER_TOO_SMALL) == "RS_ERR_BUFFER_TOO_SMALL", "rs_status_name")

    fmt = PixelFormat()
    check(lib.rs_pixel_format_preset(RS_FORMAT_BGRX8888, C.byref(fmt)) == RS_OK, "preset")
    opts = EncoderOptions()
    check(lib.rs_encoder_options_init(C.byref(opts)) == RS_OK and opts.struct_size == C.sizeof(EncoderOptions),
          "rs_encoder_options_init")
    opts.threads = 2
    w, h = 320, 200
    enc, dec = C.c_void_p(), C.c_void_p()
    check(lib.rs_encoder_new(w, h, C.byref(fmt), C.byref(fmt), C.byref(opts), C.byref(enc)) == RS_OK,
          f"rs_encoder_new: {lib.rs_last_error()}")
    check(lib.rs_decoder_new(w, h, C.byref(fmt), None, C.byref(dec)) == RS_OK, "rs_decoder_new")
    encodings = (C.c_int32 * 2)(RS_ENCODING_ZRLE, RS_ENCODING_COPYRECT)
    check(lib.rs_encoder_set_encodings(enc, encodings, 2) == RS_OK, "set_encodings")

    def encode(frame, incremental):
        msg, length = C.POINTER(C.c_uint8)(), C.c_size_t()
        s = lib.rs_encoder_encode(enc, frame, len(frame), w * 4, incremental, None, C.byref(msg), C.byref(length))
        check(s == RS_OK, f"encode: {name(s)}: {lib.rs_encoder_errmsg(enc)}")
        return C.string_at(msg, length.value) if s == RS_OK else b""

    def apply(message):
        n = C.c_size_t()
        s = lib.rs_decoder_apply(dec, message, len(message), C.byref(n))
        check(s == RS_OK, f"apply: {name(s)}: {lib.rs_decoder_errmsg(dec)}")

    def pixels():
        p, stride = C.POINTER(C.c_uint8)(), C.c_size_t()
        check(lib.rs_decoder_pixels(dec, C.byref(p), C.byref(stride)) == RS_OK, "rs_decoder_pixels")
        return C.string_at(p, stride.value * h)

    def stats():
        s = UpdateStats()
        lib.rs_update_stats_init(C.byref(s))
        check(lib.rs_encoder_stats(enc, C.byref(s)) == RS_OK, "rs_encoder_stats")
        return s

    a = desktop(w, h, 1)
    apply(encode(a, 1))
    check(pixels() == a, "full update round trip (threads=2)")
    check(encode(a, 1) == b"\0\0\0\0", "no change: empty update")
    b = scrolled(a, w, h, 16, desktop(w, h, 2))
    apply(encode(b, 1))
    check(stats().copy_rectangles >= 1, "scroll sends CopyRect")
    check(pixels() == b, "scroll round trip")

    # Caller-owned buffer: size query, pending, copy.
    c = bytearray(b)
    c[0:400] = bytes(400)
    c = bytes(c)
    needed = C.c_size_t()
    s = lib.rs_encoder_encode_into(enc, c, len(c), w * 4, 1, None, None, 0, C.byref(needed))
    check(s == RS_ERR_BUFFER_TOO_SMALL and needed.value > 4, f"size query: {name(s)} {needed.value}")
    ignored = C.c_size_t()
    s = lib.rs_encoder_encode_into(enc, c, len(c), w * 4, 1, None, None, 0, C.byref(ignored))
    check(s == RS_ERR_MESSAGE_PENDING, f"pending: {name(s)}")
    buf = (C.c_uint8 * needed.value)()
    length = C.c_size_t()
    check(lib.rs_encoder_copy_message(enc, buf, needed.value, C.byref(length)) == RS_OK, "copy_message")
    apply(bytes(buf)[:length.value])
    check(pixels() == c, "caller-owned round trip")
    out = (C.c_uint8 * (w * h * 4))()
    check(lib.rs_decoder_copy_pixels(dec, out, len(out), w * 4) == RS_OK and bytes(out) == c, "copy_pixels")

    # Errors.
    check(lib.rs_decoder_apply(dec, b"\x05\0\0\0", 4, None) == RS_ERR_MALFORMED, "malformed message")
    check(len(lib.rs_decoder_errmsg(dec)) > 0, "decoder errmsg")
    check(lib.rs_decoder_apply(dec, b"\0\0\0\x01\0", 5, None) == RS_ERR_TRUNCATED, "truncated message")
    check(lib.rs_encoder_encode(enc, a, len(a), w * 4 - 1, 0, None, C.byref(C.POINTER(C.c_uint8)()),
                                C.byref(C.c_size_t())) == RS_ERR_INVALID_ARGUMENT, "stride too small")
    check(b"stride" in lib.rs_encoder_errmsg(enc), "encoder errmsg mentions the stride")
    check(lib.rs_encoder_encode(None, a, len(a), w * 4, 0, None, None, None) == RS_ERR_NULL_POINTER, "NULL encoder")
    check(len(lib.rs_last_error()) > 0, "rs_last_error after a NULL handle")
    bad = PixelFormat.from_buffer_copy(fmt)
    bad.bits_per_pixel = 24
    other = C.c_void_p()
    check(lib.rs_decoder_new(8, 8, C.byref(bad), None, C.byref(other)) == RS_ERR_UNSUPPORTED_FORMAT, "bad format")
    check(other.value is None, "out_decoder untouched")
    check(lib.rs_pixel_format_preset(9, C.byref(bad)) == RS_ERR_INVALID_ARGUMENT, "bad preset")

    lib.rs_encoder_free(enc)
    lib.rs_decoder_free(dec)
    lib.rs_encoder_free(None)
    lib.rs_decoder_free(None)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
