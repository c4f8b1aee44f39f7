/*
 * codec_test.c - the C API from a real C program, against libremotesupport.so and remotesupport.h.
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -IInclude Tests/C/codec_test.c -L.build/debug -lremotesupport \
 *       -Wl,-rpath,$PWD/.build/debug -o codec_test && ./codec_test
 *
 * Makes its own frames (text-like, gradient, noise), runs full, incremental and scrolled updates through
 * an encoder and a decoder for 32-, 16- and 8-bit clients, checks the decoded pixels and the error codes.
 * The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
 */
#include "remotesupport.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static_assert(sizeof(rs_pixel_format) == 16, "rs_pixel_format is RFB's 16-byte PIXEL_FORMAT");
static_assert(sizeof(rs_rect) == 16, "rs_rect");
static_assert(sizeof(rs_encoder_options) == 16, "rs_encoder_options");
static_assert(sizeof(rs_decoder_options) == 16, "rs_decoder_options");
static_assert(sizeof(rs_update_stats) == 88, "rs_update_stats");

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* A status check that prints the status name and the handle's message. */
#define CHECK_STATUS(call, expected, errmsg)                                                      \
    do {                                                                                         \
        int status_ = (call);                                                                    \
        CHECK(status_ == (expected), "got %s, expected %s (%s)", rs_status_name(status_),       \
              rs_status_name(expected), (errmsg));                                               \
    } while (0)

/* ---- Frames: BGRX8888 (bytes B, G, R, 0), rows packed ---------------------------------------------- */

typedef struct frame {
    uint32_t width, height;
    size_t stride;
    uint8_t *pixels;
} frame;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint8_t rng_byte(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint8_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 56);
}

static frame frame_new(uint32_t w, uint32_t h) {
    frame f = {w, h, (size_t)w * 4, NULL};
    f.pixels = calloc(f.stride * h, 1);
    if (!f.pixels) abort();
    return f;
}

static frame frame_copy(const frame *src) {
    frame f = frame_new(src->width, src->height);
    memcpy(f.pixels, src->pixels, f.stride * f.height);
    return f;
}

static void frame_free(frame *f) {
    free(f->pixels);
    f->pixels = NULL;
}

static void put(frame *f, uint32_t x, uint32_t y, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t *p = f->pixels + y * f->stride + x * 4;
    p[0] = b;
    p[1] = g;
    p[2] = r;
    p[3] = 0;
}

/* Left third "text" (dark strokes on light), middle a gradient, right third noise. */
static frame make_desktop(uint32_t w, uint32_t h, unsigned seed) {
    frame f = frame_new(w, h);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            switch (x * 3 / w) {
            case 0: {
                int ink = (y % 12) < 9 && ((x * 7 + y * 3 + seed) % 11) < 3;
                if (ink) put(&f, x, y, 20, 20, 40);
                else put(&f, x, y, 245, 245, 240);
                break;
            }
            case 1: put(&f, x, y, (uint8_t)(x * 2), (uint8_t)(y * 3), (uint8_t)(128 + seed)); break;
            default: put(&f, x, y, rng_byte(), rng_byte(), rng_byte()); break;
            }
        }
    }
    return f;
}

/* src scrolled up by lines rows, the exposed rows from fresh. */
static frame make_scrolled(const frame *src, uint32_t lines, const frame *fresh) {
    frame f = frame_new(src->width, src->height);
    for (uint32_t y = 0; y < src->height; y++) {
        const frame *from = y + lines < src->height ? src : fresh;
        uint32_t sy = y + lines < src->height ? y + lines : y;
        memcpy(f.pixels + y * f.stride, from->pixels + sy * from->stride, f.stride);
    }
    return f;
}

/* What a little-endian true-colour client of format fmt should hold: channels scaled as the encoder
 * scales them, (c * max + 127) / 255. */
static uint8_t *expected_pixels(const frame *src, const rs_pixel_format *fmt) {
    size_t bpp = fmt->bits_per_pixel / 8u;
    uint8_t *out = calloc((size_t)src->width * src->height, bpp);
    if (!out) abort();
    for (uint32_t y = 0; y < src->height; y++) {
        for (uint32_t x = 0; x < src->width; x++) {
            const uint8_t *p = src->pixels + y * src->stride + x * 4;
            uint32_t r = (p[2] * (uint32_t)fmt->red_max + 127) / 255;
            uint32_t g = (p[1] * (uint32_t)fmt->green_max + 127) / 255;
            uint32_t b = (p[0] * (uint32_t)fmt->blue_max + 127) / 255;
            uint32_t v = r << fmt->red_shift | g << fmt->green_shift | b << fmt->blue_shift;
            for (size_t k = 0; k < bpp; k++) out[((size_t)y * src->width + x) * bpp + k] = (uint8_t)(v >> (8 * k));
        }
    }
    return out;
}

/* ---- Helpers around the API ------------------------------------------------------------------------ */

static rs_pixel_format preset(int p) {
    rs_pixel_format f;
    memset(&f, 0, sizeof f);
    if (rs_pixel_format_preset(p, &f) != RS_OK) abort();
    return f;
}

/* Encodes into the library-owned buffer and applies the message; returns the message size (0 on error). */
static size_t roundtrip(rs_encoder *enc, rs_decoder *dec, const frame *f, int incremental) {
    const uint8_t *message = NULL;
    size_t length = 0;
    int status = rs_encoder_encode(enc, f->pixels, f->stride * f->height, f->stride, incremental, NULL, &message, &length);
    CHECK(status == RS_OK, "encode: %s: %s", rs_status_name(status), rs_encoder_errmsg(enc));
    if (status != RS_OK) return 0;
    size_t rectangles = 0;
    status = rs_decoder_apply(dec, message, length, &rectangles);
    CHECK(status == RS_OK, "apply: %s: %s", rs_status_name(status), rs_decoder_errmsg(dec));
    return status == RS_OK ? length : 0;
}

static int pixels_equal(rs_decoder *dec, const frame *src, const rs_pixel_format *fmt) {
    const uint8_t *pixels = NULL;
    size_t stride = 0;
    if (rs_decoder_pixels(dec, &pixels, &stride) != RS_OK) return 0;
    uint8_t *want = expected_pixels(src, fmt);
    int same = stride == (size_t)src->width * (fmt->bits_per_pixel / 8u) && memcmp(pixels, want, stride * src->height) == 0;
    free(want);
    return same;
}

static rs_update_stats stats_of(rs_encoder *enc) {
    rs_update_stats s = RS_UPDATE_STATS_INIT;
    if (rs_encoder_stats(enc, &s) != RS_OK) abort();
    return s;
}

/* ---- Tests ----------------------------------------------------------------------------------------- */

static void test_version(void) {
    CHECK(strcmp(rs_version(), RS_VERSION_STRING) == 0, "rs_version() = %s", rs_version());
    CHECK(rs_version_number() == RS_VERSION_NUMBER, "rs_version_number() = %u", (unsigned)rs_version_number());
    CHECK(RS_VERSION_NUMBER == RS_VERSION_MAJOR * 1000000 + RS_VERSION_MINOR * 1000 + RS_VERSION_PATCH, "formula");
    CHECK(strcmp(rs_status_name(RS_OK), "RS_OK") == 0, "%s", rs_status_name(RS_OK));
    CHECK(strcmp(rs_status_name(RS_ERR_BUFFER_TOO_SMALL), "RS_ERR_BUFFER_TOO_SMALL") == 0, "name");
    CHECK(strcmp(rs_status_name(-12345), "RS_ERR_UNKNOWN") == 0, "unknown status");
}

/* Full, unchanged, small change, scroll and full again, for one client format and thread count. */
static void test_session(int client_preset, int threads) {
    const uint32_t w = 320, h = 240;
    rs_pixel_format source = preset(RS_FORMAT_BGRX8888), client = preset(client_preset);
    rs_encoder_options options = RS_ENCODER_OPTIONS_INIT;
    options.threads = threads;
    rs_encoder *enc = NULL;
    rs_decoder *dec = NULL;
    CHECK_STATUS(rs_encoder_new(w, h, &source, &client, &options, &enc), RS_OK, rs_last_error());
    CHECK_STATUS(rs_decoder_new(w, h, &client, NULL, &dec), RS_OK, rs_last_error());
    if (!enc || !dec) {
        rs_encoder_free(enc);
        rs_decoder_free(dec);
        return;
    }
    const int32_t encodings[] = {RS_ENCODING_ZRLE, RS_ENCODING_COPYRECT, RS_ENCODING_RAW};
    CHECK_STATUS(rs_encoder_set_encodings(enc, encodings, 3), RS_OK, rs_encoder_errmsg(enc));

    frame a = make_desktop(w, h, 1);
    size_t first = roundtrip(enc, dec, &a, 1);
    CHECK(first > 4, "first update %zu bytes", first);
    CHECK(pixels_equal(dec, &a, &client), "full update, preset %d, threads %d", client_preset, threads);
    rs_update_stats s = stats_of(enc);
    CHECK(s.zrle_rectangles > 0 && s.encoded_pixels == (uint64_t)w * h && s.message_bytes == first,
          "stats %u zrle, %llu pixels", s.zrle_rectangles, (unsigned long long)s.encoded_pixels);
    CHECK(s.tiles_solid + s.tiles_raw + s.tiles_packed_palette + s.tiles_plain_rle + s.tiles_palette_rle > 0, "tiles");

    CHECK(roundtrip(enc, dec, &a, 1) == 4, "no change: an empty 4-byte update");
    CHECK(stats_of(enc).rectangles == 0, "no rectangle");

    frame b = frame_copy(&a);
    for (uint32_t y = 100; y < 104; y++)
        for (uint32_t x = 30; x < 36; x++) put(&b, x, y, 255, 0, 0);
    CHECK(roundtrip(enc, dec, &b, 1) > 4, "small change");
    CHECK(stats_of(enc).encoded_pixels == 24, "trimmed to 6x4, got %llu", (unsigned long long)stats_of(enc).encoded_pixels);
    rs_rect r;
    int32_t encoding = -1;
    CHECK_STATUS(rs_decoder_rectangle(dec, 0, &r, &encoding), RS_OK, rs_decoder_errmsg(dec));
    CHECK(r.x == 30 && r.y == 100 && r.width == 6 && r.height == 4 && encoding == RS_ENCODING_ZRLE, "rectangle %ux%u+%u+%u",
          r.width, r.height, r.x, r.y);
    CHECK(pixels_equal(dec, &b, &client), "incremental update, preset %d", client_preset);

    frame fresh = make_desktop(w, h, 2);
    frame c = make_scrolled(&b, 24, &fresh);
    size_t scroll = roundtrip(enc, dec, &c, 1);
    s = stats_of(enc);
    CHECK(s.copy_rectangles >= 1, "a scroll sends CopyRect (got %u)", s.copy_rectangles);
    CHECK(scroll > 4 && scroll < first / 2, "scroll %zu bytes vs first %zu", scroll, first);
    CHECK(pixels_equal(dec, &c, &client), "scrolled update, preset %d", client_preset);

    CHECK(roundtrip(enc, dec, &c, 0) > 4, "non-incremental");
    CHECK(stats_of(enc).encoded_pixels == (uint64_t)w * h, "non-incremental sends everything");
    CHECK(pixels_equal(dec, &c, &client), "non-incremental, preset %d", client_preset);

    frame_free(&a);
    frame_free(&b);
    frame_free(&c);
    frame_free(&fresh);
    rs_encoder_free(enc);
    rs_decoder_free(dec);
}

/* Caller-owned buffers: size query, pending message, copy_message; decoder copy with a padded stride. */
static void test_caller_owned(void) {
    const uint32_t w = 100, h = 60;
    rs_pixel_format fmt = preset(RS_FORMAT_BGRX8888);
    rs_encoder *enc = NULL;
    rs_decoder *dec = NULL;
    CHECK_STATUS(rs_encoder_new(w, h, &fmt, &fmt, NULL, &enc), RS_OK, rs_last_error());
    CHECK_STATUS(rs_decoder_new(w, h, &fmt, NULL, &dec), RS_OK, rs_last_error());
    if (!enc || !dec) return;
    const int32_t zrle = RS_ENCODING_ZRLE;
    rs_encoder_set_encodings(enc, &zrle, 1);
    frame a = make_desktop(w, h, 3);

    size_t needed = 0;
    CHECK_STATUS(rs_encoder_encode_into(enc, a.pixels, a.stride * h, a.stride, 0, NULL, NULL, 0, &needed),
                 RS_ERR_BUFFER_TOO_SMALL, rs_encoder_errmsg(enc));
    CHECK(needed > 4, "needed %zu", needed);
    CHECK(strlen(rs_encoder_errmsg(enc)) > 0, "errmsg set");
    size_t ignored = 0;
    CHECK_STATUS(rs_encoder_encode_into(enc, a.pixels, a.stride * h, a.stride, 1, NULL, NULL, 0, &ignored),
                 RS_ERR_MESSAGE_PENDING, rs_encoder_errmsg(enc));
    CHECK(ignored == 0, "out_length untouched");

    uint8_t *buffer = malloc(needed);
    size_t length = 0;
    CHECK_STATUS(rs_encoder_copy_message(enc, buffer, needed - 1, &length), RS_ERR_BUFFER_TOO_SMALL, rs_encoder_errmsg(enc));
    CHECK(length == needed, "needed again");
    length = 0;
    CHECK_STATUS(rs_encoder_copy_message(enc, buffer, needed, &length), RS_OK, rs_encoder_errmsg(enc));
    CHECK(length == needed && strcmp(rs_encoder_errmsg(enc), "") == 0, "copied %zu", length);
    CHECK_STATUS(rs_decoder_apply(dec, buffer, length, NULL), RS_OK, rs_decoder_errmsg(dec));

    /* The message went out: the next incremental update follows on the same stream. */
    frame b = frame_copy(&a);
    for (uint32_t x = 0; x < w; x++) put(&b, x, 7, 1, 2, 3);
    uint8_t big[65536];
    CHECK_STATUS(rs_encoder_encode_into(enc, b.pixels, b.stride * h, b.stride, 1, NULL, big, sizeof big, &length), RS_OK,
                 rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_decoder_apply(dec, big, length, NULL), RS_OK, rs_decoder_errmsg(dec));
    CHECK(pixels_equal(dec, &b, &fmt), "caller-owned round trip");

    /* Decoder copy into a padded buffer; the padding is left alone. */
    size_t stride = a.stride + 12;
    uint8_t *copy = malloc(stride * h);
    memset(copy, 0xEE, stride * h);
    CHECK_STATUS(rs_decoder_copy_pixels(dec, copy, stride * h, stride), RS_OK, rs_decoder_errmsg(dec));
    int rows_ok = 1;
    for (uint32_t y = 0; y < h; y++) {
        if (memcmp(copy + y * stride, b.pixels + y * b.stride, b.stride) != 0) rows_ok = 0;
        for (size_t k = b.stride; k < stride; k++)
            if (copy[y * stride + k] != 0xEE) rows_ok = 0;
    }
    CHECK(rows_ok, "padded copy");
    CHECK_STATUS(rs_decoder_copy_pixels(dec, copy, stride * (h - 1) + a.stride - 1, stride), RS_ERR_BUFFER_TOO_SMALL,
                 rs_decoder_errmsg(dec));

    free(copy);
    free(buffer);
    frame_free(&a);
    frame_free(&b);
    rs_encoder_free(enc);
    rs_decoder_free(dec);
}

static void test_errors(void) {
    rs_pixel_format fmt = preset(RS_FORMAT_BGRX8888), bad = fmt;
    bad.bits_per_pixel = 24;
    rs_encoder *enc = NULL;
    rs_decoder *dec = NULL;

    /* Calls without a handle: rs_last_error. */
    CHECK_STATUS(rs_encoder_new(10, 10, NULL, &fmt, NULL, &enc), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK(strlen(rs_last_error()) > 0, "rs_last_error set");
    CHECK_STATUS(rs_encoder_new(10, 10, &bad, &fmt, NULL, &enc), RS_ERR_UNSUPPORTED_FORMAT, rs_last_error());
    CHECK_STATUS(rs_encoder_new(0, 10, &fmt, &fmt, NULL, &enc), RS_ERR_INVALID_ARGUMENT, rs_last_error());
    CHECK_STATUS(rs_encoder_new(10, 10, &fmt, &fmt, NULL, NULL), RS_ERR_NULL_POINTER, rs_last_error());
    rs_encoder_options opt = RS_ENCODER_OPTIONS_INIT;
    opt.compression_level = 42;
    CHECK_STATUS(rs_encoder_new(10, 10, &fmt, &fmt, &opt, &enc), RS_ERR_INVALID_ARGUMENT, rs_last_error());
    opt.compression_level = 6;
    opt.struct_size = 4;
    CHECK_STATUS(rs_encoder_new(10, 10, &fmt, &fmt, &opt, &enc), RS_ERR_INVALID_ARGUMENT, rs_last_error());
    CHECK(enc == NULL, "out_encoder untouched on failure");
    CHECK_STATUS(rs_decoder_new(10, 10, &bad, NULL, &dec), RS_ERR_UNSUPPORTED_FORMAT, rs_last_error());
    CHECK_STATUS(rs_pixel_format_preset(77, &bad), RS_ERR_INVALID_ARGUMENT, rs_last_error());
    CHECK_STATUS(rs_encoder_new(16, 8, &fmt, &fmt, NULL, &enc), RS_OK, rs_last_error());
    CHECK(strcmp(rs_last_error(), "") == 0, "success clears rs_last_error");
    CHECK_STATUS(rs_decoder_new(16, 8, &fmt, NULL, &dec), RS_OK, rs_last_error());
    if (!enc || !dec) return;

    /* Encoder. */
    frame f = make_desktop(16, 8, 4);
    const uint8_t *message = NULL;
    size_t length = 0;
    CHECK_STATUS(rs_encoder_encode(NULL, f.pixels, 512, 64, 0, NULL, &message, &length), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK(strcmp(rs_encoder_errmsg(NULL), "encoder is NULL") == 0, "%s", rs_encoder_errmsg(NULL));
    CHECK_STATUS(rs_encoder_encode(enc, NULL, 512, 64, 0, NULL, &message, &length), RS_ERR_NULL_POINTER, rs_encoder_errmsg(enc));
    CHECK(strlen(rs_encoder_errmsg(enc)) > 0, "errmsg");
    CHECK_STATUS(rs_encoder_encode(enc, f.pixels, 512, 63, 0, NULL, &message, &length), RS_ERR_INVALID_ARGUMENT,
                 rs_encoder_errmsg(enc));
    CHECK(strstr(rs_encoder_errmsg(enc), "stride") != NULL, "%s", rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_encode(enc, f.pixels, 511, 64, 0, NULL, &message, &length), RS_ERR_INVALID_ARGUMENT,
                 rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_encode(enc, f.pixels, 512, (size_t)-1, 0, NULL, &message, &length), RS_ERR_INVALID_ARGUMENT,
                 rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_encode(enc, f.pixels, 512, 64, 0, NULL, NULL, &length), RS_ERR_NULL_POINTER, rs_encoder_errmsg(enc));
    CHECK(message == NULL && length == 0, "out-params untouched on failure");
    CHECK_STATUS(rs_encoder_copy_message(enc, NULL, 0, &length), RS_ERR_INVALID_ARGUMENT, rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_set_encodings(enc, NULL, 2), RS_ERR_NULL_POINTER, rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_set_client_format(enc, &bad), RS_ERR_UNSUPPORTED_FORMAT, rs_encoder_errmsg(enc));
    rs_update_stats s = RS_UPDATE_STATS_INIT;
    s.struct_size = 8;
    CHECK_STATUS(rs_encoder_stats(enc, &s), RS_ERR_INVALID_ARGUMENT, rs_encoder_errmsg(enc));
    CHECK_STATUS(rs_encoder_encode(enc, f.pixels, 512, 64, 0, NULL, &message, &length), RS_OK, rs_encoder_errmsg(enc));
    CHECK(strcmp(rs_encoder_errmsg(enc), "") == 0, "success clears the handle's message");

    /* Decoder: malformed messages. */
    static const uint8_t wrong_type[] = {3, 0, 0, 0};
    static const uint8_t truncated[] = {0, 0, 0, 1, 0, 0};
    static const uint8_t out_of_bounds[] = {0, 0, 0, 1, 0, 15, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t hextile[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 5, 0};
    static const uint8_t bad_zlib[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 16, 0, 0, 0, 3, 1, 2, 3};
    size_t rectangles = 99;
    CHECK_STATUS(rs_decoder_apply(dec, wrong_type, sizeof wrong_type, &rectangles), RS_ERR_MALFORMED, rs_decoder_errmsg(dec));
    CHECK(strlen(rs_decoder_errmsg(dec)) > 0 && rectangles == 99, "errmsg, out_rectangles untouched");
    CHECK_STATUS(rs_decoder_apply(dec, truncated, sizeof truncated, NULL), RS_ERR_TRUNCATED, rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_apply(dec, out_of_bounds, sizeof out_of_bounds, NULL), RS_ERR_RECT_OUT_OF_BOUNDS,
                 rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_apply(dec, hextile, sizeof hextile, NULL), RS_ERR_UNSUPPORTED_ENCODING, rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_apply(dec, NULL, 4, NULL), RS_ERR_NULL_POINTER, rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_apply(NULL, wrong_type, 4, NULL), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK_STATUS(rs_decoder_apply(dec, bad_zlib, sizeof bad_zlib, NULL), RS_ERR_CORRUPT_DATA, rs_decoder_errmsg(dec));
    const uint8_t *pixels = NULL;
    size_t stride = 0;
    CHECK_STATUS(rs_decoder_pixels(dec, NULL, &stride), RS_ERR_NULL_POINTER, rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_pixels(dec, &pixels, &stride), RS_OK, rs_decoder_errmsg(dec));
    uint8_t small[64];
    CHECK_STATUS(rs_decoder_copy_pixels(dec, small, sizeof small, 64), RS_ERR_BUFFER_TOO_SMALL, rs_decoder_errmsg(dec));
    CHECK_STATUS(rs_decoder_copy_pixels(dec, small, sizeof small, 8), RS_ERR_INVALID_ARGUMENT, rs_decoder_errmsg(dec));

    frame_free(&f);
    rs_encoder_free(enc);
    rs_decoder_free(dec);
    rs_encoder_free(NULL);
    rs_decoder_free(NULL);
    rs_image_free(NULL);
    passed++; /* the frees of NULL returned */
}

static void test_image(void) {
    static const char header[] = "P6\n# made by codec_test\n4 2\n255\n";
    uint8_t data[sizeof header - 1 + 24];
    memcpy(data, header, sizeof header - 1);
    for (int i = 0; i < 24; i++) data[sizeof header - 1 + i] = (uint8_t)(i * 10);
    rs_pixel_format fmt = preset(RS_FORMAT_RGB565);
    rs_image *img = NULL;
    CHECK_STATUS(rs_image_decode_ppm(data, sizeof data, &fmt, &img), RS_OK, rs_last_error());
    CHECK(rs_image_width(img) == 4 && rs_image_height(img) == 2 && rs_image_stride(img) == 8, "size");
    const uint8_t *p = rs_image_pixels(img);
    /* pixel 1 is (30, 40, 50): r = (30*31+127)/255 = 4, g = (40*63+127)/255 = 10, b = (50*31+127)/255 = 6. */
    uint16_t v = (uint16_t)(p[2] | p[3] << 8);
    CHECK(v == (4 << 11 | 10 << 5 | 6), "565 pixel 0x%04x", v);
    rs_image_free(img);
    img = NULL;
    CHECK_STATUS(rs_image_decode_ppm(data, sizeof data - 1, &fmt, &img), RS_ERR_TRUNCATED, rs_last_error());
    CHECK_STATUS(rs_image_decode_ppm((const uint8_t *)"P3\n1 1\n255\n0 0 0", 16, &fmt, &img), RS_ERR_INVALID_IMAGE,
                 rs_last_error());
    CHECK(img == NULL && rs_image_width(NULL) == 0 && rs_image_pixels(NULL) == NULL, "NULL image");
}

int main(void) {
    test_version();
    const int formats[] = {RS_FORMAT_BGRX8888, RS_FORMAT_RGB565, RS_FORMAT_BGR233};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) test_session(formats[i], 1);
    test_session(RS_FORMAT_BGRX8888, 2);
    test_session(RS_FORMAT_RGB565, 0);
    test_caller_owned();
    test_errors();
    test_image();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
