/*
 * remotesupport.h - the C API of libremotesupport: the RFB tile codec (ZRLE, CopyRect, Raw), the
 * product's join links and connection IDs, and the wire protocol's sans-IO connections (rs_conn).
 *
 * One side turns successive frames into RFB FramebufferUpdate messages for one client (rs_encoder); the
 * other applies such messages to a framebuffer (rs_decoder). An rs_link_signer builds and checks the
 * signed join links an agent hands out, without a broker; connection IDs and short codes are parsed and
 * formatted by plain functions. There is no IO, no clock and no global state to set up: bytes in, bytes
 * out, and the time is passed in. See docs/c-api.md for build lines (C, C++, Python ctypes).
 *
 * Conventions, true of every function below unless its comment says otherwise:
 *
 * - Status: fallible functions return an int: RS_OK (0) on success, a negative RS_ERR_* code on failure.
 *   rs_status_name() turns any code into a static string. Nothing in this library aborts or traps on bad
 *   input: every pointer, length and size is checked and reported as a status. (Running out of memory
 *   aborts, as in the Swift runtime it is built on; sizes are capped, so no input asks for more than
 *   the framebuffers and buffers its dimensions imply.)
 * - Errors: a failed call on a handle leaves a message in that handle (rs_encoder_errmsg,
 *   rs_decoder_errmsg, rs_link_signer_errmsg, rs_conn_errmsg); a call that succeeds clears it to "". Calls without a
 *   handle (rs_*_new, rs_image_decode_ppm, rs_connection_id_parse, ...) and calls given a NULL handle put
 *   their message in rs_last_error(), which is thread-local.
 * - Out-parameters are named out_*, come last, and are written only on success (the one exception,
 *   RS_ERR_BUFFER_TOO_SMALL, writes the size needed to out_length and says so).
 * - Pointers: every pointer argument must be non-NULL unless its comment says "may be NULL"; a NULL one is
 *   reported as RS_ERR_NULL_POINTER. Borrowed input (pixels, messages, option structs) is read during the
 *   call only and may be freed or reused as soon as the call returns. Handles must be live: passing a
 *   freed handle, or a handle of the wrong kind, is undefined behaviour (it cannot be detected).
 * - Ownership: everything the library allocates is freed by its own *_free function, all of which accept
 *   NULL and must not be called twice on the same handle; strings it gives the caller (char ** out_*) are
 *   freed with rs_string_free. Pointers the library hands out otherwise (messages, pixels, error strings,
 *   the fields of a parsed link) are borrowed: never free them; each function says until when they stay
 *   valid.
 * - Text: strings are NUL-terminated UTF-8, in and out. Input text is read up to its NUL or up to 65536
 *   bytes, whichever comes first; text that is longer or not valid UTF-8 gets the status the function
 *   gives any other bad value of that parameter (RS_ERR_INVALID_FIELD, RS_ERR_MALFORMED_LINK, ...).
 * - Threads: the library creates no thread of its own and shares no mutable state between handles (error
 *   messages live in their handle, or in thread-local storage for calls without one). Distinct handles
 *   may be used on distinct threads at the same time. One handle is not thread-safe: calls on it must not
 *   overlap (a mutex around them is enough; a handle may move between threads). rs_image and
 *   rs_join_link handles are immutable once made and may be read from any number of threads at once.
 *   Functions without a handle are thread-safe. An encoder made with threads != 1 runs parts of
 *   rs_encoder_encode on libdispatch's worker threads and returns only when they are done.
 * - Integers: sizes are size_t, dimensions uint32_t, flags int (0 = no, anything else = yes), times int64_t
 *   seconds since 1970-01-01 UTC, except the protocol's: now_ms is uint64_t milliseconds of a monotonic
 *   clock, joined_at_ms int64_t milliseconds since 1970. Structs hold fixed-width fields (and pointers)
 *   only and never change layout; option structs start with a struct_size field that must be set with their *_INIT macro or
 *   *_init function.
 *
 * Nullability: with clang (but not gcc, which rejects the keywords), pointers carry _Nonnull / _Nullable
 * through RS_NONNULL / RS_NULLABLE, so the compiler can warn about a NULL passed where one is required;
 * define RS_NO_NULLABILITY to turn them off. They are a promise about what is valid, not what is checked:
 * a NULL passed for an RS_NONNULL pointer is still caught and reported as RS_ERR_NULL_POINTER. Swift
 * sees them off (__swift__): its pointers come in as optionals, which the C layer checks.
 */
#ifndef REMOTESUPPORT_H
#define REMOTESUPPORT_H

#include <stddef.h>
#include <stdint.h>

#define RS_VERSION_MAJOR 0
#define RS_VERSION_MINOR 1
#define RS_VERSION_PATCH 0
#define RS_VERSION_STRING "0.1.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH, so versions compare as integers. */
#define RS_VERSION_NUMBER 1000

#if defined(__clang__) && !defined(__swift__) && !defined(RS_NO_NULLABILITY)
#define RS_NONNULL _Nonnull
#define RS_NULLABLE _Nullable
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-extension"
#define RS_NULLABILITY_PUSHED 1
#else
#define RS_NONNULL
#define RS_NULLABLE
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Status codes ====================================================================================
 * -1 ... -99 are codec errors (one per RemoteSupportCore CodecError code: RS_ERR_x == -code);
 * -100 ... -199 come from the C layer; -200 ... -263 are the product's rules (one per RemoteSupportCore
 * DomainError code 64 ... 127: RS_ERR_x == -(code + 136)). New codes may be added; treat any negative
 * value as an error. */
#define RS_OK 0
#define RS_ERR_TRUNCATED (-1)              /* the input ended before the structure it announced */
#define RS_ERR_RECT_OUT_OF_BOUNDS (-2)     /* a rectangle or tile reaches outside the framebuffer */
#define RS_ERR_INVALID_SUBENCODING (-3)    /* a ZRLE subencoding byte RFC 6143 leaves unused */
#define RS_ERR_PALETTE_INDEX (-4)          /* a ZRLE palette index at or past the palette size */
#define RS_ERR_RUN_PAST_TILE_END (-5)      /* a ZRLE run longer than what is left of its tile */
#define RS_ERR_CORRUPT_DATA (-6)           /* zlib reported corrupt data (or failed earlier in the stream) */
#define RS_ERR_SIZE_MISMATCH (-7)          /* zlib data inflates to more (or less) than the rectangle needs */
#define RS_ERR_LIMIT_EXCEEDED (-8)         /* a count or length over a configured limit */
#define RS_ERR_UNSUPPORTED_ENCODING (-9)   /* a rectangle encoding other than Raw, CopyRect, ZRLE */
#define RS_ERR_UNSUPPORTED_FORMAT (-10)    /* a pixel format the codec cannot use (e.g. colour-map) */
#define RS_ERR_MALFORMED (-11)             /* a message type or field value that is not allowed */
#define RS_ERR_INVALID_IMAGE (-12)         /* an image file (PPM, gzip) that cannot be read */
#define RS_ERR_INVALID_ARGUMENT (-13)      /* a size, stride, region, option or state the call cannot use */
#define RS_ERR_UNKNOWN (-99)               /* a codec error this version does not name */
#define RS_ERR_NULL_POINTER (-100)         /* a required pointer (or handle) was NULL */
#define RS_ERR_BUFFER_TOO_SMALL (-101)     /* a caller-owned buffer is too small; out_length has the size */
#define RS_ERR_MESSAGE_PENDING (-102)      /* an encoded message was not taken yet: rs_encoder_copy_message */
#define RS_ERR_STATE (-103)                /* a protocol call its connection's role or state does not allow */
/* Positive statuses say "nothing (more)", not an error. */
#define RS_NO_EVENT 1                      /* rs_conn_poll: no event pending */
#define RS_NO_DEADLINE 2                   /* rs_conn_next_wakeup: nothing to wake up for */
/* The product's rules (DomainError). The links, IDs and codes below return INVALID_FIELD, NOT_FOUND,
 * BAD_SIGNATURE, MALFORMED_LINK and EXPIRED; the others are named for the APIs that will need them. */
#define RS_ERR_INVALID_FIELD (-200)        /* a value is empty, too long, has control characters or bad syntax */
#define RS_ERR_INVALID_CREDENTIALS (-201)  /* wrong e-mail or password */
#define RS_ERR_PASSWORD_CHANGE_REQUIRED (-202) /* the account must change its default password first */
#define RS_ERR_WEAK_PASSWORD (-203)        /* a new password that breaks the policy */
#define RS_ERR_RATE_LIMITED (-204)         /* too many attempts: try again later */
#define RS_ERR_NOT_FOUND (-205)            /* a link, code or token that is not (or no longer) valid */
#define RS_ERR_BAD_SIGNATURE (-206)        /* a link whose signature does not match: altered, or another key */
#define RS_ERR_MALFORMED_LINK (-207)       /* not one of this public URL's links (base URL, path, query) */
#define RS_ERR_FORBIDDEN (-208)            /* the caller may not do this */
#define RS_ERR_INVALID_TRANSITION (-209)   /* a session transition its state does not allow */
#define RS_ERR_CONFLICT (-210)             /* the name is already taken */
#define RS_ERR_SESSION_EXPIRED (-211)      /* a login session that expired or was revoked */
#define RS_ERR_EXHAUSTED (-212)            /* every connection ID is live or recently used */
#define RS_ERR_CORRUPT_RECORD (-213)       /* a stored value that cannot be read back */
#define RS_ERR_EXPIRED (-214)              /* a link that was valid but is past its expiry */
#define RS_ERR_NOT_CONFIGURED (-215)       /* something the call needs is not set up (no mail relay) */

/* The name of a status code ("RS_OK", "RS_ERR_TRUNCATED", ...), or "RS_ERR_UNKNOWN" for a value this
 * version does not know. Never NULL; static storage, never free it. Thread-safe. */
const char *RS_NONNULL rs_status_name(int status);

/* The message of the last failed call on this thread that had no handle to keep it (rs_*_new,
 * rs_image_decode_ppm, rs_pixel_format_preset, the *_init functions, rs_link_generate_key,
 * rs_invitation_id_format, rs_short_code_validate, rs_connection_id_*, or any call given a NULL handle);
 * "" after such a call succeeds or before any. Never NULL. Valid until the next such call on this thread or
 * the thread's exit; never free it. */
const char *RS_NONNULL rs_last_error(void);

/* ==== Version ======================================================================================== */

/* The library's version as "MAJOR.MINOR.PATCH" (RS_VERSION_STRING of the header it was built with).
 * Static storage, never NULL, never free it. Thread-safe. */
const char *RS_NONNULL rs_version(void);

/* The library's version as RS_VERSION_NUMBER. Compare it with RS_VERSION_NUMBER of the header you built
 * against: the major versions must match. Thread-safe. */
uint32_t rs_version_number(void);

/* ==== Pixel formats ==================================================================================
 * A true-colour pixel format as RFB describes it (RFC 6143 section 7.4, PIXEL_FORMAT, same field order):
 * 8, 16 or 32 bits per pixel; each channel is (pixel >> shift) & max with max = 2^n - 1; pixels lie in
 * memory in the given byte order. Colour-map formats (true_colour == 0) are rejected with
 * RS_ERR_UNSUPPORTED_FORMAT. big_endian and true_colour are 0 or non-zero (yes); padding is ignored. */
typedef struct rs_pixel_format {
    uint8_t bits_per_pixel; /* 8, 16 or 32 */
    uint8_t depth;          /* useful bits, 1 ... bits_per_pixel */
    uint8_t big_endian;
    uint8_t true_colour;
    uint16_t red_max;
    uint16_t green_max;
    uint16_t blue_max;
    uint8_t red_shift;
    uint8_t green_shift;
    uint8_t blue_shift;
    uint8_t padding[3];
} rs_pixel_format; /* 16 bytes */

#define RS_FORMAT_BGRX8888 1 /* 32-bit little-endian 0x00RRGGBB: bytes B,G,R,X (X11, most desktops) */
#define RS_FORMAT_RGBX8888 2 /* 32-bit little-endian 0x00BBGGRR: bytes R,G,B,X */
#define RS_FORMAT_RGB565 3   /* 16-bit little-endian 5-6-5 */
#define RS_FORMAT_BGR233 4   /* 8-bit, blue in the top two bits (classic VNC 8-bit true colour) */

/* Writes a predefined format (RS_FORMAT_*) to *out_format.
 * Returns RS_OK; RS_ERR_INVALID_ARGUMENT for an unknown preset; RS_ERR_NULL_POINTER.
 * Errors go to rs_last_error(). Thread-safe. */
int rs_pixel_format_preset(int preset, rs_pixel_format *RS_NONNULL out_format);

/* A rectangle in framebuffer pixels. */
typedef struct rs_rect {
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
} rs_rect;

/* RFB encoding numbers (RFC 6143 section 7.7), for rs_encoder_set_encodings and rs_decoder_rectangle. */
#define RS_ENCODING_RAW 0
#define RS_ENCODING_COPYRECT 1
#define RS_ENCODING_ZRLE 16

/* ==== Encoder ========================================================================================
 * An rs_encoder turns successive frames into RFB FramebufferUpdate messages (RFC 6143 section 7.6.1) for
 * ONE client: message type 0, one padding byte, a big-endian U16 rectangle count, then per rectangle a
 * 12-byte header (x, y, width, height as U16, encoding as S32) and its payload (Raw: the pixels in the
 * client's format; CopyRect: source x, y as U16; ZRLE: a U32 length and that many bytes of the
 * connection's single zlib stream). It keeps a copy of what the client holds, so an incremental update
 * sends only what changed, with CopyRect for content that moved (scrolls, moved windows).
 *
 * Every message it returns must reach the client, whole and in order: the ZRLE zlib stream and the
 * client copy continue from one message to the next, so a lost message corrupts every later one. The one
 * exception: a message of 4 bytes carries no rectangle (nothing changed) and may be dropped; RFB servers
 * usually hold the request and encode again when the screen changes.
 *
 * Thread-safety: not thread-safe; one call at a time per encoder. */
typedef struct rs_encoder rs_encoder;

typedef struct rs_encoder_options {
    uint32_t struct_size;      /* sizeof(rs_encoder_options): set by RS_ENCODER_OPTIONS_INIT / _init */
    int32_t compression_level; /* zlib level 0 (store) ... 9 (smallest) for photo-like updates; default 6.
                                  Text-like updates (sparse tile data) use min(compression_level, 4),
                                  which costs them little in size and saves ~40 % deflate time */
    int32_t detect_motion;     /* non-zero: look for scrolled/moved content and send it as CopyRect when
                                  the client accepts CopyRect; default 1 */
    int32_t threads;           /* 1: encode on the calling thread only (default); 0: on as many threads as
                                  there are online processors; n: on n threads (at most 64) */
} rs_encoder_options;

#define RS_ENCODER_OPTIONS_INIT { sizeof(rs_encoder_options), 6, 1, 1 }

/* Sets *out_options to the defaults (RS_ENCODER_OPTIONS_INIT), for callers that cannot use the macro.
 * Returns RS_OK or RS_ERR_NULL_POINTER (message in rs_last_error()). Thread-safe. */
int rs_encoder_options_init(rs_encoder_options *RS_NONNULL out_options);

/* Creates an encoder for frames of width x height pixels (1 ... 16384 each) in source_format, encoding
 * for a client that wants client_format (change it later with rs_encoder_set_client_format). Until
 * rs_encoder_set_encodings says otherwise it sends Raw rectangles only, as RFB requires.
 * options may be NULL (the defaults); struct_size must be at least this version's size, and any bytes
 * past it must be zero. Both formats and options are copied: they may be freed when this returns.
 * On success *out_encoder is a new encoder the caller owns: free it with rs_encoder_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_UNSUPPORTED_FORMAT; RS_ERR_INVALID_ARGUMENT (size, options).
 * Errors go to rs_last_error(). Thread-safe. */
int rs_encoder_new(uint32_t width, uint32_t height, const rs_pixel_format *RS_NONNULL source_format,
                   const rs_pixel_format *RS_NONNULL client_format, const rs_encoder_options *RS_NULLABLE options,
                   rs_encoder *RS_NULLABLE *RS_NONNULL out_encoder);

/* Sets the client's pixel format (RFB SetPixelFormat); the next update sends every pixel again.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_UNSUPPORTED_FORMAT (the encoder keeps its old format). */
int rs_encoder_set_client_format(rs_encoder *RS_NONNULL encoder, const rs_pixel_format *RS_NONNULL client_format);

/* Sets the encodings the client accepts (RFB SetEncodings: RS_ENCODING_* and any others, in the client's
 * order). ZRLE is used if listed, else Raw; CopyRect if listed. Unknown numbers are ignored. The list is
 * copied; it may be NULL when count is 0 (Raw only). count is at most 65535 (RFB's limit).
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (count). */
int rs_encoder_set_encodings(rs_encoder *RS_NONNULL encoder, const int32_t *RS_NULLABLE encodings, size_t count);

/* Forgets what the client holds: the next update sends every pixel of its region (for a client that
 * lost its framebuffer, or a non-incremental request handled lazily).
 * Returns RS_OK or RS_ERR_NULL_POINTER. */
int rs_encoder_invalidate(rs_encoder *RS_NONNULL encoder);

/* Encodes the FramebufferUpdate answering a FramebufferUpdateRequest for region (the whole frame if
 * region is NULL; it is clipped to the frame, so a region outside it gives an empty update).
 *
 * pixels: the current frame in the encoder's source format, height rows of width pixels, rows stride
 * bytes apart (stride >= width * bytes per pixel); pixels_length is how many bytes may be read from
 * pixels, at least stride * (height - 1) + width * bytes per pixel. Borrowed for the call only.
 * incremental: non-zero sends only what changed since the last update; the first update, and those after
 * rs_encoder_invalidate or a format change, send the whole region anyway.
 *
 * On success *out_message points to the message and *out_length is its size (4 or more). The message is
 * owned by the encoder: do not free it; it stays valid until the next rs_encoder_encode,
 * rs_encoder_encode_into or rs_encoder_free on this encoder.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (stride, pixels_length); and
 * RS_ERR_MESSAGE_PENDING if an rs_encoder_encode_into message was not taken yet. On error nothing was
 * encoded and the encoder is as it was. */
int rs_encoder_encode(rs_encoder *RS_NONNULL encoder, const uint8_t *RS_NONNULL pixels, size_t pixels_length,
                      size_t stride, int incremental, const rs_rect *RS_NULLABLE region,
                      const uint8_t *RS_NULLABLE *RS_NONNULL out_message, size_t *RS_NONNULL out_length);

/* As rs_encoder_encode, but copies the message into the caller's buffer of capacity bytes (which may be
 * NULL when capacity is 0) and sets *out_length to its size.
 *
 * If the message does not fit, returns RS_ERR_BUFFER_TOO_SMALL and sets *out_length to the size needed.
 * The message has been encoded all the same (the stream has moved on) and is kept in the encoder: take it
 * with rs_encoder_copy_message into a buffer that large; until then rs_encoder_encode and
 * rs_encoder_encode_into refuse with RS_ERR_MESSAGE_PENDING, so the stream cannot skip it. So
 * "encode_into(..., NULL, 0, &n); malloc(n); copy_message(...)" is a valid way to size the buffer.
 * Returns RS_OK; RS_ERR_BUFFER_TOO_SMALL; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT;
 * RS_ERR_MESSAGE_PENDING. */
int rs_encoder_encode_into(rs_encoder *RS_NONNULL encoder, const uint8_t *RS_NONNULL pixels, size_t pixels_length,
                           size_t stride, int incremental, const rs_rect *RS_NULLABLE region,
                           uint8_t *RS_NULLABLE buffer, size_t capacity, size_t *RS_NONNULL out_length);

/* Copies the last message this encoder encoded into buffer (capacity bytes; NULL when capacity is 0) and
 * sets *out_length to its size; this takes a pending message (see rs_encoder_encode_into), so encoding
 * may go on. It may be called again for the same message.
 * Returns RS_OK; RS_ERR_BUFFER_TOO_SMALL (with the size needed in *out_length; a pending message stays
 * pending, one already taken stays taken); RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT if nothing was
 * encoded yet. */
int rs_encoder_copy_message(rs_encoder *RS_NONNULL encoder, uint8_t *RS_NULLABLE buffer, size_t capacity,
                            size_t *RS_NONNULL out_length);

/* What the last encoded update contained (all zero before the first). */
typedef struct rs_update_stats {
    uint32_t struct_size;      /* sizeof(rs_update_stats): set by RS_UPDATE_STATS_INIT / _init */
    uint32_t rectangles;       /* rectangles in the message (copy + zrle + raw) */
    uint32_t copy_rectangles;  /* CopyRect rectangles (moved content) */
    uint32_t zrle_rectangles;
    uint32_t raw_rectangles;
    uint32_t changed_tiles;    /* 64x64 grid tiles that differed from what the client held */
    uint64_t encoded_pixels;   /* pixels sent as ZRLE or Raw (copied pixels are not counted) */
    uint64_t uncompressed_bytes; /* ZRLE tile bytes before zlib */
    uint64_t message_bytes;    /* size of the whole message */
    uint64_t tiles_raw;        /* ZRLE tiles per subencoding */
    uint64_t tiles_solid;
    uint64_t tiles_packed_palette;
    uint64_t tiles_plain_rle;
    uint64_t tiles_palette_rle;
} rs_update_stats;

#define RS_UPDATE_STATS_INIT { sizeof(rs_update_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Sets *out_stats to RS_UPDATE_STATS_INIT. Returns RS_OK or RS_ERR_NULL_POINTER (rs_last_error()). */
int rs_update_stats_init(rs_update_stats *RS_NONNULL out_stats);

/* Fills *out_stats (whose struct_size the caller sets, at least this version's size) with the statistics
 * of the last update encoded. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (struct_size). */
int rs_encoder_stats(rs_encoder *RS_NONNULL encoder, rs_update_stats *RS_NONNULL out_stats);

/* The message of the last call on this encoder that failed, "" if the last call succeeded. Never NULL
 * (for a NULL encoder, a static text saying so). Owned by the encoder: valid until the next call on it or
 * its free; never free it. */
const char *RS_NONNULL rs_encoder_errmsg(rs_encoder *RS_NULLABLE encoder);

/* Frees the encoder and everything it owns (including its message buffer). NULL is fine; must not be
 * called twice on the same encoder. */
void rs_encoder_free(rs_encoder *RS_NULLABLE encoder);

/* ==== Decoder ========================================================================================
 * An rs_decoder applies FramebufferUpdate messages (Raw, CopyRect and ZRLE rectangles) from ONE server,
 * in order, to a framebuffer of width x height pixels in the client's pixel format, rows packed.
 * A message is checked whole before any pixel changes (headers, bounds, encodings, lengths): those errors
 * (RS_ERR_TRUNCATED, RS_ERR_RECT_OUT_OF_BOUNDS, RS_ERR_LIMIT_EXCEEDED, RS_ERR_UNSUPPORTED_ENCODING,
 * RS_ERR_MALFORMED) leave the framebuffer as it was. An error inside ZRLE data is found while decoding:
 * the update may be partly applied and the zlib stream is broken for good (every later ZRLE rectangle
 * fails with RS_ERR_CORRUPT_DATA): as in any VNC viewer, the connection must be reset. RFB has no
 * framing either, so after any error the byte stream cannot be trusted: reconnect.
 * Thread-safety: not thread-safe; one call at a time per decoder. */
typedef struct rs_decoder rs_decoder;

typedef struct rs_decoder_options {
    uint32_t struct_size;         /* sizeof(rs_decoder_options): set by RS_DECODER_OPTIONS_INIT / _init */
    uint32_t max_rectangles;      /* most rectangles one message may carry: 0 ... 65535, default 65535 */
    uint64_t max_rectangle_bytes; /* most zlib bytes one ZRLE rectangle may carry; default 64 MiB */
} rs_decoder_options;

#define RS_DECODER_OPTIONS_INIT { sizeof(rs_decoder_options), 65535, 67108864 }

/* Sets *out_options to the defaults (RS_DECODER_OPTIONS_INIT). Returns RS_OK or RS_ERR_NULL_POINTER. */
int rs_decoder_options_init(rs_decoder_options *RS_NONNULL out_options);

/* Creates a decoder with a black framebuffer of width x height pixels (1 ... 16384 each) in format.
 * options may be NULL (the defaults); see rs_encoder_new for struct_size. format and options are copied.
 * On success *out_decoder is a new decoder the caller owns: free it with rs_decoder_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_UNSUPPORTED_FORMAT; RS_ERR_INVALID_ARGUMENT.
 * Errors go to rs_last_error(). Thread-safe. */
int rs_decoder_new(uint32_t width, uint32_t height, const rs_pixel_format *RS_NONNULL format,
                   const rs_decoder_options *RS_NULLABLE options, rs_decoder *RS_NULLABLE *RS_NONNULL out_decoder);

/* Applies one whole FramebufferUpdate message of length bytes (from its type byte to the end of its last
 * rectangle; borrowed for the call only). On success, *out_rectangles (out_rectangles may be NULL) is the
 * number of its rectangles that rs_decoder_rectangle lists (empty Raw and CopyRect rectangles are left
 * out).
 * Returns RS_OK; RS_ERR_NULL_POINTER; any codec error RS_ERR_TRUNCATED ... RS_ERR_MALFORMED (see above
 * for what an error leaves behind). */
int rs_decoder_apply(rs_decoder *RS_NONNULL decoder, const uint8_t *RS_NONNULL message, size_t length,
                     size_t *RS_NULLABLE out_rectangles);

/* The index-th rectangle (0-based) of the last message applied successfully: where pixels changed, for
 * repainting. out_encoding may be NULL; else it receives the rectangle's RS_ENCODING_*.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (index past the count; no rectangle after
 * a failed apply). */
int rs_decoder_rectangle(rs_decoder *RS_NONNULL decoder, size_t index, rs_rect *RS_NONNULL out_rect,
                         int32_t *RS_NULLABLE out_encoding);

/* Borrows the framebuffer: *out_pixels points to height rows of width pixels in the decoder's format,
 * *out_stride bytes apart (width * bytes per pixel). Owned by the decoder: do not free or write it; it
 * stays valid, and shows later updates, until rs_decoder_free; read it only between calls on this decoder
 * (rs_decoder_apply changes it, and it is brought up to date by this call).
 * Returns RS_OK or RS_ERR_NULL_POINTER. */
int rs_decoder_pixels(rs_decoder *RS_NONNULL decoder, const uint8_t *RS_NULLABLE *RS_NONNULL out_pixels,
                      size_t *RS_NONNULL out_stride);

/* Copies the framebuffer into the caller's buffer of capacity bytes, rows stride bytes apart
 * (stride >= width * bytes per pixel; capacity >= stride * (height - 1) + width * bytes per pixel).
 * Bytes between rows are left as they were.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (stride); RS_ERR_BUFFER_TOO_SMALL. */
int rs_decoder_copy_pixels(rs_decoder *RS_NONNULL decoder, uint8_t *RS_NONNULL buffer, size_t capacity, size_t stride);

/* The message of the last call on this decoder that failed, "" if the last call succeeded. Never NULL.
 * Owned by the decoder: valid until the next call on it or its free; never free it. */
const char *RS_NONNULL rs_decoder_errmsg(rs_decoder *RS_NULLABLE decoder);

/* Frees the decoder, its framebuffer and everything borrowed from it. NULL is fine; must not be called
 * twice on the same decoder. */
void rs_decoder_free(rs_decoder *RS_NULLABLE decoder);

/* ==== Images =========================================================================================
 * A helper for integrators and examples: frames from binary PPM files (P6, maxval 1-255, optionally
 * gzip-compressed), converted to a pixel format. An rs_image is immutable: it may be read from any number
 * of threads at once. */
typedef struct rs_image rs_image;

/* Parses length bytes of PPM (or gzipped PPM) data (borrowed for the call) into an image in format.
 * On success *out_image is a new image the caller owns: free it with rs_image_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_UNSUPPORTED_FORMAT; RS_ERR_INVALID_IMAGE; RS_ERR_TRUNCATED;
 * RS_ERR_CORRUPT_DATA (gzip). Errors go to rs_last_error(). Thread-safe. */
int rs_image_decode_ppm(const uint8_t *RS_NONNULL data, size_t length, const rs_pixel_format *RS_NONNULL format,
                        rs_image *RS_NULLABLE *RS_NONNULL out_image);

/* The image's width and height in pixels; 0 for a NULL image. */
uint32_t rs_image_width(const rs_image *RS_NULLABLE image);
uint32_t rs_image_height(const rs_image *RS_NULLABLE image);

/* Bytes between rows (width * bytes per pixel: rows are packed); 0 for a NULL image. The pixel data is
 * stride * height bytes. */
size_t rs_image_stride(const rs_image *RS_NULLABLE image);

/* The pixels, in the format given to rs_image_decode_ppm; NULL for a NULL image. Owned by the image:
 * valid until rs_image_free; never free or write it. */
const uint8_t *RS_NULLABLE rs_image_pixels(const rs_image *RS_NULLABLE image);

/* Frees the image. NULL is fine; must not be called twice on the same image. */
void rs_image_free(rs_image *RS_NULLABLE image);

/* ==== Links ==========================================================================================
 * What an integrator needs to hand out and check join links without a broker. An agent's links are
 * built on the broker's public URL (https://help.example.com, or with a path prefix such as
 * https://example.com/support):
 *
 *   personal:   <public URL>/join/<slug>                        permanent, carries nothing else
 *   invitation: <public URL>/join/<slug>?ticket=...&name=...&expires=...&id=...&sig=...
 *
 * An invitation embeds a helpdesk ticket and/or the end user's name, expires, and is named by a 16-byte
 * id. It is signed with HMAC-SHA256 under a 32-byte secret key over the slug, ticket, name, expiry and id,
 * so changing any of them (or using another key) gives RS_ERR_BAD_SIGNATURE. Values are percent-encoded
 * (UTF-8; everything but A-Z a-z 0-9 - . _ ~); parsing also accepts '+' for a space, a trailing '/' after
 * the slug, a #fragment (ignored), any ASCII letter case before the slug, and surrounding spaces and tabs;
 * it refuses unknown or repeated parameters, bad escapes and invalid UTF-8 (RS_ERR_MALFORMED_LINK).
 *
 * Revocation is not a property of the link: a revoked invitation still parses. Whoever issues
 * invitations keeps their ids (out_id of rs_link_invitation) and checks rs_join_link_id_bytes of a parsed
 * link against its own list of revoked ones (the broker's store does this).
 *
 * Field rules (RS_ERR_INVALID_FIELD otherwise): an agent slug has 1 ... 64 of a-z 0-9 '-', not starting
 * or ending with '-'; a ticket has 1 ... 64 characters, letters, digits, spaces and - _ . / # :; an end
 * user's name 1 ... 100 characters. Both are trimmed of surrounding white space and put in Unicode NFC
 * first, and may not hold control, format (bidi) or unassigned characters. */

/* An rs_link_signer: one public URL and one key. Building and parsing only read it, but a failed call
 * leaves its message in the signer (rs_link_signer_errmsg): not thread-safe, one call at a time per
 * signer. Signers are cheap: make one per thread with the same URL and key for parallel use; their links
 * are interchangeable. */
typedef struct rs_link_signer rs_link_signer;

#define RS_LINK_KEY_SIZE 32            /* bytes of a signing key */
#define RS_INVITATION_ID_SIZE 16       /* bytes of an invitation id */
#define RS_INVITATION_ID_TEXT_SIZE 23  /* an id as text: 22 base64url characters and the NUL */
#define RS_LINK_MAX_EXPIRES 253402300799 /* 9999-12-31 23:59:59 UTC: the latest expiry rs_link_invitation takes */

/* Writes RS_LINK_KEY_SIZE random bytes from the system's CSPRNG (the kernel's getrandom, through Swift's
 * SystemRandomNumberGenerator, which aborts the process if the kernel has none to give) to out_key: a new
 * signing key. Keep it secret, and keep it: links signed with it parse only with it.
 * Returns RS_OK or RS_ERR_NULL_POINTER. Errors go to rs_last_error(). Thread-safe. */
int rs_link_generate_key(uint8_t *RS_NONNULL out_key);

/* Creates a signer for public_url (http:// or https://, a host (letters, digits, . - : [ ]), an optional
 * port and path prefix of letters, digits and - . _ ~ /; no user, query or fragment; trailing slashes are
 * dropped and the scheme and host lowercased) and key (key_len must be RS_LINK_KEY_SIZE). Both are copied.
 * On success *out_signer is a new signer the caller owns: free it with rs_link_signer_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_FIELD (public_url); RS_ERR_INVALID_ARGUMENT
 * (key_len). Errors go to rs_last_error(). Thread-safe. */
int rs_link_signer_new(const char *RS_NONNULL public_url, const uint8_t *RS_NONNULL key, size_t key_len,
                       rs_link_signer *RS_NULLABLE *RS_NONNULL out_signer);

/* The signer's public URL as links carry it (normalised: no trailing slash, lowercase scheme and host);
 * NULL for a NULL signer. Owned by the signer: valid until rs_link_signer_free; never free it. */
const char *RS_NULLABLE rs_link_signer_public_url(const rs_link_signer *RS_NULLABLE signer);

/* Builds the agent's personal link, <public URL>/join/<agent_slug>.
 * On success *out_link is a new string the caller owns: free it with rs_string_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_FIELD (agent_slug). */
int rs_link_personal(rs_link_signer *RS_NONNULL signer, const char *RS_NONNULL agent_slug,
                     char *RS_NULLABLE *RS_NONNULL out_link);

/* What an invitation link says. */
typedef struct rs_invitation_spec {
    uint32_t struct_size;          /* sizeof(rs_invitation_spec): set by RS_INVITATION_SPEC_INIT / _init */
    int32_t generate_id;           /* non-zero: use a fresh random id (as rs_link_generate_key draws bytes)
                                      and ignore id below; 0: use id as given */
    const char *RS_NULLABLE agent_slug;    /* required: NULL is RS_ERR_NULL_POINTER */
    const char *RS_NULLABLE ticket;        /* may be NULL: no ticket */
    const char *RS_NULLABLE end_user_name; /* may be NULL: no name */
    int64_t expires;               /* seconds since 1970 UTC, 0 ... RS_LINK_MAX_EXPIRES */
    uint8_t id[RS_INVITATION_ID_SIZE]; /* the bytes naming this invitation (for revocation) */
} rs_invitation_spec;

/* The null pointer of the *_INIT macros: nullptr in C++ (where 0 draws -Wzero-as-null-pointer-constant). */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define RS_NULL_INIT nullptr
#else
#define RS_NULL_INIT NULL
#endif

#define RS_INVITATION_SPEC_INIT { sizeof(rs_invitation_spec), 0, RS_NULL_INIT, RS_NULL_INIT, RS_NULL_INIT, 0, { 0 } }

/* Sets *out_spec to RS_INVITATION_SPEC_INIT (no slug, no ticket, no name, expires 0, id all zero).
 * Returns RS_OK or RS_ERR_NULL_POINTER (message in rs_last_error()). Thread-safe. */
int rs_invitation_spec_init(rs_invitation_spec *RS_NONNULL out_spec);

/* Builds and signs an invitation link. spec and its strings are read during the call only; struct_size
 * as for option structs (see rs_encoder_new). A ticket or name is stored as validated (trimmed, NFC).
 * out_id may be NULL; else it receives the RS_INVITATION_ID_SIZE bytes of the id the link carries (the
 * generated one, or spec->id): keep it to revoke the invitation later.
 * On success *out_link is a new string the caller owns: free it with rs_string_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER (signer, spec, spec->agent_slug, out_link);
 * RS_ERR_INVALID_ARGUMENT (struct_size, expires outside 0 ... RS_LINK_MAX_EXPIRES); RS_ERR_INVALID_FIELD
 * (slug, ticket, name). */
int rs_link_invitation(rs_link_signer *RS_NONNULL signer, const rs_invitation_spec *RS_NONNULL spec,
                       uint8_t *RS_NULLABLE out_id, char *RS_NULLABLE *RS_NONNULL out_link);

/* A parsed join link: immutable, readable from any number of threads at once. */
typedef struct rs_join_link rs_join_link;

#define RS_JOIN_LINK_PERSONAL 1
#define RS_JOIN_LINK_INVITATION 2

/* Parses link (at most 2048 bytes) as one of this signer's links and checks it at now_unix_seconds: an
 * invitation must carry a valid signature and expire after now. Personal links never expire.
 * On success *out_link is a new parsed link the caller owns: free it with rs_join_link_free.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_MALFORMED_LINK (another base URL, not /join/<slug>, a bad
 * or missing parameter, a value that breaks the field rules, invalid UTF-8, too long);
 * RS_ERR_BAD_SIGNATURE (altered, or signed with another key); RS_ERR_EXPIRED (checked after the
 * signature, so an expired link was once valid). A revoked invitation parses: see above. */
int rs_link_parse(rs_link_signer *RS_NONNULL signer, const char *RS_NONNULL link, int64_t now_unix_seconds,
                  rs_join_link *RS_NULLABLE *RS_NONNULL out_link);

/* The getters below read a parsed link. The strings they return are owned by the link: valid until
 * rs_join_link_free; never free them. Each returns 0 or NULL for a NULL link. */

/* RS_JOIN_LINK_PERSONAL or RS_JOIN_LINK_INVITATION. */
int rs_join_link_kind(const rs_join_link *RS_NULLABLE link);

/* The agent's slug (both kinds). */
const char *RS_NULLABLE rs_join_link_agent_slug(const rs_join_link *RS_NULLABLE link);

/* The invitation's ticket and end user's name; NULL if it has none, and for a personal link. */
const char *RS_NULLABLE rs_join_link_ticket(const rs_join_link *RS_NULLABLE link);
const char *RS_NULLABLE rs_join_link_end_user_name(const rs_join_link *RS_NULLABLE link);

/* The invitation's expiry (seconds since 1970 UTC); 0 for a personal link. */
int64_t rs_join_link_expires(const rs_join_link *RS_NULLABLE link);

/* The invitation's id as its 22 base64url characters (as the link carries it), or as
 * RS_INVITATION_ID_SIZE bytes; NULL for a personal link. */
const char *RS_NULLABLE rs_join_link_id(const rs_join_link *RS_NULLABLE link);
const uint8_t *RS_NULLABLE rs_join_link_id_bytes(const rs_join_link *RS_NULLABLE link);

/* Frees a parsed link and its strings. NULL is fine; must not be called twice on the same link. */
void rs_join_link_free(rs_join_link *RS_NULLABLE link);

/* Writes the id's text form (22 base64url characters and a NUL: RS_INVITATION_ID_TEXT_SIZE bytes) to
 * out_text, as rs_join_link_id gives it. Returns RS_OK or RS_ERR_NULL_POINTER. Errors go to
 * rs_last_error(). Thread-safe. */
int rs_invitation_id_format(const uint8_t *RS_NONNULL id, char *RS_NONNULL out_text);

/* The message of the last call on this signer that failed, "" if the last call succeeded. Never NULL
 * (for a NULL signer, a static text saying so). Owned by the signer: valid until the next call on it or
 * its free; never free it. */
const char *RS_NONNULL rs_link_signer_errmsg(rs_link_signer *RS_NULLABLE signer);

/* Frees the signer (its copy of the key included). NULL is fine; must not be called twice on the same
 * signer. Links it built or parsed are not affected. */
void rs_link_signer_free(rs_link_signer *RS_NULLABLE signer);

/* Frees a string the library gave the caller (rs_link_personal, rs_link_invitation). NULL is fine; must
 * not be called twice on the same string. Use this, not free(): the library may use another allocator. */
void rs_string_free(char *RS_NULLABLE string);

/* ==== Short codes ==================================================================================== */

/* Checks the shape of a short-link code (<public URL>/s/<code>): 12 ... 32 of 0-9 A-Z a-z. Whether the
 * code exists is the broker's business; a code of the wrong shape is answered as an unknown one would be.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_NOT_FOUND. Errors go to rs_last_error(). Thread-safe. */
int rs_short_code_validate(const char *RS_NONNULL code);

/* ==== Connection IDs =================================================================================
 * A connection ID is 6 digits, 000 000 ... 999 999 (a value 0 ... RS_CONNECTION_ID_MAX), shown as
 * "123 456", that an end user types instead of opening a link. */

#define RS_CONNECTION_ID_MAX 999999
#define RS_CONNECTION_ID_TEXT_SIZE 8   /* "123 456" and the NUL */

/* Parses what a person typed: exactly six ASCII digits, with any spaces, tabs, hyphens or dots around or
 * between them ("123 456", "123-456", "123456"). On success *out_value is 0 ... RS_CONNECTION_ID_MAX.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_FIELD. Errors go to rs_last_error(). Thread-safe. */
int rs_connection_id_parse(const char *RS_NONNULL text, uint32_t *RS_NONNULL out_value);

/* Writes value as "123 456" (with leading zeros: "000 042") and a NUL, RS_CONNECTION_ID_TEXT_SIZE bytes,
 * to out_text. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_FIELD (value > RS_CONNECTION_ID_MAX).
 * Errors go to rs_last_error(). Thread-safe. */
int rs_connection_id_format(uint32_t value, char *RS_NONNULL out_text);

/* ==== Protocol connections ===========================================================================
 * The wire protocol (PROTOCOL.md) as sans-IO state machines, one rs_conn per transport connection, for
 * each role: the end user's client (RS_ROLE_END_USER), the agent's viewer (RS_ROLE_AGENT), and the
 * broker's side of one peer's connection (RS_ROLE_BROKER, for hosts that relay sessions themselves).
 * No sockets, threads, timers or clocks inside: the host
 *   - feeds the bytes it receives with rs_conn_receive (pieces of any size),
 *   - polls events with rs_conn_poll until RS_NO_EVENT, and answers them with the role's calls,
 *   - sends what rs_conn_take_output hands out (call it whenever the transport can take more: session
 *     messages queued meanwhile are sealed only then, so pointer motion piling up on a slow link merges),
 *   - calls rs_conn_tick at the time rs_conn_next_wakeup gives (keepalive pings, deadlines).
 * Times are milliseconds of a monotonic clock the host reads (any origin; CLOCK_MONOTONIC is right).
 *
 * A protocol error from the peer is not a failed call: the connection closes (its last output is a close
 * frame with the reason) and an RS_EVENT_CLOSED event says why. A call made in a role or state where it
 * makes no sense returns RS_ERR_STATE and changes nothing.
 *
 * Sessions are end-to-end encrypted between the end user and the agent (X25519, HKDF-SHA256,
 * AES-256-GCM): a broker relays records it cannot read. Both sides show the same six-digit short
 * authentication string (rs_conn_sas) unless someone sits in between.
 *
 * Thread-safety: one rs_conn is not thread-safe (one call at a time); distinct ones are independent. */
typedef struct rs_conn rs_conn;

#define RS_ROLE_END_USER 1
#define RS_ROLE_AGENT 2
#define RS_ROLE_BROKER 3

/* Access an end user grants an agent. */
#define RS_MODE_DECLINE 0      /* rs_conn_consent only: no */
#define RS_MODE_VIEW_ONLY 1
#define RS_MODE_CONTROL 2

/* Close and end reasons (PROTOCOL.md, "Close reasons"); a peer may send codes not listed here. */
#define RS_CLOSE_NORMAL 0
#define RS_CLOSE_ENDED_BY_END_USER 1
#define RS_CLOSE_ENDED_BY_AGENT 2
#define RS_CLOSE_PROTOCOL_ERROR 3
#define RS_CLOSE_UNSUPPORTED_VERSION 4
#define RS_CLOSE_TOO_LARGE 5
#define RS_CLOSE_TIMEOUT 6
#define RS_CLOSE_CRYPTO_FAILURE 7
#define RS_CLOSE_AUTHENTICATION_FAILED 8
#define RS_CLOSE_JOIN_REFUSED 9
#define RS_CLOSE_CONSENT_DECLINED 10
#define RS_CLOSE_EXPIRED 11
#define RS_CLOSE_RESUME_REFUSED 12
#define RS_CLOSE_RATE_LIMITED 13
#define RS_CLOSE_SHUTTING_DOWN 14
#define RS_CLOSE_PEER_LOST 15
#define RS_CLOSE_NOT_ALLOWED 16
#define RS_CLOSE_OVERLOADED 17
#define RS_CLOSE_INTERNAL_ERROR 18

/* Join methods for rs_conn_join. */
#define RS_JOIN_LINK 1            /* a personal or invitation link, as opened */
#define RS_JOIN_CONNECTION_ID 2   /* the 6 digits typed */

/* Event types. Which fields of rs_event are set is listed per type; the others are zero / NULL. */
#define RS_EVENT_JOINED 1            /* end user: waiting for an agent. session_id */
#define RS_EVENT_CONNECT_REQUESTED 2 /* end user: an agent asks; answer with rs_conn_consent. name, job_title,
                                        organisation (as the broker vouches for the agent), mode (asked for) */
#define RS_EVENT_AUTHENTICATED 3     /* agent: token accepted. agent_id, name, job_title, organisation */
#define RS_EVENT_LOBBY_SESSION 4     /* agent: a session waits (new or changed). session_id, name (end user's),
                                        machine, os, ticket, join_method, joined_at_ms */
#define RS_EVENT_LOBBY_SESSION_GONE 5 /* agent: left the lobby. session_id, reason */
#define RS_EVENT_CONNECT_REFUSED 6   /* agent: session_id, reason, text */
#define RS_EVENT_SESSION_STARTED 7   /* both: keys agreed. session_id, mode, text (the short authentication
                                        string, "123 456") */
#define RS_EVENT_PEER_VERIFIED 8     /* both: the peer's first record confirmed both keys */
#define RS_EVENT_SCREEN_INFO 9       /* agent: width, height, format; the screen was reset */
#define RS_EVENT_SCREEN_UPDATED 10   /* agent: rects / rect_count changed (read pixels with rs_conn_screen) */
#define RS_EVENT_CURSOR_SHAPE 11     /* agent: width, height, hot_x, hot_y, data (RGBA, width*height*4) */
#define RS_EVENT_CURSOR_POSITION 12  /* agent: x, y */
#define RS_EVENT_POINTER 13          /* end user: x, y, buttons (bit 0 left, 1 middle, 2 right, 3 back,
                                        4 forward), wheel_x, wheel_y (steps; positive: right / down) */
#define RS_EVENT_KEY 14              /* end user: keysym (X11), down */
#define RS_EVENT_CLIPBOARD 15        /* both: text */
#define RS_EVENT_CHAT 16             /* both: text */
#define RS_EVENT_ACCESS_CHANGED 17   /* agent: mode */
#define RS_EVENT_PAUSED 18           /* agent: down (1 paused, 0 sharing again) */
#define RS_EVENT_READY_FOR_FRAME 19  /* end user: room to send: call rs_conn_share_frame */
#define RS_EVENT_PEER_AWAY 20        /* both: the other side dropped. grace_seconds */
#define RS_EVENT_PEER_RESUMED 21     /* both: it came back */
#define RS_EVENT_RESUMED 22          /* both: our reconnect was accepted. session_id */
#define RS_EVENT_SESSION_ENDED 23    /* both: reason, text. An agent is back in the lobby */
#define RS_EVENT_CLOSED 24           /* all: reason, text, by_peer. Send the output left, close the transport */
/* Broker role only. */
#define RS_EVENT_HELLO 40            /* role (RS_ROLE_*), text (software) */
#define RS_EVENT_JOIN_REQUESTED 41   /* join_method ("link" / "connection-id"), text (link or code), name,
                                        machine, os: answer rs_conn_accept_join or rs_conn_close */
#define RS_EVENT_AUTHENTICATE_REQUESTED 42 /* text (token): rs_conn_accept_agent or rs_conn_close */
#define RS_EVENT_RESUME_REQUESTED 43 /* data (32-byte token): rs_conn_accept_resume or rs_conn_close */
#define RS_EVENT_CONNECT_REQUESTED_BY_AGENT 44 /* session_id, mode, data (32-byte agent key) */
#define RS_EVENT_CONSENT_ANSWERED 45 /* mode (RS_MODE_DECLINE or granted), data (32-byte end-user key) */
#define RS_EVENT_RECORD 46           /* data: a record to relay unread with rs_conn_relay on the other side */
#define RS_EVENT_SESSION_END_REQUESTED 47 /* reason, text */

/* One event. Every pointer in it is borrowed: valid until the next rs_conn_poll, rs_conn_receive or
 * rs_conn_free on the same connection; never free it. Text is NUL-terminated UTF-8 (the peer's text is
 * passed on as sent, capped: show it as text, never as markup). */
typedef struct rs_event {
    uint32_t struct_size;     /* sizeof(rs_event): set by RS_EVENT_INIT / rs_event_init */
    int32_t type;             /* RS_EVENT_* */
    int32_t reason;           /* RS_CLOSE_* */
    int32_t mode;             /* RS_MODE_* */
    int32_t by_peer;          /* 1: the peer closed, or the transport dropped (rs_conn_connection_lost:
                               * reason RS_CLOSE_PEER_LOST); 0: closed here (error, timeout, rs_conn_close) */
    int32_t role;             /* RS_ROLE_* */
    int32_t x;
    int32_t y;
    int32_t wheel_x;
    int32_t wheel_y;
    uint32_t buttons;
    uint32_t keysym;
    int32_t down;
    int32_t hot_x;
    int32_t hot_y;
    uint32_t width;
    uint32_t height;
    uint32_t grace_seconds;
    int64_t joined_at_ms;     /* milliseconds since 1970 */
    rs_pixel_format format;
    const char *RS_NULLABLE session_id;   /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
    const char *RS_NULLABLE text;
    const char *RS_NULLABLE name;
    const char *RS_NULLABLE machine;
    const char *RS_NULLABLE os;
    const char *RS_NULLABLE ticket;
    const char *RS_NULLABLE join_method;
    const char *RS_NULLABLE agent_id;
    const char *RS_NULLABLE job_title;
    const char *RS_NULLABLE organisation;
    const uint8_t *RS_NULLABLE data;
    size_t data_length;
    const rs_rect *RS_NULLABLE rects;
    size_t rect_count;
} rs_event;

#define RS_EVENT_INIT { sizeof(rs_event), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0, 0, 0 } }, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
    NULL, 0, NULL, 0 }

/* Sets *out_event to RS_EVENT_INIT. Returns RS_OK or RS_ERR_NULL_POINTER (rs_last_error()). */
int rs_event_init(rs_event *RS_NONNULL out_event);

typedef struct rs_conn_options {
    uint32_t struct_size;          /* sizeof(rs_conn_options): set by RS_CONN_OPTIONS_INIT / _init */
    uint32_t handshake_timeout_ms; /* the peer's hello (and, at a broker, its join/authenticate/resume)
                                      must arrive within this; default 10000 */
    uint32_t keepalive_interval_ms; /* ping after this long with nothing received; default 15000 */
    uint32_t keepalive_timeout_ms; /* close with RS_CLOSE_TIMEOUT after this long; default 45000 */
    uint32_t record_payload_size;  /* session messages are split into records of this many bytes
                                      (1024 ... 65536); default 32768 */
    uint32_t update_window;        /* end user: screen updates in flight before waiting for the viewer's
                                      acknowledgement (1 ... 64); default 2 */
    int32_t compression_level;     /* end user: zlib level for photo-like updates, 0 ... 9; default 6 */
    int32_t threads;               /* end user: encoder threads as rs_encoder_options; default 1 */
} rs_conn_options;

#define RS_CONN_OPTIONS_INIT { sizeof(rs_conn_options), 10000, 15000, 45000, 32768, 2, 6, 1 }

/* Sets *out_options to RS_CONN_OPTIONS_INIT. Returns RS_OK or RS_ERR_NULL_POINTER (rs_last_error()). */
int rs_conn_options_init(rs_conn_options *RS_NONNULL out_options);

/* Creates a connection for role (RS_ROLE_*), started at now_ms: its hello is the first output.
 * options may be NULL (the defaults). On success *out_conn is a connection the caller owns: free it with
 * rs_conn_free. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (role, options).
 * Errors go to rs_last_error(). Thread-safe. */
int rs_conn_new(int role, const rs_conn_options *RS_NULLABLE options, uint64_t now_ms, rs_conn *RS_NULLABLE *RS_NONNULL out_conn);

/* Frees the connection. NULL is fine; must not be called twice. */
void rs_conn_free(rs_conn *RS_NULLABLE conn);

/* The message of the last failed call on this connection ("" after one that succeeded). Never NULL;
 * owned by the connection, valid until the next call on it; never free it. */
const char *RS_NONNULL rs_conn_errmsg(rs_conn *RS_NULLABLE conn);

/* The role the connection was made for (RS_ROLE_*), or 0 for NULL. */
int rs_conn_role(rs_conn *RS_NULLABLE conn);

/* Feeds length bytes received from the transport (data may be NULL when length is 0).
 * Returns RS_OK (also when the bytes broke the protocol: see RS_EVENT_CLOSED); RS_ERR_NULL_POINTER. */
int rs_conn_receive(rs_conn *RS_NONNULL conn, const uint8_t *RS_NULLABLE data, size_t length, uint64_t now_ms);

/* Writes the next event to *out_event (struct_size set by the caller) and returns RS_OK, or returns
 * RS_NO_EVENT when none is pending. Returns RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (struct_size). */
int rs_conn_poll(rs_conn *RS_NONNULL conn, rs_event *RS_NONNULL out_event);

/* Hands out the bytes to send, in order (*out_length 0 when there is nothing). The bytes belong to the
 * connection: valid until the next call on it; send or copy them before. */
int rs_conn_take_output(rs_conn *RS_NONNULL conn, const uint8_t *RS_NULLABLE *RS_NONNULL out_data,
                        size_t *RS_NONNULL out_length);

/* Handles deadlines at now_ms (pings, timeouts). Returns RS_OK; RS_ERR_NULL_POINTER. */
int rs_conn_tick(rs_conn *RS_NONNULL conn, uint64_t now_ms);

/* Sets *out_ms to when rs_conn_tick must run next and returns RS_OK, or returns RS_NO_DEADLINE when no
 * deadline is pending (the connection is closed). Returns RS_ERR_NULL_POINTER. */
int rs_conn_next_wakeup(rs_conn *RS_NONNULL conn, uint64_t *RS_NONNULL out_ms);

/* Closes with a reason (RS_CLOSE_*) and a message for the peer (may be NULL); the close frame is the last
 * output. A broker refuses a join, token or resume this way. Returns RS_OK; RS_ERR_NULL_POINTER. */
int rs_conn_close(rs_conn *RS_NONNULL conn, int reason, const char *RS_NULLABLE message);

/* End user / agent: the transport dropped. *out_can_resume is 1 when rs_conn_reconnect may bring the
 * session back (within the broker's grace period), 0 when it is over. A broker connection: the peer is
 * gone (*out_can_resume 0). Queues RS_EVENT_CLOSED (RS_CLOSE_PEER_LOST, by_peer 1) if the connection was
 * open. The connection object lives on: after rs_conn_reconnect it shares, views and sends again, so a host
 * must not treat that RS_EVENT_CLOSED as the end of the session while *out_can_resume is 1.
 * Returns RS_OK; RS_ERR_NULL_POINTER. */
int rs_conn_connection_lost(rs_conn *RS_NONNULL conn, uint64_t now_ms, int *RS_NONNULL out_can_resume);

/* End user / agent, after RS_EVENT_CLOSED or rs_conn_connection_lost: start over on a new transport (a
 * hello, then a resume with the session's token, or an agent's token again). Returns RS_OK;
 * RS_ERR_NULL_POINTER; RS_ERR_STATE (still open, or nothing to resume). */
int rs_conn_reconnect(rs_conn *RS_NONNULL conn, uint64_t now_ms);

/* The session's short authentication string ("123 456"), once keys are agreed. *out_text is borrowed
 * until the next call on conn. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_STATE (no session). */
int rs_conn_sas(rs_conn *RS_NONNULL conn, const char *RS_NULLABLE *RS_NONNULL out_text);

/* -- End user -- */

/* Joins with method RS_JOIN_LINK (credential: the link) or RS_JOIN_CONNECTION_ID (the digits), and the
 * end user's name (may be ""), machine name and operating system. Returns RS_OK; RS_ERR_NULL_POINTER;
 * RS_ERR_INVALID_ARGUMENT (method, text); RS_ERR_STATE. */
int rs_conn_join(rs_conn *RS_NONNULL conn, int method, const char *RS_NONNULL credential, const char *RS_NONNULL name,
                 const char *RS_NONNULL machine, const char *RS_NONNULL os);

/* Answers RS_EVENT_CONNECT_REQUESTED: RS_MODE_DECLINE, RS_MODE_VIEW_ONLY or RS_MODE_CONTROL.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (mode); RS_ERR_STATE. */
int rs_conn_consent(rs_conn *RS_NONNULL conn, int mode);

/* Shares the current screen: height rows of width pixels in format, rows stride bytes apart, length
 * bytes readable at pixels (borrowed for the call). Only what changed since the last frame the viewer has
 * is encoded. *out_sent is 1 if an update was queued, 0 if not (no room: wait for
 * RS_EVENT_READY_FOR_FRAME; or nothing changed). A new size or format resets the viewer.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT / RS_ERR_UNSUPPORTED_FORMAT (frame);
 * RS_ERR_STATE (no session). */
int rs_conn_share_frame(rs_conn *RS_NONNULL conn, const uint8_t *RS_NONNULL pixels, size_t length, uint32_t width,
                        uint32_t height, size_t stride, const rs_pixel_format *RS_NONNULL format, int *RS_NONNULL out_sent);

/* The pointer's position, and its image (RGBA 8-bit, width*height*4 bytes, at most 256x256, hot spot
 * inside). Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT; RS_ERR_STATE. */
int rs_conn_send_cursor_position(rs_conn *RS_NONNULL conn, uint32_t x, uint32_t y);
int rs_conn_send_cursor_shape(rs_conn *RS_NONNULL conn, uint32_t hot_x, uint32_t hot_y, uint32_t width, uint32_t height,
                              const uint8_t *RS_NULLABLE rgba, size_t length);

/* Grants (RS_MODE_CONTROL) or takes back (RS_MODE_VIEW_ONLY) control; pauses (1) or resumes (0) sharing.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT; RS_ERR_STATE. */
int rs_conn_set_access(rs_conn *RS_NONNULL conn, int mode);
int rs_conn_set_paused(rs_conn *RS_NONNULL conn, int paused);

/* -- Agent -- */

/* Authenticates with a token from the broker's login. Returns RS_OK; RS_ERR_NULL_POINTER;
 * RS_ERR_INVALID_ARGUMENT; RS_ERR_STATE. */
int rs_conn_authenticate(rs_conn *RS_NONNULL conn, const char *RS_NONNULL token);

/* Connects to a waiting session (its session_id from RS_EVENT_LOBBY_SESSION), asking for mode.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT; RS_ERR_STATE. */
int rs_conn_connect(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, int mode);

/* Input for the end user's machine. *out_sent is 0 when input is not allowed now (view only, paused, the
 * end user away). Pointer motion not yet taken by rs_conn_take_output is replaced by newer motion.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_STATE (no session). */
int rs_conn_send_pointer(rs_conn *RS_NONNULL conn, int32_t x, int32_t y, uint32_t buttons, int32_t wheel_x,
                         int32_t wheel_y, int *RS_NONNULL out_sent);
int rs_conn_send_key(rs_conn *RS_NONNULL conn, uint32_t keysym, int down, int *RS_NONNULL out_sent);

/* Asks for the whole screen again. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_STATE. */
int rs_conn_request_refresh(rs_conn *RS_NONNULL conn);

/* The end user's screen as decoded: *out_pixels (borrowed: valid until the next call on conn), its size,
 * row stride and format. Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_STATE (no screen yet). */
int rs_conn_screen(rs_conn *RS_NONNULL conn, const uint8_t *RS_NULLABLE *RS_NONNULL out_pixels, uint32_t *RS_NONNULL out_width,
                   uint32_t *RS_NONNULL out_height, size_t *RS_NONNULL out_stride, rs_pixel_format *RS_NONNULL out_format);

/* -- End user and agent -- */

/* Clipboard text (at most 1 MiB) and chat lines (at most 4 KiB) for the peer.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT (text); RS_ERR_STATE. */
int rs_conn_send_clipboard(rs_conn *RS_NONNULL conn, const char *RS_NONNULL text);
int rs_conn_send_chat(rs_conn *RS_NONNULL conn, const char *RS_NONNULL text);

/* Ends the session with a reason (RS_CLOSE_ENDED_BY_END_USER / _AGENT, ...) the peer gets end to end, and
 * a message (may be NULL). An end user's connection closes; an agent stays in the lobby.
 * Returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_STATE. */
int rs_conn_end_session(rs_conn *RS_NONNULL conn, int reason, const char *RS_NULLABLE message);

/* -- Broker (RS_ROLE_BROKER): answers to its events. Session IDs are UUID text; tokens and keys are
 * 32 bytes. Each returns RS_OK; RS_ERR_NULL_POINTER; RS_ERR_INVALID_ARGUMENT; RS_ERR_STATE. -- */

/* The end user is waiting in session_id; resume_token (32 random bytes the broker keeps) brings a dropped
 * connection back within grace_seconds; the session waits at most wait_seconds. */
int rs_conn_accept_join(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, const uint8_t *RS_NONNULL resume_token,
                        uint32_t grace_seconds, uint32_t wait_seconds);
int rs_conn_accept_agent(rs_conn *RS_NONNULL conn, const char *RS_NONNULL agent_id, const char *RS_NONNULL name,
                         const char *RS_NONNULL job_title, const char *RS_NONNULL organisation);
/* Back into session_id: connected (1) at epoch, or not connected (0: waiting / lobby, epoch 0). */
int rs_conn_accept_resume(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, uint32_t epoch, int connected);
int rs_conn_send_lobby(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, const char *RS_NONNULL name,
                       const char *RS_NONNULL machine, const char *RS_NONNULL os, const char *RS_NONNULL ticket,
                       const char *RS_NONNULL join_method, int64_t joined_at_ms);
int rs_conn_send_lobby_gone(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, int reason);
/* To the end user: the agent (as vouched for) asks for mode with agent_key. */
int rs_conn_request_consent(rs_conn *RS_NONNULL conn, const char *RS_NONNULL name, const char *RS_NONNULL job_title,
                            const char *RS_NONNULL organisation, int mode, const uint8_t *RS_NONNULL agent_key);
/* On the end user's connection, once its consent was passed to the agent: records may flow. */
int rs_conn_session_connected(rs_conn *RS_NONNULL conn);
/* To the agent: the end user accepted with mode and end_user_key; resume_token is the agent's. */
int rs_conn_send_connected(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, int mode,
                           const uint8_t *RS_NONNULL end_user_key, const uint8_t *RS_NONNULL resume_token,
                           uint32_t grace_seconds);
int rs_conn_refuse_connect(rs_conn *RS_NONNULL conn, const char *RS_NONNULL session_id, int reason,
                           const char *RS_NULLABLE message);
/* Relays a record (the data of an RS_EVENT_RECORD from the other side), unread. */
int rs_conn_relay(rs_conn *RS_NONNULL conn, const uint8_t *RS_NONNULL record, size_t length);
int rs_conn_send_peer_away(rs_conn *RS_NONNULL conn, uint32_t grace_seconds);
int rs_conn_send_peer_resumed(rs_conn *RS_NONNULL conn, uint32_t epoch);
int rs_conn_send_session_ended(rs_conn *RS_NONNULL conn, int reason, const char *RS_NULLABLE message);

#ifdef __cplusplus
} /* extern "C" */
#endif

#ifdef RS_NULLABILITY_PUSHED
#undef RS_NULLABILITY_PUSHED
#pragma clang diagnostic pop
#endif

#endif /* REMOTESUPPORT_H */
