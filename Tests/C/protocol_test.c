/*
 * protocol_test.c - the wire protocol from a real C program, in memory: an end user and an agent (rs_conn
 * of those roles) against each other through a small broker written here with RS_ROLE_BROKER connections.
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -IInclude Tests/C/protocol_test.c -L.build/debug -lremotesupport \
 *       -Wl,-rpath,$PWD/.build/debug -o protocol_test && ./protocol_test
 *
 * Join by connection ID, the lobby, connect, consent, screen updates (the agent's screen compared with
 * the frame shared), pointer and key input, clipboard and chat, view-only refusal, a tampered record,
 * the end user ending the session, and bad calls (wrong role, wrong state, NULLs).
 * The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
 */
#include "remotesupport.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define CHECK_OK(call, conn)                                                                      \
    do {                                                                                         \
        int status_ = (call);                                                                    \
        CHECK(status_ == RS_OK, "%s: %s", rs_status_name(status_), rs_conn_errmsg(conn));       \
    } while (0)

/* ---- A broker for one end user and one agent ------------------------------------------------------ */

#define MAX_EVENTS 256

typedef struct recorded {
    int type;
    int reason, mode, by_peer;
    int x, y, wheel_y;
    uint32_t buttons, keysym, width, height;
    int down;
    char session_id[40];
    char text[256];
    char name[64];
} recorded;

typedef struct world {
    uint64_t now;
    rs_conn *end_user, *agent;          /* the peers */
    rs_conn *b_end_user, *b_agent;      /* the broker's side of each */
    recorded eu_events[MAX_EVENTS], ag_events[MAX_EVENTS];
    int eu_count, ag_count;
    char session_id[40];
    uint8_t pending_agent_key[32];
    int pending_mode;
    int connected;
    int corrupt_next_record_to_agent;
    int ended_reason;
} world;

static void copy_text(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

static void record_event(recorded *r, const rs_event *e) {
    memset(r, 0, sizeof *r);
    r->type = e->type;
    r->reason = e->reason;
    r->mode = e->mode;
    r->by_peer = e->by_peer;
    r->x = e->x;
    r->y = e->y;
    r->wheel_y = e->wheel_y;
    r->buttons = e->buttons;
    r->keysym = e->keysym;
    r->width = e->width;
    r->height = e->height;
    r->down = e->down;
    copy_text(r->session_id, sizeof r->session_id, e->session_id);
    copy_text(r->text, sizeof r->text, e->text);
    copy_text(r->name, sizeof r->name, e->name);
}

/* Moves the output of `from` into `to`; returns the number of bytes moved. */
static size_t pipe_bytes(world *w, rs_conn *from, rs_conn *to, int corrupt_records) {
    const uint8_t *data = NULL;
    size_t length = 0;
    CHECK_OK(rs_conn_take_output(from, &data, &length), from);
    if (length == 0) return 0;
    if (corrupt_records && w->corrupt_next_record_to_agent) {
        /* The first record frame (type 0x30) in the bytes: flip one byte of its ciphertext. */
        uint8_t *copy = malloc(length);
        memcpy(copy, data, length);
        for (size_t p = 0; p + 6 < length;) {
            uint32_t len = (uint32_t)copy[p] << 24 | (uint32_t)copy[p + 1] << 16 | (uint32_t)copy[p + 2] << 8 | copy[p + 3];
            if (copy[p + 4] == 0x30 && len > 2 + 12 + 16) {
                copy[p + 6 + 12] ^= 0x01;
                w->corrupt_next_record_to_agent = 0;
                break;
            }
            p += 4 + len;
        }
        rs_conn_receive(to, copy, length, w->now);
        free(copy);
    } else {
        CHECK_OK(rs_conn_receive(to, data, length, w->now), to);
    }
    return length;
}

static void broker_handle(world *w, rs_conn *conn, const rs_event *e) {
    static const uint8_t token_eu[32] = {1, 2, 3}, token_ag[32] = {4, 5, 6};
    int is_end_user = conn == w->b_end_user;
    switch (e->type) {
    case RS_EVENT_JOIN_REQUESTED:
        if (strcmp(e->text, "123456") != 0) {
            CHECK_OK(rs_conn_close(conn, RS_CLOSE_JOIN_REFUSED, "unknown code"), conn);
            break;
        }
        copy_text(w->session_id, sizeof w->session_id, "6f1d8a52-3c1b-4d7e-9a55-0123456789ab");
        CHECK_OK(rs_conn_accept_join(conn, w->session_id, token_eu, 60, 600), conn);
        if (rs_conn_send_lobby(w->b_agent, w->session_id, e->name, e->machine, e->os, "T-42", "connection-id",
                               1700000000000) != RS_OK) {
            /* The agent is not in the lobby yet: it gets the entry when it authenticates. */
        }
        break;
    case RS_EVENT_AUTHENTICATE_REQUESTED:
        if (strcmp(e->text, "good-token") != 0) {
            CHECK_OK(rs_conn_close(conn, RS_CLOSE_AUTHENTICATION_FAILED, "bad token"), conn);
            break;
        }
        CHECK_OK(rs_conn_accept_agent(conn, "agent-7", "Alice Agent", "Support lead", "Example Ltd"), conn);
        if (w->session_id[0])
            CHECK_OK(rs_conn_send_lobby(conn, w->session_id, "Bob", "bob-pc", "Linux", "T-42", "connection-id", 1700000000000), conn);
        break;
    case RS_EVENT_CONNECT_REQUESTED_BY_AGENT:
        CHECK(e->data_length == 32, "agent key of %zu bytes", e->data_length);
        memcpy(w->pending_agent_key, e->data, 32);
        w->pending_mode = e->mode;
        CHECK_OK(rs_conn_request_consent(w->b_end_user, "Alice Agent", "Support lead", "Example Ltd", e->mode, e->data), w->b_end_user);
        break;
    case RS_EVENT_CONSENT_ANSWERED:
        if (e->mode == RS_MODE_DECLINE) {
            CHECK_OK(rs_conn_refuse_connect(w->b_agent, w->session_id, RS_CLOSE_CONSENT_DECLINED, "declined"), w->b_agent);
            break;
        }
        CHECK_OK(rs_conn_session_connected(conn), conn);
        CHECK_OK(rs_conn_send_connected(w->b_agent, w->session_id, e->mode, e->data, token_ag, 60), w->b_agent);
        w->connected = 1;
        break;
    case RS_EVENT_RECORD: {
        rs_conn *other = is_end_user ? w->b_agent : w->b_end_user;
        CHECK_OK(rs_conn_relay(other, e->data, e->data_length), other);
        break;
    }
    case RS_EVENT_SESSION_END_REQUESTED:
        w->ended_reason = e->reason;
        CHECK_OK(rs_conn_send_session_ended(is_end_user ? w->b_agent : w->b_end_user, e->reason, e->text), conn);
        break;
    case RS_EVENT_CLOSED:
        if (is_end_user && w->connected && e->by_peer) {
            w->ended_reason = e->reason;
            w->connected = 0;
            CHECK_OK(rs_conn_send_session_ended(w->b_agent, e->reason, e->text), w->b_agent);
        }
        break;
    default:
        break;
    }
}

/* Moves bytes and handles events until nothing moves. */
static void run(world *w) {
    rs_event e = RS_EVENT_INIT;
    for (int round = 0; round < 1000; round++) {
        size_t moved = 0;
        moved += pipe_bytes(w, w->end_user, w->b_end_user, 0);
        moved += pipe_bytes(w, w->agent, w->b_agent, 0);
        rs_conn *brokers[2] = {w->b_end_user, w->b_agent};
        for (int i = 0; i < 2; i++) {
            while (rs_conn_poll(brokers[i], &e) == RS_OK) {
                broker_handle(w, brokers[i], &e);
                moved++;
            }
        }
        moved += pipe_bytes(w, w->b_end_user, w->end_user, 0);
        moved += pipe_bytes(w, w->b_agent, w->agent, 1);
        int status;
        while ((status = rs_conn_poll(w->end_user, &e)) == RS_OK) {
            if (w->eu_count < MAX_EVENTS) record_event(&w->eu_events[w->eu_count++], &e);
            moved++;
        }
        CHECK(status == RS_NO_EVENT, "poll: %s", rs_status_name(status));
        while (rs_conn_poll(w->agent, &e) == RS_OK) {
            if (w->ag_count < MAX_EVENTS) record_event(&w->ag_events[w->ag_count++], &e);
            moved++;
        }
        if (moved == 0) return;
    }
    CHECK(0, "the world did not settle");
}

static const recorded *last_of(const recorded *events, int count, int type) {
    for (int i = count - 1; i >= 0; i--)
        if (events[i].type == type) return &events[i];
    return NULL;
}

static int count_of(const recorded *events, int count, int type) {
    int n = 0;
    for (int i = 0; i < count; i++) n += events[i].type == type;
    return n;
}

static void make_world(world *w) {
    memset(w, 0, sizeof *w);
    w->now = 1000;
    rs_conn_options o = RS_CONN_OPTIONS_INIT;
    o.record_payload_size = 4096; /* several records per screen update */
    CHECK(rs_conn_new(RS_ROLE_END_USER, &o, w->now, &w->end_user) == RS_OK, "%s", rs_last_error());
    CHECK(rs_conn_new(RS_ROLE_AGENT, NULL, w->now, &w->agent) == RS_OK, "%s", rs_last_error());
    CHECK(rs_conn_new(RS_ROLE_BROKER, NULL, w->now, &w->b_end_user) == RS_OK, "%s", rs_last_error());
    CHECK(rs_conn_new(RS_ROLE_BROKER, NULL, w->now, &w->b_agent) == RS_OK, "%s", rs_last_error());
}

static void free_world(world *w) {
    rs_conn_free(w->end_user);
    rs_conn_free(w->agent);
    rs_conn_free(w->b_end_user);
    rs_conn_free(w->b_agent);
}

/* A 96x64 BGRX frame with a pattern that depends on `seed`. */
static void make_frame(uint8_t *px, uint32_t width, uint32_t height, int seed) {
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++) {
            uint8_t *p = px + (y * width + x) * 4;
            p[0] = (uint8_t)(x * 3 + (uint32_t)seed);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)((x / 8 + y / 8) % 2 ? 200 : 30);
            p[3] = 0;
        }
}

static int screen_equals(rs_conn *agent, const uint8_t *px, uint32_t width, uint32_t height) {
    const uint8_t *pixels = NULL;
    uint32_t w = 0, h = 0;
    size_t stride = 0;
    rs_pixel_format f;
    if (rs_conn_screen(agent, &pixels, &w, &h, &stride, &f) != RS_OK) return 0;
    if (w != width || h != height || f.bits_per_pixel != 32) return 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (memcmp(pixels + y * stride + x * 4, px + (y * width + x) * 4, 3) != 0) return 0;
    return 1;
}

static void connect_world(world *w, int mode) {
    CHECK_OK(rs_conn_join(w->end_user, RS_JOIN_CONNECTION_ID, "123456", "Bob", "bob-pc", "Linux"), w->end_user);
    CHECK_OK(rs_conn_authenticate(w->agent, "good-token"), w->agent);
    run(w);
    const recorded *joined = last_of(w->eu_events, w->eu_count, RS_EVENT_JOINED);
    CHECK(joined && strcmp(joined->session_id, w->session_id) == 0, "joined");
    const recorded *lobby = last_of(w->ag_events, w->ag_count, RS_EVENT_LOBBY_SESSION);
    CHECK(lobby != NULL && strcmp(lobby->name, "Bob") == 0, "lobby entry for Bob");
    if (!lobby) return;
    CHECK_OK(rs_conn_connect(w->agent, lobby->session_id, mode), w->agent);
    run(w);
    const recorded *asked = last_of(w->eu_events, w->eu_count, RS_EVENT_CONNECT_REQUESTED);
    CHECK(asked && strcmp(asked->name, "Alice Agent") == 0 && asked->mode == mode, "connect request from Alice");
    CHECK_OK(rs_conn_consent(w->end_user, mode), w->end_user);
    run(w);
}

static void test_whole_session(void) {
    world w;
    make_world(&w);
    connect_world(&w, RS_MODE_CONTROL);

    const char *sas_eu = NULL, *sas_ag = NULL;
    CHECK_OK(rs_conn_sas(w.end_user, &sas_eu), w.end_user);
    CHECK_OK(rs_conn_sas(w.agent, &sas_ag), w.agent);
    CHECK(sas_eu && sas_ag && strlen(sas_eu) == 7 && strcmp(sas_eu, sas_ag) == 0, "SAS %s / %s", sas_eu, sas_ag);
    CHECK(count_of(w.eu_events, w.eu_count, RS_EVENT_PEER_VERIFIED) == 1, "end user verified the agent");
    CHECK(count_of(w.ag_events, w.ag_count, RS_EVENT_PEER_VERIFIED) == 1, "agent verified the end user");
    CHECK(last_of(w.eu_events, w.eu_count, RS_EVENT_READY_FOR_FRAME) != NULL, "ready for a frame");

    /* Screen: the first frame whole, then a change. */
    enum { W = 96, H = 64 };
    static uint8_t frame[W * H * 4];
    rs_pixel_format bgrx;
    rs_pixel_format_preset(RS_FORMAT_BGRX8888, &bgrx);
    make_frame(frame, W, H, 0);
    int sent = 0;
    CHECK_OK(rs_conn_share_frame(w.end_user, frame, sizeof frame, W, H, W * 4, &bgrx, &sent), w.end_user);
    CHECK(sent == 1, "first frame sent");
    run(&w);
    const recorded *info = last_of(w.ag_events, w.ag_count, RS_EVENT_SCREEN_INFO);
    CHECK(info && info->width == W && info->height == H, "screen info %ux%u", info ? info->width : 0, info ? info->height : 0);
    CHECK(screen_equals(w.agent, frame, W, H), "the agent's screen equals the frame");
    for (int i = 0; i < 10; i++) frame[(20 * W + 30 + i) * 4 + 2] = 255;
    CHECK_OK(rs_conn_share_frame(w.end_user, frame, sizeof frame, W, H, W * 4, &bgrx, &sent), w.end_user);
    CHECK(sent == 1, "second frame sent");
    run(&w);
    CHECK(screen_equals(w.agent, frame, W, H), "the agent's screen follows the change");
    CHECK(count_of(w.ag_events, w.ag_count, RS_EVENT_SCREEN_UPDATED) == 2, "two updates");

    /* Input back. */
    int before = w.eu_count;
    CHECK_OK(rs_conn_send_pointer(w.agent, 40, 30, 1, 0, 0, &sent), w.agent);
    CHECK(sent == 1, "pointer sent");
    CHECK_OK(rs_conn_send_pointer(w.agent, 40, 30, 0, 0, -1, &sent), w.agent);
    CHECK_OK(rs_conn_send_key(w.agent, 0xff0d /* Return */, 1, &sent), w.agent);
    CHECK_OK(rs_conn_send_key(w.agent, 0xff0d, 0, &sent), w.agent);
    CHECK_OK(rs_conn_send_clipboard(w.agent, "copied text"), w.agent);
    CHECK_OK(rs_conn_send_chat(w.end_user, "hi there"), w.end_user);
    run(&w);
    CHECK(w.eu_count - before == 5, "%d events for the end user", w.eu_count - before);
    if (w.eu_count - before == 5) {
        const recorded *e = &w.eu_events[before];
        CHECK(e[0].type == RS_EVENT_POINTER && e[0].x == 40 && e[0].y == 30 && e[0].buttons == 1, "press");
        CHECK(e[1].type == RS_EVENT_POINTER && e[1].buttons == 0 && e[1].wheel_y == -1, "release + wheel");
        CHECK(e[2].type == RS_EVENT_KEY && e[2].keysym == 0xff0d && e[2].down == 1, "key down");
        CHECK(e[3].type == RS_EVENT_KEY && e[3].down == 0, "key up");
        CHECK(e[4].type == RS_EVENT_CLIPBOARD && strcmp(e[4].text, "copied text") == 0, "clipboard");
    }
    const recorded *chat = last_of(w.ag_events, w.ag_count, RS_EVENT_CHAT);
    CHECK(chat && strcmp(chat->text, "hi there") == 0, "chat");

    /* The end user ends it: the agent learns why, once, and stays connected in the lobby. */
    CHECK_OK(rs_conn_end_session(w.end_user, RS_CLOSE_ENDED_BY_END_USER, "thanks"), w.end_user);
    run(&w);
    CHECK(count_of(w.ag_events, w.ag_count, RS_EVENT_SESSION_ENDED) == 1, "one session end");
    const recorded *ended = last_of(w.ag_events, w.ag_count, RS_EVENT_SESSION_ENDED);
    CHECK(ended && ended->reason == RS_CLOSE_ENDED_BY_END_USER && strcmp(ended->text, "thanks") == 0,
          "ended by the end user: %s", ended ? ended->text : "(none)");
    CHECK(w.ended_reason == RS_CLOSE_ENDED_BY_END_USER, "the broker saw why: %d", w.ended_reason);
    const recorded *closed = last_of(w.eu_events, w.eu_count, RS_EVENT_CLOSED);
    CHECK(closed && closed->by_peer == 0 && closed->reason == RS_CLOSE_ENDED_BY_END_USER, "end user closed");
    CHECK(rs_conn_send_key(w.agent, 'a', 1, &sent) == RS_OK && sent == 0, "no input after the end");
    CHECK(rs_conn_send_chat(w.agent, "anyone?") == RS_ERR_STATE, "chat without a session");
    uint64_t wake = 0;
    CHECK(rs_conn_next_wakeup(w.end_user, &wake) == RS_NO_DEADLINE, "closed: no deadline");
    CHECK(rs_conn_next_wakeup(w.agent, &wake) == RS_OK && wake > w.now, "agent: a keepalive deadline");
    free_world(&w);
}

static void test_view_only_and_tampering(void) {
    world w;
    make_world(&w);
    connect_world(&w, RS_MODE_VIEW_ONLY);
    int sent = 1;
    CHECK_OK(rs_conn_send_key(w.agent, 'x', 1, &sent), w.agent);
    CHECK(sent == 0, "view only: key not sent");
    CHECK_OK(rs_conn_set_access(w.end_user, RS_MODE_CONTROL), w.end_user);
    run(&w);
    const recorded *access = last_of(w.ag_events, w.ag_count, RS_EVENT_ACCESS_CHANGED);
    CHECK(access && access->mode == RS_MODE_CONTROL, "control granted");
    CHECK_OK(rs_conn_send_key(w.agent, 'x', 1, &sent), w.agent);
    CHECK(sent == 1, "control: key sent");
    run(&w);
    const recorded *key = last_of(w.eu_events, w.eu_count, RS_EVENT_KEY);
    CHECK(key && key->keysym == 'x', "key arrived");

    /* A record altered on the way to the agent closes its connection with a crypto failure. */
    w.corrupt_next_record_to_agent = 1;
    CHECK_OK(rs_conn_send_chat(w.end_user, "this will be altered"), w.end_user);
    run(&w);
    const recorded *closed = last_of(w.ag_events, w.ag_count, RS_EVENT_CLOSED);
    CHECK(closed && closed->reason == RS_CLOSE_CRYPTO_FAILURE && closed->by_peer == 0, "crypto failure: %d",
          closed ? closed->reason : -1);
    CHECK(last_of(w.ag_events, w.ag_count, RS_EVENT_CHAT) == NULL, "the altered chat was not delivered");
    free_world(&w);
}

static void test_refusals_and_bad_calls(void) {
    world w;
    make_world(&w);
    CHECK_OK(rs_conn_join(w.end_user, RS_JOIN_CONNECTION_ID, "999999", "", "pc", ""), w.end_user);
    CHECK_OK(rs_conn_authenticate(w.agent, "wrong"), w.agent);
    run(&w);
    const recorded *c1 = last_of(w.eu_events, w.eu_count, RS_EVENT_CLOSED);
    CHECK(c1 && c1->reason == RS_CLOSE_JOIN_REFUSED && c1->by_peer == 1 && strcmp(c1->text, "unknown code") == 0, "join refused");
    const recorded *c2 = last_of(w.ag_events, w.ag_count, RS_EVENT_CLOSED);
    CHECK(c2 && c2->reason == RS_CLOSE_AUTHENTICATION_FAILED, "token refused");
    int can_resume = 1;
    CHECK_OK(rs_conn_connection_lost(w.end_user, w.now, &can_resume), w.end_user);
    CHECK(can_resume == 0, "nothing to resume");
    CHECK(rs_conn_reconnect(w.end_user, w.now) == RS_ERR_STATE, "reconnect refused: %s", rs_conn_errmsg(w.end_user));

    /* Wrong role, wrong state, bad arguments, NULLs. */
    rs_conn *eu = NULL, *ag = NULL;
    CHECK(rs_conn_new(RS_ROLE_END_USER, NULL, 0, &eu) == RS_OK, "new");
    CHECK(rs_conn_new(RS_ROLE_AGENT, NULL, 0, &ag) == RS_OK, "new");
    CHECK(rs_conn_role(eu) == RS_ROLE_END_USER && rs_conn_role(ag) == RS_ROLE_AGENT && rs_conn_role(NULL) == 0, "roles");
    CHECK(rs_conn_authenticate(eu, "x") == RS_ERR_STATE, "an end user cannot authenticate");
    CHECK(strstr(rs_conn_errmsg(eu), "agent") != NULL, "errmsg: %s", rs_conn_errmsg(eu));
    CHECK(rs_conn_consent(eu, RS_MODE_CONTROL) == RS_ERR_STATE, "no request to consent to");
    CHECK(rs_conn_consent(eu, 7) == RS_ERR_INVALID_ARGUMENT, "bad mode");
    CHECK(rs_conn_join(eu, 9, "123456", "", "pc", "") == RS_ERR_INVALID_ARGUMENT, "bad method");
    CHECK(rs_conn_join(eu, RS_JOIN_CONNECTION_ID, NULL, "", "pc", "") == RS_ERR_NULL_POINTER, "NULL credential");
    CHECK(rs_conn_connect(ag, "not-a-uuid", RS_MODE_CONTROL) == RS_ERR_INVALID_ARGUMENT, "bad session id");
    CHECK(rs_conn_connect(ag, "6f1d8a52-3c1b-4d7e-9a55-0123456789ab", RS_MODE_CONTROL) == RS_ERR_STATE, "not in the lobby");
    CHECK(rs_conn_accept_join(ag, "6f1d8a52-3c1b-4d7e-9a55-0123456789ab", (const uint8_t *)"0123456789abcdef0123456789abcdef", 1, 1)
          == RS_ERR_STATE, "an agent is no broker");
    const uint8_t *out = NULL;
    size_t length = 0;
    CHECK(rs_conn_take_output(NULL, &out, &length) == RS_ERR_NULL_POINTER, "NULL conn");
    CHECK(rs_conn_take_output(eu, &out, &length) == RS_OK && length > 10 && out[4] == 0x01, "the hello first");
    rs_event e;
    e.struct_size = 8;
    CHECK(rs_conn_poll(eu, &e) == RS_ERR_INVALID_ARGUMENT, "struct_size checked");
    rs_conn_options o = RS_CONN_OPTIONS_INIT;
    o.update_window = 0;
    rs_conn *bad = NULL;
    CHECK(rs_conn_new(RS_ROLE_END_USER, &o, 0, &bad) == RS_ERR_INVALID_ARGUMENT && bad == NULL, "bad options");
    CHECK(rs_conn_new(9, NULL, 0, &bad) == RS_ERR_INVALID_ARGUMENT, "bad role: %s", rs_last_error());
    CHECK(strcmp(rs_status_name(RS_ERR_STATE), "RS_ERR_STATE") == 0, "status name");

    /* Garbage from the "broker" closes the connection with a protocol error, not the process. */
    const uint8_t junk[] = {0, 0, 0, 1, 9, 9, 9, 9};
    CHECK_OK(rs_conn_receive(ag, junk, sizeof junk, 5), ag);
    rs_event ev = RS_EVENT_INIT;
    CHECK(rs_conn_poll(ag, &ev) == RS_OK && ev.type == RS_EVENT_CLOSED && ev.reason == RS_CLOSE_PROTOCOL_ERROR && ev.by_peer == 0,
          "protocol error: type %d reason %d", ev.type, ev.reason);
    CHECK(rs_conn_poll(ag, &ev) == RS_NO_EVENT, "one event");

    /* Keepalive: a silent broker is closed after the timeout. */
    uint64_t wake = 0;
    CHECK(rs_conn_next_wakeup(eu, &wake) == RS_OK && wake == 10000, "handshake deadline %llu", (unsigned long long)wake);
    CHECK_OK(rs_conn_tick(eu, wake), eu);
    CHECK(rs_conn_poll(eu, &ev) == RS_OK && ev.type == RS_EVENT_CLOSED && ev.reason == RS_CLOSE_TIMEOUT, "timeout");
    rs_conn_free(eu);
    rs_conn_free(ag);
    rs_conn_free(NULL);
    free_world(&w);
}

int main(void) {
    test_whole_session();
    test_view_only_and_tampering();
    test_refusals_and_bad_calls();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
