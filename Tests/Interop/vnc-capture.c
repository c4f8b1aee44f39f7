/*
 * vnc-capture: an RFB client built on libvncclient (LibVNCServer 0.9.14), used as
 * the independent reference decoder for our ZRLE encoder / rs-serve-frames.
 *
 *   vnc-capture --port PORT [--host 127.0.0.1] [--format 32|16|8]
 *               [--encodings "zrle"] [--updates N | --seconds S] [--full] [--out-dir DIR]
 *               [--frame-out FILE] [--timeout-ms MS] [--verbose]
 *
 * Protocol behaviour (deliberately stricter than a stock libvncclient viewer):
 *
 *  - SetEncodings lists EXACTLY the encodings named in --encodings, in that order,
 *    nothing else. Stock libvncclient (rfbproto.c SetFormatAndEncodings) always
 *    appends KeyboardLedState, ExtDesktopSize, SupportedMessages,
 *    SupportedEncodings, ServerIdentity, Xvp and QemuExtendedKeyEvent (plus
 *    NewFBSize / cursor pseudo-encodings when enabled), and silently drops unknown
 *    names (an empty token, e.g. from "zrle  copyrect", even turns into "raw").
 *    We therefore suppress libvncclient's own SetEncodings and send ours.
 *
 *  - Exactly one FramebufferUpdateRequest is outstanding at a time and update i
 *    answers request i. Stock libvncclient sends a non-incremental request from
 *    rfbInitClient() and then, inside HandleRFBServerMessage(), an *incremental*
 *    request after every FramebufferUpdate (before FinishedFrameBufferUpdate is
 *    called). Both go through SendFramebufferUpdateRequest(), which is a no-op when
 *    the rfbFramebufferUpdateRequest bit in client->supportedMessages is clear.
 *    We clear that bit (and the SetEncodings bit) from the MallocFrameBuffer hook,
 *    which rfbInitClient calls after the handshake and before it sends SetEncodings
 *    and the first request; then we write our own requests with WriteToRFBServer().
 *    Only a SupportedMessages pseudo-rect could set the bits again; we never ask
 *    for it, and we check the bits after every update anyway.
 *
 *  - Request 0 is non-incremental for the whole screen; the following ones are
 *    incremental for the whole screen, or non-incremental with --full.
 *
 * Output: one JSON line per update on stdout
 *   {"update":i,"ms":..,"bytes":..,"rects":..,"encodings":{"zrle":k,...}}
 * then {"total_ms":..,"total_bytes":..,"updates":N,"wall_ms":..}.
 *   ms    = request written to the socket -> last rectangle decoded
 *           (FinishedFrameBufferUpdate); PPM writing is not included.
 *   bytes = TCP_INFO tcpi_bytes_received delta on the socket between sending the
 *           request and the end of the update: the whole FramebufferUpdate message
 *           (header, rectangle headers, payload). Exact, because nothing else is in
 *           flight while the single request is outstanding.
 *   rects = number of pixel rectangles (pseudo-encoding rectangles not counted).
 *   encodings = rectangles by encoding, read back from the rectangle header that
 *           libvncclient has just consumed from its input buffer (validated against
 *           x,y,w,h; CopyRect also via the GotCopyRect hook). "unknown" when the
 *           header straddled a buffer refill so that its encoding bytes are gone
 *           (rare: about 3 in 8192 rectangles).
 *   total_ms = sum of the per-update ms; wall_ms = first request -> last update.
 *
 * With --out-dir, DIR/update-NNN.ppm is written after each update: binary P6,
 * maxval 255, whose channel values are the RAW channel values of each client
 * pixel: r = (pixel >> redShift) & redMax (32-bit: 0..255; 16-bit RGB565:
 * 0..31/0..63/0..31; 8-bit BGR233: 0..7/0..7/0..3). Pixels are read in the
 * client pixel format's byte order (bigEndian flag), independent of the host's.
 *
 * With --frame-out FILE, the whole framebuffer is written to FILE after each update
 * (the same P6 as --out-dir), atomically: FILE.tmp, then rename. A reader polling
 * FILE always sees a complete frame: the latest one (the desktop benchmark reads
 * its marker pixel from it, Benchmarks/Desktop/glass_to_glass.py).
 *
 * With --seconds S (instead of --updates N) it keeps asking for updates for S
 * seconds after connecting, then stops without waiting for an outstanding answer
 * (an idle screen never answers an incremental request) and exits 0; the total
 * line counts the updates received. Still one request outstanding at a time, but,
 * as a stock libvncclient viewer does, the next request goes out as soon as an
 * update is decoded, before the PPM files are written. --timeout-ms is then the
 * limit on top of S.
 *
 * Exit status: 0 ok; 1 usage; 2 connection/handshake failure; 3 timeout;
 * 4 protocol or decode error (including errors libvncclient only logs, e.g. its
 * ZRLE decoder logs "ZRLE decoding failed" and carries on); 5 I/O error.
 */
#define _GNU_SOURCE
#include <rfb/rfbclient.h>

#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received (glibc's lacks it) */
#include <netinet/in.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 1
#define EXIT_CONNECT 2
#define EXIT_TIMEOUT 3
#define EXIT_DECODE 4
#define EXIT_IO 5

#define MAX_ENC 64

/* ------------------------------------------------------------------ options */

static int opt_port = -1;
static const char *opt_host = "127.0.0.1";
static int opt_format = 32;
static const char *opt_encodings = "zrle";
static int opt_updates = 1;
static double opt_seconds = 0; /* > 0: run for this long instead of --updates */
static const char *opt_frame_out = NULL;
static int opt_full = 0;
static const char *opt_out_dir = NULL;
static long opt_timeout_ms = 30000;
static int opt_verbose = 0;

/* ------------------------------------------------------------ encoding names */

struct enc_name {
    const char *name;
    int32_t value;
    int pseudo;
};

static const struct enc_name ENC_NAMES[] = {
    {"raw", rfbEncodingRaw, 0},
    {"copyrect", rfbEncodingCopyRect, 0},
    {"rre", rfbEncodingRRE, 0},
    {"corre", rfbEncodingCoRRE, 0},
    {"hextile", rfbEncodingHextile, 0},
    {"zlib", rfbEncodingZlib, 0},
    {"tight", rfbEncodingTight, 0},
    {"zlibhex", rfbEncodingZlibHex, 0},
    {"ultra", rfbEncodingUltra, 0},
    {"trle", rfbEncodingTRLE, 0},
    {"zrle", rfbEncodingZRLE, 0},
    {"zywrle", rfbEncodingZYWRLE, 0},
    {"lastrect", (int32_t)rfbEncodingLastRect, 1},
    {"desktopsize", (int32_t)rfbEncodingNewFBSize, 1},
    {"extdesktopsize", (int32_t)rfbEncodingExtDesktopSize, 1},
};
#define N_ENC_NAMES (sizeof(ENC_NAMES) / sizeof(ENC_NAMES[0]))

static int32_t enc_list[MAX_ENC];
static int n_enc = 0;

static const char *enc_label(int32_t v, char *buf, size_t n)
{
    for (size_t i = 0; i < N_ENC_NAMES; i++)
        if (ENC_NAMES[i].value == v)
            return ENC_NAMES[i].name;
    snprintf(buf, n, "%d", (int)v);
    return buf;
}

/* Parse "zrle copyrect" (space/comma separated; names or signed integers). */
static int parse_encodings(const char *s)
{
    char *copy = strdup(s), *save = NULL;
    int ok = 1;
    for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        int32_t v = 0;
        int found = 0;
        for (size_t i = 0; i < N_ENC_NAMES; i++) {
            if (strcasecmp(tok, ENC_NAMES[i].name) == 0) {
                v = ENC_NAMES[i].value;
                found = 1;
                break;
            }
        }
        if (!found) {
            char *end = NULL;
            long l = strtol(tok, &end, 0);
            if (end && *end == '\0' && end != tok) {
                v = (int32_t)l;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "vnc-capture: unknown encoding '%s'\n", tok);
            ok = 0;
            break;
        }
        if (n_enc >= MAX_ENC) {
            fprintf(stderr, "vnc-capture: too many encodings\n");
            ok = 0;
            break;
        }
        enc_list[n_enc++] = v;
    }
    free(copy);
    if (ok && n_enc == 0) {
        fprintf(stderr, "vnc-capture: --encodings is empty\n");
        ok = 0;
    }
    return ok;
}

static int enc_requested(int32_t v)
{
    for (int i = 0; i < n_enc; i++)
        if (enc_list[i] == v)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- time/misc */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double deadline_ms;

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "vnc-capture: timeout (--timeout-ms exceeded)\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    _exit(EXIT_TIMEOUT);
}

static int decode_error = 0;
static char decode_error_msg[512];

/* libvncclient reports several decoder failures only through its log function
 * (e.g. zrle.c: "ZRLE decoding failed (%d)" and then returns TRUE). Catch them. */
static void scan_log(const char *line)
{
    static const char *const bad[] = {
        "decoding failed", "corruption", "inflate", "Rect too large", "Unknown rect encoding",
        "expected ", "Unknown message type", "too many scan lines", "out of space", "needs a dictionary",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strstr(line, bad[i])) {
            if (!decode_error) {
                decode_error = 1;
                snprintf(decode_error_msg, sizeof(decode_error_msg), "%s", line);
            }
            break;
        }
    }
}

static void log_common(const char *fmt, va_list ap, int is_err)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
        buf[--l] = 0;
    scan_log(buf);
    if (opt_verbose || is_err)
        fprintf(stderr, "libvncclient: %s\n", buf);
}

static void my_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_common(fmt, ap, 0);
    va_end(ap);
}

static void my_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_common(fmt, ap, 1);
    va_end(ap);
}

static int64_t tcp_bytes_received(int sock)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -1;
    if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
        return -1;
    return (int64_t)ti.tcpi_bytes_received;
}

/* ------------------------------------------------------------ update state */

static MallocFrameBufferProc orig_malloc_fb;
static GotCopyRectProc orig_copy_rect;

static volatile int update_done = 0;
static double update_done_ms = 0;
static int rect_count = 0;

/* per-encoding counters for the current update */
#define MAX_SEEN 32
static int32_t seen_enc[MAX_SEEN];
static int seen_cnt[MAX_SEEN];
static int n_seen = 0;
static int unknown_enc_rects = 0;
static int pending_valid = 0; /* a rectangle header was identified for the current rect */
static int32_t pending_enc = 0;
static int unrequested_enc = 0;
static int32_t unrequested_value = 0;

static void clear_c2s_bit(rfbClient *c, int type)
{
    c->supportedMessages.client2server[(type & 0xFF) / 8] &= (uint8_t)~(1u << (type % 8));
}

static int c2s_bit(rfbClient *c, int type)
{
    return (c->supportedMessages.client2server[(type & 0xFF) / 8] >> (type % 8)) & 1;
}

static rfbBool my_malloc_fb(rfbClient *c)
{
    rfbBool ok = orig_malloc_fb(c);
    /* Called by rfbInitClient after the handshake, before SetFormatAndEncodings and
     * the initial request: from now on libvncclient's own SetEncodings and
     * FramebufferUpdateRequest messages are no-ops; we send ours. */
    clear_c2s_bit(c, rfbSetEncodings);
    clear_c2s_bit(c, rfbFramebufferUpdateRequest);
    return ok;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SoftCursorLockArea is called right after the 12-byte rectangle header has been
 * read with ReadFromRFBServer (for every pixel rectangle but UltraZip). When that
 * header came out of libvncclient's read buffer in one piece it sits just before
 * client->bufoutptr; we read the encoding from there and validate x,y,w,h. For
 * CopyRect it is called a second time (source area): ignored via pending_valid. */
static void my_lock_area(rfbClient *c, int x, int y, int w, int h)
{
    if (pending_valid)
        return;
    /* k = how many of the header's 12 bytes are still in the buffer: all 12, unless
     * the header straddled a buffer refill, in which case only its tail is (the
     * refill starts at client->buf). The encoding is the last 4 bytes. */
    ptrdiff_t k = c->bufoutptr - c->buf;
    if (k > 12)
        k = 12;
    if (k < 4)
        return; /* encoding bytes not recoverable: counted as "unknown" */
    const uint8_t *p = (const uint8_t *)c->bufoutptr - k; /* header byte 12-k */
    const uint8_t expect[8] = {(uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8), (uint8_t)y,
                               (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)(h >> 8), (uint8_t)h};
    for (ptrdiff_t i = 12 - k; i < 8; i++)
        if (p[i - (12 - k)] != expect[i])
            return;
    pending_enc = (int32_t)be32((const uint8_t *)c->bufoutptr - 4);
    pending_valid = 1;
}

static void my_copy_rect(rfbClient *c, int sx, int sy, int w, int h, int dx, int dy)
{
    pending_enc = rfbEncodingCopyRect;
    pending_valid = 1;
    orig_copy_rect(c, sx, sy, w, h, dx, dy);
}

static void count_enc(int32_t e)
{
    for (int i = 0; i < n_seen; i++) {
        if (seen_enc[i] == e) {
            seen_cnt[i]++;
            return;
        }
    }
    if (n_seen < MAX_SEEN) {
        seen_enc[n_seen] = e;
        seen_cnt[n_seen++] = 1;
    }
}

static void my_got_update(rfbClient *c, int x, int y, int w, int h)
{
    (void)c; (void)x; (void)y; (void)w; (void)h;
    rect_count++;
    if (pending_valid) {
        count_enc(pending_enc);
        if (!enc_requested(pending_enc) && !unrequested_enc) {
            unrequested_enc = 1;
            unrequested_value = pending_enc;
        }
    } else {
        unknown_enc_rects++;
    }
    pending_valid = 0;
}

static void my_finished(rfbClient *c)
{
    (void)c;
    update_done_ms = now_ms();
    update_done = 1;
}

static void reset_update_counters(void)
{
    update_done = 0;
    rect_count = 0;
    n_seen = 0;
    unknown_enc_rects = 0;
    pending_valid = 0;
}

/* ----------------------------------------------------------- protocol out */

static int send_set_encodings(rfbClient *c)
{
    char buf[sz_rfbSetEncodingsMsg + 4 * MAX_ENC];
    rfbSetEncodingsMsg se;
    se.type = rfbSetEncodings;
    se.pad = 0;
    se.nEncodings = htons((uint16_t)n_enc);
    memcpy(buf, &se, sz_rfbSetEncodingsMsg);
    for (int i = 0; i < n_enc; i++) {
        uint32_t v = htonl((uint32_t)enc_list[i]);
        memcpy(buf + sz_rfbSetEncodingsMsg + 4 * i, &v, 4);
    }
    return WriteToRFBServer(c, buf, sz_rfbSetEncodingsMsg + 4 * n_enc);
}

static int send_fbur(rfbClient *c, int incremental)
{
    rfbFramebufferUpdateRequestMsg fur;
    fur.type = rfbFramebufferUpdateRequest;
    fur.incremental = incremental ? 1 : 0;
    fur.x = htons(0);
    fur.y = htons(0);
    fur.w = htons((uint16_t)c->width);
    fur.h = htons((uint16_t)c->height);
    return WriteToRFBServer(c, (char *)&fur, sz_rfbFramebufferUpdateRequestMsg);
}

/* ------------------------------------------------------------------ PPM out */

static int write_ppm(rfbClient *c, const char *path)
{
    const rfbPixelFormat *f = &c->format;
    int bpp = f->bitsPerPixel / 8;
    int w = c->width, h = c->height;
    size_t n = (size_t)w * h;
    uint8_t *rgb = malloc(n * 3);
    if (!rgb)
        return 0;
    const uint8_t *src = c->frameBuffer;
    for (size_t i = 0; i < n; i++, src += bpp) {
        uint32_t p;
        switch (bpp) {
        case 4:
            p = f->bigEndian ? ((uint32_t)src[0] << 24 | (uint32_t)src[1] << 16 | (uint32_t)src[2] << 8 | src[3])
                             : ((uint32_t)src[3] << 24 | (uint32_t)src[2] << 16 | (uint32_t)src[1] << 8 | src[0]);
            break;
        case 2:
            p = f->bigEndian ? (uint32_t)(src[0] << 8 | src[1]) : (uint32_t)(src[1] << 8 | src[0]);
            break;
        default:
            p = src[0];
            break;
        }
        rgb[3 * i + 0] = (uint8_t)((p >> f->redShift) & f->redMax);
        rgb[3 * i + 1] = (uint8_t)((p >> f->greenShift) & f->greenMax);
        rgb[3 * i + 2] = (uint8_t)((p >> f->blueShift) & f->blueMax);
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    int ok = 0;
    if (fp) {
        ok = fprintf(fp, "P6\n%d %d\n255\n", w, h) > 0 && fwrite(rgb, 3, n, fp) == n;
        ok = (fclose(fp) == 0) && ok;
        if (ok)
            ok = rename(tmp, path) == 0;
        else
            unlink(tmp);
    }
    free(rgb);
    return ok;
}

/* ------------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr,
            "usage: vnc-capture --port PORT [--host 127.0.0.1] [--format 32|16|8]\n"
            "                   [--encodings \"zrle\"] [--updates N | --seconds S] [--full] [--out-dir DIR]\n"
            "                   [--frame-out FILE] [--timeout-ms MS] [--verbose]\n"
            "  --format     32: 32bpp depth 24 LE, r<<16 g<<8 b (max 255)\n"
            "               16: 16bpp RGB565 LE (r<<11 g<<5 b)\n"
            "                8: 8bpp BGR233 (r: max 7 shift 0, g: max 7 shift 3, b: max 3 shift 6)\n"
            "  --encodings  names (raw copyrect rre corre hextile zlib zlibhex tight trle zrle\n"
            "               zywrle ultra lastrect desktopsize extdesktopsize) or integers,\n"
            "               space or comma separated; sent exactly, in this order\n"
            "  --updates    number of framebuffer updates to receive (default 1)\n"
            "  --seconds    instead: keep receiving updates for S seconds, then exit 0\n"
            "  --full       every request non-incremental (default: only the first)\n"
            "  --out-dir    write DIR/update-NNN.ppm (raw channel values) after each update\n"
            "  --frame-out  write FILE (same format, via FILE.tmp + rename) after each update\n"
            "  --timeout-ms total time limit (default 30000; with --seconds, on top of S)\n");
}

static int parse_int(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s)
        return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
#define NEED_ARG()                                                                    \
    do {                                                                              \
        if (i + 1 >= argc) {                                                          \
            fprintf(stderr, "vnc-capture: %s needs an argument\n", a);               \
            return EXIT_USAGE;                                                        \
        }                                                                             \
    } while (0)
        if (!strcmp(a, "--port")) {
            NEED_ARG();
            if (!parse_int(argv[++i], &v) || v <= 0 || v > 65535) {
                fprintf(stderr, "vnc-capture: bad --port\n");
                return EXIT_USAGE;
            }
            opt_port = (int)v;
        } else if (!strcmp(a, "--host")) {
            NEED_ARG();
            opt_host = argv[++i];
        } else if (!strcmp(a, "--format")) {
            NEED_ARG();
            if (!parse_int(argv[++i], &v) || (v != 32 && v != 16 && v != 8)) {
                fprintf(stderr, "vnc-capture: --format must be 32, 16 or 8\n");
                return EXIT_USAGE;
            }
            opt_format = (int)v;
        } else if (!strcmp(a, "--encodings")) {
            NEED_ARG();
            opt_encodings = argv[++i];
        } else if (!strcmp(a, "--updates")) {
            NEED_ARG();
            if (!parse_int(argv[++i], &v) || v < 1 || v > 100000) {
                fprintf(stderr, "vnc-capture: bad --updates\n");
                return EXIT_USAGE;
            }
            opt_updates = (int)v;
        } else if (!strcmp(a, "--seconds")) {
            NEED_ARG();
            char *end = NULL;
            errno = 0;
            double d = strtod(argv[++i], &end);
            if (errno || !end || *end || d <= 0 || d > 86400) {
                fprintf(stderr, "vnc-capture: bad --seconds\n");
                return EXIT_USAGE;
            }
            opt_seconds = d;
        } else if (!strcmp(a, "--frame-out")) {
            NEED_ARG();
            opt_frame_out = argv[++i];
        } else if (!strcmp(a, "--full")) {
            opt_full = 1;
        } else if (!strcmp(a, "--out-dir")) {
            NEED_ARG();
            opt_out_dir = argv[++i];
        } else if (!strcmp(a, "--timeout-ms")) {
            NEED_ARG();
            if (!parse_int(argv[++i], &v) || v <= 0) {
                fprintf(stderr, "vnc-capture: bad --timeout-ms\n");
                return EXIT_USAGE;
            }
            opt_timeout_ms = v;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            opt_verbose = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "vnc-capture: unknown argument '%s'\n", a);
            usage();
            return EXIT_USAGE;
        }
    }
    if (opt_port < 0) {
        fprintf(stderr, "vnc-capture: --port is required\n");
        usage();
        return EXIT_USAGE;
    }
    if (!parse_encodings(opt_encodings))
        return EXIT_USAGE;
    if (opt_out_dir && mkdir(opt_out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vnc-capture: cannot create %s: %s\n", opt_out_dir, strerror(errno));
        return EXIT_IO;
    }

    signal(SIGPIPE, SIG_IGN);
    /* hard total deadline, also covers blocking inside libvncclient */
    signal(SIGALRM, on_alarm);
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    long alarm_ms = opt_timeout_ms + (long)(opt_seconds * 1000) + 250; /* backstop; the main loop checks the deadline itself */
    it.it_value.tv_sec = alarm_ms / 1000;
    it.it_value.tv_usec = (alarm_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
    double end_ms = now_ms() + opt_seconds * 1000; /* --seconds: stop asking at this time */
    deadline_ms = end_ms + (double)opt_timeout_ms;

    rfbClientLog = my_log;
    rfbClientErr = my_err;

    rfbClient *c;
    switch (opt_format) {
    case 32: c = rfbGetClient(8, 3, 4); break;
    case 16: c = rfbGetClient(5, 3, 2); break;
    default: c = rfbGetClient(2, 3, 1); break;
    }
    if (!c) {
        fprintf(stderr, "vnc-capture: rfbGetClient failed\n");
        return EXIT_CONNECT;
    }
    rfbPixelFormat *f = &c->format;
    memset(f, 0, sizeof(*f));
    f->trueColour = 1;
    f->bigEndian = 0;
    switch (opt_format) {
    case 32:
        f->bitsPerPixel = 32; f->depth = 24;
        f->redMax = 255; f->greenMax = 255; f->blueMax = 255;
        f->redShift = 16; f->greenShift = 8; f->blueShift = 0;
        break;
    case 16:
        f->bitsPerPixel = 16; f->depth = 16;
        f->redMax = 31; f->greenMax = 63; f->blueMax = 31;
        f->redShift = 11; f->greenShift = 5; f->blueShift = 0;
        break;
    default:
        f->bitsPerPixel = 8; f->depth = 8;
        f->redMax = 7; f->greenMax = 7; f->blueMax = 3;
        f->redShift = 0; f->greenShift = 3; f->blueShift = 6;
        break;
    }
    c->appData.requestedDepth = f->depth;
    c->appData.encodingsString = opt_encodings; /* informational: libvncclient's SetEncodings is suppressed */
    c->appData.useRemoteCursor = FALSE;
    c->appData.shareDesktop = TRUE;
    c->canHandleNewFBSize = FALSE;
    c->serverHost = strdup(opt_host);
    c->serverPort = opt_port;
    c->connectTimeout = (unsigned)((opt_timeout_ms + 999) / 1000);
    c->programName = "vnc-capture";

    orig_malloc_fb = c->MallocFrameBuffer;
    c->MallocFrameBuffer = my_malloc_fb;
    orig_copy_rect = c->GotCopyRect;
    c->GotCopyRect = my_copy_rect;
    c->SoftCursorLockArea = my_lock_area;
    c->GotFrameBufferUpdate = my_got_update;
    c->FinishedFrameBufferUpdate = my_finished;

    if (!rfbInitClient(c, NULL, NULL)) {
        /* rfbInitClient already freed the client */
        fprintf(stderr, "vnc-capture: cannot connect to VNC server at %s:%d%s%s\n", opt_host, opt_port,
                decode_error ? ": " : "", decode_error ? decode_error_msg : "");
        return EXIT_CONNECT;
    }
    decode_error = 0; /* handshake-time log lines are not decode errors */
    if (opt_verbose) {
        fprintf(stderr, "vnc-capture: connected, %dx%d, server \"%s\", RFB %d.%d, format %dbpp\n", c->width,
                c->height, c->desktopName ? c->desktopName : "", c->major, c->minor, f->bitsPerPixel);
        fprintf(stderr, "vnc-capture: SetEncodings:");
        char b[16];
        for (int i = 0; i < n_enc; i++)
            fprintf(stderr, " %s", enc_label(enc_list[i], b, sizeof(b)));
        fprintf(stderr, "\n");
    }
    if (c2s_bit(c, rfbFramebufferUpdateRequest)) {
        fprintf(stderr, "vnc-capture: internal error: could not suppress libvncclient's requests\n");
        return EXIT_DECODE;
    }
    if (c->buffered != 0) {
        fprintf(stderr, "vnc-capture: unexpected %d bytes from server after handshake\n", c->buffered);
        return EXIT_DECODE;
    }
    if (!send_set_encodings(c)) {
        fprintf(stderr, "vnc-capture: failed to send SetEncodings\n");
        return EXIT_CONNECT;
    }

    double total_ms = 0, first_req_ms = 0;
    int64_t total_bytes = 0;
    int rc = 0;
    int received = 0, time_up = 0;
    /* --seconds: the request for update u may have gone out at the end of update u-1 */
    int sent_early = 0;
    int64_t b0 = -1;
    double t0 = 0;
    for (int u = 0; opt_seconds > 0 || u < opt_updates; u++) {
        reset_update_counters();
        int incremental = (u > 0 && !opt_full);
        if (!sent_early) {
            if (opt_seconds > 0 && now_ms() >= end_ms)
                break;
            b0 = tcp_bytes_received(c->sock);
            t0 = now_ms();
            if (u == 0)
                first_req_ms = t0;
            if (!send_fbur(c, incremental)) {
                fprintf(stderr, "vnc-capture: failed to send FramebufferUpdateRequest %d (server gone?)\n", u);
                rc = EXIT_CONNECT;
                break;
            }
        }
        sent_early = 0;
        while (!update_done) {
            if (opt_seconds > 0 && now_ms() >= end_ms) {
                time_up = 1;
                break;
            }
            double left = (opt_seconds > 0 ? end_ms : deadline_ms) - now_ms();
            if (left <= 0) {
                fprintf(stderr, "vnc-capture: timeout waiting for update %d\n", u);
                rc = EXIT_TIMEOUT;
                break;
            }
            unsigned usec = (unsigned)(left > 100 ? 100000 : left * 1000 + 1);
            int n = WaitForMessage(c, usec);
            if (n == 0 && opt_seconds > 0)
                continue; /* the time limit is checked at the top */
            if (n < 0) {
                fprintf(stderr, "vnc-capture: connection error while waiting for update %d\n", u);
                rc = EXIT_CONNECT;
                break;
            }
            if (n == 0)
                continue;
            if (!HandleRFBServerMessage(c)) {
                fprintf(stderr, "vnc-capture: libvncclient failed to handle a server message in update %d%s%s\n", u,
                        decode_error ? ": " : " (connection closed or protocol error)",
                        decode_error ? decode_error_msg : "");
                rc = decode_error ? EXIT_DECODE : EXIT_CONNECT;
                break;
            }
            if (decode_error) {
                fprintf(stderr, "vnc-capture: decode error in update %d: %s\n", u, decode_error_msg);
                rc = EXIT_DECODE;
                break;
            }
        }
        if (rc || time_up)
            break;
        int64_t b1 = tcp_bytes_received(c->sock);
        double ms = update_done_ms - t0;
        int64_t bytes = (b0 >= 0 && b1 >= 0) ? b1 - b0 : -1;
        if (unrequested_enc) {
            char b[16];
            fprintf(stderr, "vnc-capture: server used encoding %s which was not requested (update %d)\n",
                    enc_label(unrequested_value, b, sizeof(b)), u);
            rc = EXIT_DECODE;
            break;
        }
        if (c2s_bit(c, rfbFramebufferUpdateRequest)) {
            fprintf(stderr, "vnc-capture: libvncclient re-enabled its automatic requests (SupportedMessages "
                            "from server?); one-request-per-update no longer holds\n");
            rc = EXIT_DECODE;
            break;
        }
        if (c->buffered != 0) {
            fprintf(stderr, "vnc-capture: %d unexpected bytes after update %d (unsolicited message?)\n",
                    c->buffered, u);
            rc = EXIT_DECODE;
            break;
        }
        total_ms += ms;
        if (bytes >= 0)
            total_bytes += bytes;
        received++;
        if (opt_seconds > 0 && now_ms() < end_ms) {
            b0 = tcp_bytes_received(c->sock);
            t0 = now_ms();
            if (!send_fbur(c, !opt_full)) {
                fprintf(stderr, "vnc-capture: failed to send FramebufferUpdateRequest %d (server gone?)\n", u + 1);
                rc = EXIT_CONNECT;
                break;
            }
            sent_early = 1;
        }

        printf("{\"update\":%d,\"ms\":%.3f,\"bytes\":%lld,\"rects\":%d,\"incremental\":%s,\"encodings\":{", u, ms,
               (long long)bytes, rect_count, incremental ? "true" : "false");
        char b[16];
        for (int i = 0; i < n_seen; i++)
            printf("%s\"%s\":%d", i ? "," : "", enc_label(seen_enc[i], b, sizeof(b)), seen_cnt[i]);
        if (unknown_enc_rects)
            printf("%s\"unknown\":%d", n_seen ? "," : "", unknown_enc_rects);
        printf("}}\n");
        fflush(stdout);

        if (opt_out_dir) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/update-%03d.ppm", opt_out_dir, u);
            if (!write_ppm(c, path)) {
                fprintf(stderr, "vnc-capture: cannot write %s: %s\n", path, strerror(errno));
                rc = EXIT_IO;
                break;
            }
        }
        if (opt_frame_out && !write_ppm(c, opt_frame_out)) {
            fprintf(stderr, "vnc-capture: cannot write %s: %s\n", opt_frame_out, strerror(errno));
            rc = EXIT_IO;
            break;
        }
    }
    double wall_ms = update_done_ms - first_req_ms;
    if (!rc) {
        printf("{\"total_ms\":%.3f,\"total_bytes\":%lld,\"updates\":%d,\"wall_ms\":%.3f}\n", total_ms,
               (long long)total_bytes, received, wall_ms);
        fflush(stdout);
    }
    if (c->frameBuffer) {
        free(c->frameBuffer);
        c->frameBuffer = NULL;
    }
    rfbClientCleanup(c);
    return rc;
}
