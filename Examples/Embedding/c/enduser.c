/*
 * enduser.c - the end user's side of a remote-support session, embedded in a C program (C99 + POSIX).
 *
 * It joins a broker with a 6-digit connection ID, waits for an agent, asks whether the agent may connect
 * (or accepts at once with --yes), prints the security code (SAS) both sides must see, shares frames it
 * draws itself (a 320x200 BGRX gradient with a bar that moves every 100 ms: no real screen), prints the
 * agent's pointer and key events instead of injecting them, and ends when the agent ends the session,
 * after --seconds N, or on Ctrl-C / SIGTERM (then it ends the session itself).
 *
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -I../../../Include enduser.c \
 *       -L../../../.build/debug -lremotesupport -Wl,-rpath,$PWD/../../../.build/debug -o enduser
 *   ./enduser 127.0.0.1 8081 123456 [--yes] [--seconds N] [--name NAME]
 *
 * The library is sans-IO (rs_conn): this file owns the socket, the clock and the loop. It feeds received
 * bytes with rs_conn_receive, answers events from rs_conn_poll, sends what rs_conn_take_output hands out,
 * and calls rs_conn_tick at the time rs_conn_next_wakeup gives.
 *
 * TRANSPORT: this example speaks the protocol over PLAIN TCP, which the broker accepts on loopback only
 * (rs-broker --protocol-port). In production wrap the socket in TLS (e.g. OpenSSL: SSL_read/SSL_write
 * where this file calls recv/send, and verify the broker's certificate), or use the broker's WebSocket
 * endpoint behind HTTPS (wss://.../ws, one frame per binary message). The session itself is end-to-end
 * encrypted either way; TLS protects the join credential and the control frames the broker reads.
 *
 * Exit status: 0 when the session ended (by the agent, by --seconds or a signal), 1 otherwise (refused,
 * connection lost for good, errors), 2 for bad arguments.
 */
#define _POSIX_C_SOURCE 200809L

#include "remotesupport.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

/* ---- The frames this program "captures": drawn in plain code ---------------------------------------- */

enum { WIDTH = 320, HEIGHT = 200, BAR = 16, STEP = 4 };

/* Frame n: blue grows to the right, green downwards, red 128; a white bar BAR pixels wide starts at
 * x = (n * STEP) % WIDTH and wraps around. Bytes B, G, R, X (RS_FORMAT_BGRX8888). */
static void draw_frame(uint8_t *pixels, uint32_t n) {
    uint32_t bar_x = (n * STEP) % WIDTH;
    for (uint32_t y = 0; y < HEIGHT; y++) {
        for (uint32_t x = 0; x < WIDTH; x++) {
            uint8_t *p = pixels + ((size_t)y * WIDTH + x) * 4;
            int in_bar = (x + WIDTH - bar_x) % WIDTH < BAR;
            p[0] = in_bar ? 255 : (uint8_t)(x * 255 / (WIDTH - 1));
            p[1] = in_bar ? 255 : (uint8_t)(y * 255 / (HEIGHT - 1));
            p[2] = in_bar ? 255 : 128;
            p[3] = 0;
        }
    }
}

/* ---- Clock, signals ---------------------------------------------------------------------------------- */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* ---- The transport: a non-blocking TCP socket and the bytes it could not take yet ---------------------- */

typedef struct transport {
    int fd;
    uint8_t *pending;      /* output rs_conn_take_output handed out that the socket did not take yet */
    size_t pending_length; /* bytes in pending, starting at pending_offset */
    size_t pending_offset;
    size_t pending_capacity;
} transport;

/* Connects to host:port (blocking connect, then non-blocking IO). Returns the fd or -1. */
static int tcp_connect(const char *host, const char *port) {
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, port, &hints, &list);
    if (gai != 0) {
        fprintf(stderr, "enduser: %s:%s: %s\n", host, port, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = list; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    if (fd < 0) fprintf(stderr, "enduser: cannot connect to %s:%s: %s\n", host, port, strerror(errno));
    freeaddrinfo(list);
    if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) != 0) {
        fprintf(stderr, "enduser: fcntl: %s\n", strerror(errno));
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Sends as much as the socket takes now. Returns 0, or -1 when the transport failed. */
static int send_some(int fd, const uint8_t *data, size_t length, size_t *out_sent) {
    size_t sent = 0;
    while (sent < length) {
        ssize_t n = send(fd, data + sent, length - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            fprintf(stderr, "enduser: send: %s\n", strerror(errno));
            return -1;
        }
    }
    *out_sent = sent;
    return 0;
}

/* Moves the connection's output to the socket. Output is taken only while the socket keeps up: what it
 * does not take is copied (the borrowed bytes die with the next call on conn) and sent first next time,
 * and meanwhile the connection keeps merging pointer motion and holding frames back.
 * Returns 0, or -1 when the transport failed. */
static int flush_output(transport *t, rs_conn *conn) {
    for (;;) {
        if (t->pending_length > 0) {
            size_t sent = 0;
            if (send_some(t->fd, t->pending + t->pending_offset, t->pending_length, &sent) != 0) return -1;
            t->pending_offset += sent;
            t->pending_length -= sent;
            if (t->pending_length > 0) return 0; /* the socket is full: wait for POLLOUT */
        }
        const uint8_t *data = NULL;
        size_t length = 0;
        int status = rs_conn_take_output(conn, &data, &length);
        if (status != RS_OK) {
            fprintf(stderr, "enduser: rs_conn_take_output: %s: %s\n", rs_status_name(status), rs_conn_errmsg(conn));
            return -1;
        }
        if (length == 0) return 0;
        size_t sent = 0;
        if (send_some(t->fd, data, length, &sent) != 0) return -1;
        if (sent < length) {
            size_t rest = length - sent;
            if (rest > t->pending_capacity) {
                uint8_t *bigger = realloc(t->pending, rest);
                if (bigger == NULL) {
                    fprintf(stderr, "enduser: out of memory\n");
                    return -1;
                }
                t->pending = bigger;
                t->pending_capacity = rest;
            }
            memcpy(t->pending, data + sent, rest);
            t->pending_offset = 0;
            t->pending_length = rest;
        }
    }
}

static void transport_close(transport *t) {
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    t->pending_length = 0;
    t->pending_offset = 0;
}

/* ---- The session -------------------------------------------------------------------------------------- */

typedef struct app {
    rs_conn *conn;
    transport net;
    const char *host, *port;
    int auto_accept;
    int asking;            /* a connect request waits for the user's answer on stdin */
    int asked_mode;
    int sharing;           /* the session started: draw and share frames */
    int ready;             /* the connection has room for a frame (RS_EVENT_READY_FOR_FRAME) */
    int frame_dirty;       /* a frame was drawn that the connection has not taken yet */
    int ended;             /* the session is over (either side); exit once the output is out */
    int stopping;          /* --seconds or a signal: this side ends the session */
    int closed;            /* RS_EVENT_CLOSED seen: send what is left, then close the socket */
    int exit_status;
    uint32_t frame_number;
    uint64_t next_frame_ms;
    uint8_t frame[WIDTH * HEIGHT * 4];
    rs_pixel_format format;
} app;

static const char *mode_name(int mode) {
    switch (mode) {
    case RS_MODE_VIEW_ONLY: return "view only";
    case RS_MODE_CONTROL: return "control";
    default: return "declined";
    }
}

/* Reports a failed call: the status's name and the connection's message. */
static int failed(app *a, const char *what, int status) {
    fprintf(stderr, "enduser: %s: %s: %s\n", what, rs_status_name(status), rs_conn_errmsg(a->conn));
    return -1;
}

/* Hands the current frame to the connection when it has room; it encodes only what changed. */
static int share_current_frame(app *a) {
    if (!a->sharing || !a->ready || !a->frame_dirty) return 0;
    int sent = 0;
    int status = rs_conn_share_frame(a->conn, a->frame, sizeof a->frame, WIDTH, HEIGHT, WIDTH * 4, &a->format, &sent);
    if (status != RS_OK) return failed(a, "rs_conn_share_frame", status);
    if (sent) {
        a->frame_dirty = 0;
        if (a->frame_number % 50 == 0) printf("shared frame %u\n", (unsigned)a->frame_number);
    } else {
        a->ready = 0; /* no room: RS_EVENT_READY_FOR_FRAME says when */
    }
    return 0;
}

static int answer(app *a, int mode) {
    int status = rs_conn_consent(a->conn, mode);
    if (status != RS_OK) return failed(a, "rs_conn_consent", status);
    a->asking = 0;
    printf("consent: %s\n", mode_name(mode));
    return 0;
}

/* Handles every pending event. Pointers inside an event are borrowed until the next poll. */
static int handle_events(app *a) {
    rs_event e = RS_EVENT_INIT;
    int status;
    while ((status = rs_conn_poll(a->conn, &e)) == RS_OK) {
        switch (e.type) {
        case RS_EVENT_JOINED:
            printf("joined: session %s, waiting for an agent\n", e.session_id);
            break;
        case RS_EVENT_CONNECT_REQUESTED:
            /* Who asks, as the broker vouches for them. Show peer text as text, never as markup. */
            printf("connect request: %s%s%s%s%s asks for %s\n", e.name, *e.job_title ? ", " : "", e.job_title,
                   *e.organisation ? ", " : "", e.organisation, mode_name(e.mode));
            a->asked_mode = e.mode;
            if (a->auto_accept) {
                if (answer(a, e.mode) != 0) return -1;
            } else {
                a->asking = 1;
                printf("allow? [y = %s / v = view only / n = no] ", mode_name(e.mode));
            }
            break;
        case RS_EVENT_SESSION_STARTED:
            printf("session started (%s): security code %s - the agent must read out the same\n",
                   mode_name(e.mode), e.text);
            a->sharing = 1;
            a->frame_dirty = 1;
            break;
        case RS_EVENT_PEER_VERIFIED:
            printf("the agent's keys are confirmed\n");
            break;
        case RS_EVENT_READY_FOR_FRAME:
            a->ready = 1;
            break;
        case RS_EVENT_POINTER:
            printf("pointer x=%d y=%d buttons=%u wheel=%d,%d\n", e.x, e.y, (unsigned)e.buttons, e.wheel_x, e.wheel_y);
            break;
        case RS_EVENT_KEY:
            printf("key keysym=0x%x %s\n", (unsigned)e.keysym, e.down ? "down" : "up");
            break;
        case RS_EVENT_CLIPBOARD:
            printf("clipboard: %zu bytes\n", strlen(e.text));
            break;
        case RS_EVENT_CHAT:
            printf("chat: %s\n", e.text);
            break;
        case RS_EVENT_PEER_AWAY:
            printf("the agent dropped; it has %u s to come back\n", (unsigned)e.grace_seconds);
            break;
        case RS_EVENT_PEER_RESUMED:
            printf("the agent is back\n");
            break;
        case RS_EVENT_RESUMED:
            printf("reconnected to session %s\n", e.session_id);
            break;
        case RS_EVENT_SESSION_ENDED:
            printf("session ended: reason %d (%s)\n", e.reason, e.text ? e.text : "");
            /* After a session: a normal end. Before one (the code expired, ...): a failure. */
            a->exit_status = a->sharing || a->stopping ? 0 : 1;
            a->ended = 1;
            a->sharing = 0;
            break;
        case RS_EVENT_CLOSED:
            printf("connection closed: reason %d by %s (%s)\n", e.reason, e.by_peer ? "the broker" : "us",
                   e.text ? e.text : "");
            if (!a->ended) a->exit_status = a->stopping ? 0 : 1;
            a->closed = 1;
            a->ready = 0; /* a resumed session says when it has room again */
            break;
        default:
            break; /* events this program does not use */
        }
    }
    fflush(stdout);
    if (status != RS_NO_EVENT) return failed(a, "rs_conn_poll", status);
    return share_current_frame(a);
}

/* The user typed a line while a connect request waits. */
static int read_answer(app *a) {
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) return answer(a, RS_MODE_DECLINE); /* stdin closed: no */
    switch (line[0]) {
    case 'y': case 'Y': return answer(a, a->asked_mode);
    case 'v': case 'V': return answer(a, RS_MODE_VIEW_ONLY);
    default: return answer(a, RS_MODE_DECLINE);
    }
}

/* The transport dropped: resume on a new socket if the session can come back, else give up. */
static int transport_lost(app *a) {
    transport_close(&a->net);
    if (a->closed || a->ended) return -1;
    int can_resume = 0;
    int status = rs_conn_connection_lost(a->conn, now_ms(), &can_resume);
    if (status != RS_OK) return failed(a, "rs_conn_connection_lost", status);
    if (handle_events(a) != 0) return -1;
    for (int attempt = 1; can_resume && attempt <= 5; attempt++) {
        printf("connection lost; reconnecting (attempt %d)\n", attempt);
        fflush(stdout);
        sleep(1);
        a->net.fd = tcp_connect(a->host, a->port);
        if (a->net.fd < 0) continue;
        status = rs_conn_reconnect(a->conn, now_ms());
        if (status != RS_OK) return failed(a, "rs_conn_reconnect", status);
        a->closed = 0;
        a->ready = 0;
        a->frame_dirty = 1;
        return 0;
    }
    fprintf(stderr, "enduser: the connection to the broker is lost\n");
    a->exit_status = 1;
    return -1;
}

/* The event loop. Returns the exit status. */
static int run(app *a, uint64_t deadline_ms) {
    uint8_t buffer[65536];
    for (;;) {
        if (a->ended && !a->closed) {
            /* The session is over and the broker closes the connection next: say goodbye first. */
            int status = rs_conn_close(a->conn, RS_CLOSE_NORMAL, NULL);
            if (status != RS_OK || handle_events(a) != 0) {
                failed(a, "rs_conn_close", status);
                return 1;
            }
        }
        if (a->net.fd >= 0 && flush_output(&a->net, a->conn) != 0) {
            if (transport_lost(a) != 0) return a->exit_status;
            continue;
        }
        if (a->closed && a->net.pending_length == 0) return a->exit_status; /* everything sent */

        uint64_t now = now_ms();
        if (!a->stopping && (stop_requested || (deadline_ms && now >= deadline_ms))) {
            a->stopping = 1;
            a->exit_status = 0;
            printf("ending the session\n");
            /* An end user that ends the session sends `end` and `close`: the connection closes itself. */
            int status = a->sharing ? rs_conn_end_session(a->conn, RS_CLOSE_ENDED_BY_END_USER, "ended by the user")
                                    : rs_conn_close(a->conn, RS_CLOSE_NORMAL, "the user gave up waiting");
            if (status != RS_OK) {
                failed(a, "ending the session", status);
                return 1;
            }
            if (handle_events(a) != 0) return 1;
            continue;
        }

        /* Sleep until the socket or stdin has something, the connection's next deadline, or the next frame. */
        uint64_t wake = now + 60000;
        uint64_t conn_wake = 0;
        int status = rs_conn_next_wakeup(a->conn, &conn_wake);
        if (status == RS_OK) {
            if (conn_wake < wake) wake = conn_wake;
        } else if (status != RS_NO_DEADLINE) {
            failed(a, "rs_conn_next_wakeup", status);
            return 1;
        }
        if (a->sharing && a->next_frame_ms < wake) wake = a->next_frame_ms;
        if (deadline_ms && deadline_ms < wake) wake = deadline_ms;
        int timeout = wake > now ? (int)(wake - now) : 0;

        struct pollfd fds[2];
        fds[0].fd = a->net.fd;
        fds[0].events = (short)(POLLIN | (a->net.pending_length > 0 ? POLLOUT : 0));
        fds[0].revents = 0;
        fds[1].fd = a->asking ? STDIN_FILENO : -1; /* a negative fd is skipped */
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "enduser: poll: %s\n", strerror(errno));
            return 1;
        }
        now = now_ms();

        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(a->net.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                status = rs_conn_receive(a->conn, buffer, (size_t)n, now);
                if (status != RS_OK) {
                    failed(a, "rs_conn_receive", status);
                    return 1;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                if (n < 0) fprintf(stderr, "enduser: recv: %s\n", strerror(errno));
                if (transport_lost(a) != 0) return a->exit_status;
                continue;
            }
        }
        if ((fds[1].revents & (POLLIN | POLLHUP)) && read_answer(a) != 0) return 1;

        status = rs_conn_tick(a->conn, now); /* keepalive pings, handshake and keepalive timeouts */
        if (status != RS_OK) {
            failed(a, "rs_conn_tick", status);
            return 1;
        }
        if (a->sharing && now >= a->next_frame_ms) {
            a->frame_number++;
            draw_frame(a->frame, a->frame_number);
            a->frame_dirty = 1;
            a->next_frame_ms = now + 100;
        }
        if (handle_events(a) != 0) return 1;
    }
}

static int usage(void) {
    fprintf(stderr, "usage: enduser HOST PORT CONNECTION-ID [--yes] [--seconds N] [--name NAME]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *positional[3] = {NULL, NULL, NULL};
    int count = 0, auto_accept = 0;
    long seconds = 0;
    const char *name = "Example End User";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--yes") == 0) auto_accept = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) name = argv[++i];
        else if (argv[i][0] != '-' && count < 3) positional[count++] = argv[i];
        else return usage();
    }
    if (count != 3 || seconds < 0) return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The library loaded must have the major version of the header compiled against. */
    if (rs_version_number() / 1000000u != RS_VERSION_MAJOR) {
        fprintf(stderr, "enduser: libremotesupport %s does not match the header %s\n", rs_version(), RS_VERSION_STRING);
        return 1;
    }
    /* What the user typed ("123 456", "123-456", "123456"), checked here; the broker gets the digits. */
    uint32_t code = 0;
    if (rs_connection_id_parse(positional[2], &code) != RS_OK) {
        fprintf(stderr, "enduser: %s: %s\n", positional[2], rs_last_error());
        return 2;
    }
    char digits[8];
    snprintf(digits, sizeof digits, "%06u", (unsigned)code);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    static app a; /* static: the frame buffer is 256 KB */
    a.net.fd = -1;
    a.host = positional[0];
    a.port = positional[1];
    a.auto_accept = auto_accept;
    a.exit_status = 1;
    int status = rs_pixel_format_preset(RS_FORMAT_BGRX8888, &a.format);
    if (status != RS_OK) {
        fprintf(stderr, "enduser: rs_pixel_format_preset: %s\n", rs_last_error());
        return 1;
    }
    draw_frame(a.frame, 0);

    a.net.fd = tcp_connect(a.host, a.port);
    if (a.net.fd < 0) return 1;

    /* Calls without a handle report in rs_last_error(); calls on a connection in rs_conn_errmsg(). */
    status = rs_conn_new(RS_ROLE_END_USER, NULL, now_ms(), &a.conn);
    if (status != RS_OK) {
        fprintf(stderr, "enduser: rs_conn_new: %s: %s\n", rs_status_name(status), rs_last_error());
        transport_close(&a.net);
        return 1;
    }
    char machine[256] = "example-host";
    gethostname(machine, sizeof machine - 1);
    status = rs_conn_join(a.conn, RS_JOIN_CONNECTION_ID, digits, name, machine, "Linux (embedding example)");
    int result = 1;
    if (status != RS_OK) {
        failed(&a, "rs_conn_join", status);
    } else {
        printf("joining %s:%s with connection ID %s\n", a.host, a.port, digits);
        result = run(&a, seconds > 0 ? now_ms() + (uint64_t)seconds * 1000u : 0);
    }

    /* Everything this program made is released: the connection, the socket, the output buffer. */
    rs_conn_free(a.conn);
    transport_close(&a.net);
    free(a.net.pending);
    printf("exit %d\n", result);
    return result;
}
