/*
 * lvs-serve-frames: the baseline frame server, built on LibVNCServer 0.9.14, with
 * the same semantics as our Swift rs-serve-frames.
 *
 *   lvs-serve-frames --port PORT [--step] [--defer-ms N] [--verbose] FILE...
 *
 * - Loads every FILE (binary PPM P6, maxval 255, gzipped or plain) up front; all
 *   must have the same size. The framebuffer is 32 bpp, depth 24, little-endian
 *   0x00RRGGBB (bytes B,G,R,0), i.e. the Xvfb layout the frames were grabbed from,
 *   so a client asking for that format gets the pixels untranslated.
 * - Listens on 127.0.0.1:PORT only (IPv4 loopback; no IPv6 listener, no HTTP),
 *   no authentication (security type None), RFB 3.8. One client at a time: a new
 *   client disconnects the previous one and starts again at file 0.
 * - Without --step every request is answered from FILE 0. With --step the first
 *   update shows file 0, and each FramebufferUpdateRequest that arrives after an
 *   update with pixel data has been sent moves the framebuffer to the next file
 *   (after the last file it stays there). The move copies in only the 32x32 tiles
 *   that differ (precomputed at load time, as x11vnc-style tile polling would
 *   find them) and marks them with rfbMarkRectAsModified, so an incremental
 *   request gets just the changed region. LibVNCServer chooses the encoding from
 *   the client's SetEncodings list and the region's rectangles (it does no CopyRect
 *   detection of its own; more than maxRectsPerUpdate=50 rectangles collapse to
 *   their bounding box, as stock LibVNCServer does). Its ZRLE is untouched:
 *   zlib level Z_DEFAULT_COMPRESSION (6).
 *   The step happens in clientFramebufferUpdateRequestHook, i.e. before the
 *   request's region is merged into the client's requested region.
 * - LibVNCServer's default 5 ms update deferral (deferUpdateTime) is turned off
 *   (--defer-ms 0) so the request->update latency measures encoding, not a
 *   fixed wait; --defer-ms 5 restores the library default.
 * - LibVNCServer's built-in default cursor (an 8x7 "X" it otherwise paints into
 *   the framebuffer for clients without cursor-shape support) is disabled, so the
 *   served pixels are exactly the file's.
 * - The event loop runs in the main thread (rfbProcessEvents, 10 ms timeout);
 *   SIGTERM/SIGINT end it cleanly.
 * - Prints "listening on 127.0.0.1:PORT" to stderr when ready. With --verbose, one
 *   JSON line per update with pixel data goes to stderr:
 *   {"update":k,"file":f,"incremental":..,"send_ms":..} (send_ms = time inside
 *   rfbSendFramebufferUpdate: translate + encode + write).
 */
#define _GNU_SOURCE
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define TILE 32

static int opt_port = -1;
static int opt_step = 0;
static int opt_defer_ms = 0;
static int opt_verbose = 0;

static int W = 0, H = 0;
static int n_frames = 0;
static uint32_t **frames; /* n_frames buffers of W*H pixels, 0x00RRGGBB host order */
static const char **frame_names;

struct rect { int x, y, w, h; };
struct diff { struct rect *r; int n; };
static struct diff *diffs; /* diffs[k]: tiles differing between frame k-1 and k */

static int cur_frame = 0;
static rfbScreenInfoPtr screen;
static volatile sig_atomic_t stop_flag = 0;

struct client_state {
    int pixel_updates;     /* updates with pixel data sent to this client */
    int consumed;          /* pixel_updates value at the last step */
    int last_incremental;  /* incremental flag of the last request */
    int will_send_pixels;  /* set in displayHook */
    struct timespec t0;
};

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ------------------------------------------------------------- PPM loading */

static int ppm_token(gzFile g, char *buf, size_t n)
{
    int c;
    size_t len = 0;
    for (;;) {
        c = gzgetc(g);
        if (c < 0)
            return 0;
        if (c == '#') {
            while ((c = gzgetc(g)) >= 0 && c != '\n' && c != '\r')
                ;
            if (c < 0)
                return 0;
            continue;
        }
        if (!isspace(c))
            break;
    }
    while (c >= 0 && !isspace(c) && c != '#') {
        if (len + 1 >= n)
            return 0;
        buf[len++] = (char)c;
        c = gzgetc(g);
    }
    buf[len] = 0;
    /* exactly one whitespace character follows the last header token (consumed) */
    return c >= 0 && isspace(c);
}

static uint32_t *load_ppm(const char *path, int *w, int *h)
{
    gzFile g = gzopen(path, "rb"); /* reads gzip and plain files alike */
    if (!g) {
        fprintf(stderr, "lvs-serve-frames: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    gzbuffer(g, 1 << 17);
    char t[4][32];
    for (int i = 0; i < 4; i++) {
        if (!ppm_token(g, t[i], sizeof(t[i]))) {
            fprintf(stderr, "lvs-serve-frames: %s: bad PPM header\n", path);
            gzclose(g);
            return NULL;
        }
    }
    int ww = atoi(t[1]), hh = atoi(t[2]), maxval = atoi(t[3]);
    if (strcmp(t[0], "P6") || ww <= 0 || hh <= 0 || ww > 16384 || hh > 16384 || maxval != 255) {
        fprintf(stderr, "lvs-serve-frames: %s: need binary PPM (P6) with maxval 255\n", path);
        gzclose(g);
        return NULL;
    }
    size_t n = (size_t)ww * hh;
    uint8_t *rgb = malloc(n * 3);
    uint32_t *px = malloc(n * 4);
    if (!rgb || !px) {
        fprintf(stderr, "lvs-serve-frames: out of memory\n");
        exit(1);
    }
    size_t got = 0;
    while (got < n * 3) {
        size_t chunk = n * 3 - got;
        if (chunk > (1u << 30))
            chunk = 1u << 30;
        int r = gzread(g, rgb + got, (unsigned)chunk);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    gzclose(g);
    if (got != n * 3) {
        fprintf(stderr, "lvs-serve-frames: %s: truncated pixel data\n", path);
        free(rgb);
        free(px);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        px[i] = (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
    free(rgb);
    *w = ww;
    *h = hh;
    return px;
}

/* Tiles (TILE x TILE) that differ between a and b, as horizontal runs of tiles. */
static struct diff compute_diff(const uint32_t *a, const uint32_t *b)
{
    struct diff d = {NULL, 0};
    int cap = 0;
    int tw = (W + TILE - 1) / TILE;
    uint8_t *dirty = calloc((size_t)tw, 1);
    for (int ty = 0; ty < H; ty += TILE) {
        int th = (ty + TILE > H) ? H - ty : TILE;
        memset(dirty, 0, (size_t)tw);
        for (int y = ty; y < ty + th; y++) {
            const uint32_t *ra = a + (size_t)y * W, *rb = b + (size_t)y * W;
            for (int tx = 0; tx < tw; tx++) {
                if (dirty[tx])
                    continue;
                int x = tx * TILE, cw = (x + TILE > W) ? W - x : TILE;
                if (memcmp(ra + x, rb + x, (size_t)cw * 4))
                    dirty[tx] = 1;
            }
        }
        for (int tx = 0; tx < tw;) {
            if (!dirty[tx]) {
                tx++;
                continue;
            }
            int s = tx;
            while (tx < tw && dirty[tx])
                tx++;
            if (d.n == cap) {
                cap = cap ? cap * 2 : 64;
                d.r = realloc(d.r, (size_t)cap * sizeof(struct rect));
            }
            int x = s * TILE, x2 = tx * TILE > W ? W : tx * TILE;
            d.r[d.n++] = (struct rect){x, ty, x2 - x, th};
        }
    }
    free(dirty);
    return d;
}

/* ---------------------------------------------------------- framebuffer ops */

static void show_frame_full(int k)
{
    memcpy(screen->frameBuffer, frames[k], (size_t)W * H * 4);
    cur_frame = k;
    rfbMarkRectAsModified(screen, 0, 0, W, H);
}

static void step_to(int k)
{
    /* sequential only: k == cur_frame + 1 */
    uint32_t *fb = (uint32_t *)screen->frameBuffer;
    const struct diff *d = &diffs[k];
    for (int i = 0; i < d->n; i++) {
        const struct rect *r = &d->r[i];
        for (int y = r->y; y < r->y + r->h; y++)
            memcpy(fb + (size_t)y * W + r->x, frames[k] + (size_t)y * W + r->x, (size_t)r->w * 4);
    }
    cur_frame = k;
    for (int i = 0; i < d->n; i++) {
        const struct rect *r = &d->r[i];
        rfbMarkRectAsModified(screen, r->x, r->y, r->x + r->w, r->y + r->h);
    }
}

/* ---------------------------------------------------------------- hooks */

static void on_fbur(rfbClientPtr cl, rfbFramebufferUpdateRequestMsg *m)
{
    struct client_state *st = cl->clientData;
    if (!st)
        return;
    st->last_incremental = m->incremental;
    if (opt_step && st->pixel_updates > st->consumed) {
        st->consumed = st->pixel_updates;
        if (cur_frame + 1 < n_frames)
            step_to(cur_frame + 1);
    }
}

static void on_display(rfbClientPtr cl)
{
    struct client_state *st = cl->clientData;
    if (!st)
        return;
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    /* Mirror rfbSendFramebufferUpdate's decision: pending NewFBSize/ExtDesktopSize
     * goes out alone; otherwise pixels are sent iff
     * (modifiedRegion | copyRegion) & requestedRegion is not empty. */
    if (cl->useNewFBSize && cl->newFBSizePending) {
        st->will_send_pixels = 0;
        return;
    }
    sraRegionPtr r = sraRgnCreateRgn(cl->modifiedRegion);
    sraRgnOr(r, cl->copyRegion);
    sraRgnAnd(r, cl->requestedRegion);
    st->will_send_pixels = !sraRgnEmpty(r);
    sraRgnDestroy(r);
}

static void on_display_finished(rfbClientPtr cl, int result)
{
    struct client_state *st = cl->clientData;
    if (!st)
        return;
    if (st->will_send_pixels && result) {
        if (opt_verbose)
            fprintf(stderr, "{\"update\":%d,\"file\":%d,\"incremental\":%s,\"send_ms\":%.3f}\n", st->pixel_updates,
                    cur_frame, st->last_incremental ? "true" : "false", ms_since(&st->t0));
        st->pixel_updates++;
    }
    st->will_send_pixels = 0;
}

static void on_client_gone(rfbClientPtr cl)
{
    if (opt_verbose)
        fprintf(stderr, "lvs-serve-frames: client %s gone\n", cl->host ? cl->host : "?");
    free(cl->clientData);
    cl->clientData = NULL;
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
    struct client_state *st = calloc(1, sizeof(*st));
    if (!st)
        return RFB_CLIENT_REFUSE;
    cl->clientData = st;
    cl->clientGoneHook = on_client_gone;
    cl->clientFramebufferUpdateRequestHook = on_fbur;
    /* a new session starts at file 0 */
    if (cur_frame != 0)
        show_frame_full(0);
    if (opt_verbose)
        fprintf(stderr, "lvs-serve-frames: client %s connected\n", cl->host ? cl->host : "?");
    return RFB_CLIENT_ACCEPT;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr, "usage: lvs-serve-frames --port PORT [--step] [--defer-ms N] [--verbose] FILE...\n"
                    "  FILE: binary PPM (P6, maxval 255), gzipped or plain; all the same size\n"
                    "  --step      each request after an update advances to the next FILE\n"
                    "  --defer-ms  LibVNCServer deferUpdateTime (default 0; library default is 5)\n");
}

static void quiet_log(const char *fmt, ...)
{
    (void)fmt;
}

int main(int argc, char **argv)
{
    const char **files = calloc((size_t)argc, sizeof(char *));
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--port") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0 || v > 65535) {
                fprintf(stderr, "lvs-serve-frames: bad --port\n");
                return 1;
            }
            opt_port = (int)v;
        } else if (!strcmp(a, "--step")) {
            opt_step = 1;
        } else if (!strcmp(a, "--defer-ms") && i + 1 < argc) {
            opt_defer_ms = atoi(argv[++i]);
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            opt_verbose = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                files[nf++] = argv[i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "lvs-serve-frames: unknown or incomplete option '%s'\n", a);
            usage();
            return 1;
        } else {
            files[nf++] = a;
        }
    }
    if (opt_port < 0 || nf == 0) {
        usage();
        return 1;
    }

    n_frames = nf;
    frames = calloc((size_t)nf, sizeof(*frames));
    frame_names = files;
    for (int i = 0; i < nf; i++) {
        int w = 0, h = 0;
        frames[i] = load_ppm(files[i], &w, &h);
        if (!frames[i])
            return 1;
        if (i == 0) {
            W = w;
            H = h;
        } else if (w != W || h != H) {
            fprintf(stderr, "lvs-serve-frames: %s is %dx%d, expected %dx%d\n", files[i], w, h, W, H);
            return 1;
        }
    }
    diffs = calloc((size_t)nf, sizeof(*diffs));
    for (int i = 1; i < nf; i++)
        diffs[i] = compute_diff(frames[i - 1], frames[i]);
    if (opt_verbose) {
        for (int i = 1; i < nf; i++) {
            long px = 0;
            for (int j = 0; j < diffs[i].n; j++)
                px += (long)diffs[i].r[j].w * diffs[i].r[j].h;
            fprintf(stderr, "lvs-serve-frames: %s -> %s: %d tile runs, %.1f%% of the screen\n", files[i - 1],
                    files[i], diffs[i].n, 100.0 * px / ((double)W * H));
        }
    }

    if (!opt_verbose)
        rfbLog = quiet_log; /* rfbErr stays on */

    int dummy_argc = 1;
    char *dummy_argv[] = {argv[0], NULL};
    screen = rfbGetScreen(&dummy_argc, dummy_argv, W, H, 8, 3, 4);
    if (!screen) {
        fprintf(stderr, "lvs-serve-frames: rfbGetScreen failed\n");
        return 1;
    }
    /* 0x00RRGGBB little-endian, depth 24: the source (Xvfb) layout */
    screen->serverFormat.bitsPerPixel = 32;
    screen->serverFormat.depth = 24;
    screen->serverFormat.bigEndian = (*(const char *)&(int){1} == 0);
    screen->serverFormat.trueColour = 1;
    screen->serverFormat.redMax = 255;
    screen->serverFormat.greenMax = 255;
    screen->serverFormat.blueMax = 255;
    screen->serverFormat.redShift = 16;
    screen->serverFormat.greenShift = 8;
    screen->serverFormat.blueShift = 0;
    screen->depth = 24;

    screen->frameBuffer = malloc((size_t)W * H * 4);
    memcpy(screen->frameBuffer, frames[0], (size_t)W * H * 4);
    cur_frame = 0;

    screen->desktopName = "lvs-serve-frames";
    screen->port = opt_port;
    screen->ipv6port = 0;                 /* no IPv6 listener */
    screen->listenInterface = htonl(INADDR_LOOPBACK);
    screen->httpPort = 0;
    screen->http6Port = 0;
    screen->httpDir = NULL;
    screen->autoPort = FALSE;
    screen->alwaysShared = FALSE;
    screen->neverShared = TRUE;           /* one client at a time ... */
    screen->dontDisconnect = FALSE;       /* ... the newest one wins */
    screen->authPasswdData = NULL;        /* security type None */
    screen->cursor = NULL;                /* don't paint LibVNCServer's default cursor */
    screen->deferUpdateTime = opt_defer_ms;
    screen->newClientHook = on_new_client;
    screen->displayHook = on_display;
    screen->displayFinishedHook = on_display_finished;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rfbInitServer(screen);
    if (screen->listenSock == RFB_INVALID_SOCKET) {
        fprintf(stderr, "lvs-serve-frames: cannot listen on 127.0.0.1:%d\n", opt_port);
        return 1;
    }
    fprintf(stderr, "listening on 127.0.0.1:%d\n", opt_port);
    fflush(stderr);

    while (!stop_flag && rfbIsActive(screen))
        rfbProcessEvents(screen, 10000);

    if (opt_verbose)
        fprintf(stderr, "lvs-serve-frames: shutting down\n");
    rfbShutdownServer(screen, TRUE);
    free(screen->frameBuffer);
    screen->frameBuffer = NULL;
    rfbScreenCleanup(screen);
    for (int i = 0; i < nf; i++) {
        free(frames[i]);
        free(diffs[i].r);
    }
    free(frames);
    free(diffs);
    free(files);
    return 0;
}
