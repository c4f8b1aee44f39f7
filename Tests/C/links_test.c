/*
 * links_test.c - join links, short codes and connection IDs from a real C program, against
 * libremotesupport.so and remotesupport.h.
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -IInclude Tests/C/links_test.c -L.build/debug -lremotesupport \
 *       -Wl,-rpath,$PWD/.build/debug -o links_test && ./links_test
 *
 * Builds personal and invitation links (non-ASCII names, tickets with '#' and '/'), parses them back,
 * alters each signed field, uses another key, an expired time and foreign URLs, and parses and formats
 * connection IDs. Every string the library hands out is freed, so valgrind sees no leak.
 * The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
 */
#include "remotesupport.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static_assert(sizeof(rs_invitation_spec) == 56, "rs_invitation_spec (LP64)");

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

#define CHECK_STATUS(call, expected, errmsg)                                                      \
    do {                                                                                         \
        int status_ = (call);                                                                    \
        CHECK(status_ == (expected), "got %s, expected %s (%s)", rs_status_name(status_),       \
              rs_status_name(expected), (errmsg));                                               \
    } while (0)

static const int64_t NOW = 1700000000;
static const int64_t LATER = 1800000000;

static int streq(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A copy of link with the value of parameter name (name=...) replaced by raw; the caller frees it. */
static char *replace_param(const char *link, const char *name, const char *raw) {
    size_t n = strlen(name);
    const char *start = strchr(link, '?');
    while (start && !(strncmp(start + 1, name, n) == 0 && start[1 + n] == '=')) start = strchr(start + 1, '&');
    if (!start) abort();
    const char *value = start + 1 + n + 1;
    const char *end = value + strcspn(value, "&#");
    size_t size = (size_t)(value - link) + strlen(raw) + strlen(end) + 1;
    char *out = malloc(size);
    if (!out) abort();
    snprintf(out, size, "%.*s%s%s", (int)(value - link), link, raw, end);
    return out;
}

/* Builds an invitation; returns its status. *out_link is the caller's to rs_string_free. */
static int invite(rs_link_signer *signer, const char *ticket, const char *name, int64_t expires, int generate,
                  uint8_t out_id[RS_INVITATION_ID_SIZE], char **out_link) {
    rs_invitation_spec spec = RS_INVITATION_SPEC_INIT;
    spec.agent_slug = "zoe-obrien";
    spec.ticket = ticket;
    spec.end_user_name = name;
    spec.expires = expires;
    spec.generate_id = generate;
    for (int i = 0; i < RS_INVITATION_ID_SIZE; i++) spec.id[i] = (uint8_t)i;
    return rs_link_invitation(signer, &spec, out_id, out_link);
}

static rs_link_signer *new_signer(const char *url, uint8_t fill) {
    uint8_t key[RS_LINK_KEY_SIZE];
    memset(key, fill, sizeof key);
    rs_link_signer *signer = NULL;
    CHECK_STATUS(rs_link_signer_new(url, key, sizeof key, &signer), RS_OK, rs_last_error());
    return signer;
}

static void test_personal(rs_link_signer *signer) {
    char *link = NULL;
    CHECK_STATUS(rs_link_personal(signer, "zoe-obrien", &link), RS_OK, rs_link_signer_errmsg(signer));
    CHECK(streq(link, "https://help.example.com/join/zoe-obrien"), "%s", link ? link : "(null)");
    rs_join_link *parsed = NULL;
    CHECK_STATUS(rs_link_parse(signer, link, NOW, &parsed), RS_OK, rs_link_signer_errmsg(signer));
    CHECK(rs_join_link_kind(parsed) == RS_JOIN_LINK_PERSONAL, "kind");
    CHECK(streq(rs_join_link_agent_slug(parsed), "zoe-obrien"), "slug");
    CHECK(rs_join_link_ticket(parsed) == NULL && rs_join_link_end_user_name(parsed) == NULL, "no ticket, no name");
    CHECK(rs_join_link_id(parsed) == NULL && rs_join_link_id_bytes(parsed) == NULL && rs_join_link_expires(parsed) == 0,
          "no id, no expiry");
    rs_join_link_free(parsed);
    rs_string_free(link);

    link = NULL;
    CHECK_STATUS(rs_link_personal(signer, "Zoe O'Brien", &link), RS_ERR_INVALID_FIELD, rs_link_signer_errmsg(signer));
    CHECK(link == NULL && strlen(rs_link_signer_errmsg(signer)) > 0, "out_link untouched, message set");
}

static void test_invitation_round_trip(rs_link_signer *signer, const char *ticket, const char *name) {
    char *link = NULL;
    uint8_t id[RS_INVITATION_ID_SIZE] = {0};
    CHECK_STATUS(invite(signer, ticket, name, LATER, 0, id, &link), RS_OK, rs_link_signer_errmsg(signer));
    CHECK(id[0] == 0 && id[15] == 15, "out_id is the id given");
    rs_join_link *parsed = NULL;
    CHECK_STATUS(rs_link_parse(signer, link, NOW, &parsed), RS_OK, rs_link_signer_errmsg(signer));
    CHECK(rs_join_link_kind(parsed) == RS_JOIN_LINK_INVITATION, "kind");
    CHECK(streq(rs_join_link_agent_slug(parsed), "zoe-obrien"), "slug");
    CHECK(streq(rs_join_link_ticket(parsed), ticket), "ticket %s", rs_join_link_ticket(parsed));
    CHECK(streq(rs_join_link_end_user_name(parsed), name), "name %s", rs_join_link_end_user_name(parsed));
    CHECK(rs_join_link_expires(parsed) == LATER, "expires");
    CHECK(streq(rs_join_link_id(parsed), "AAECAwQFBgcICQoLDA0ODw"), "id %s", rs_join_link_id(parsed));
    const uint8_t *bytes = rs_join_link_id_bytes(parsed);
    CHECK(bytes != NULL && memcmp(bytes, id, RS_INVITATION_ID_SIZE) == 0, "id bytes");
    rs_join_link_free(parsed);
    rs_string_free(link);
}

static void test_generated_id(rs_link_signer *signer) {
    char *a = NULL, *b = NULL;
    uint8_t ida[RS_INVITATION_ID_SIZE], idb[RS_INVITATION_ID_SIZE];
    CHECK_STATUS(invite(signer, "T-1", NULL, LATER, 1, ida, &a), RS_OK, rs_link_signer_errmsg(signer));
    CHECK_STATUS(invite(signer, "T-1", NULL, LATER, 1, idb, &b), RS_OK, rs_link_signer_errmsg(signer));
    CHECK(memcmp(ida, idb, sizeof ida) != 0 && !streq(a, b), "fresh ids");
    rs_join_link *parsed = NULL;
    CHECK_STATUS(rs_link_parse(signer, a, NOW, &parsed), RS_OK, rs_link_signer_errmsg(signer));
    char text[RS_INVITATION_ID_TEXT_SIZE];
    CHECK_STATUS(rs_invitation_id_format(ida, text), RS_OK, rs_last_error());
    CHECK(streq(text, rs_join_link_id(parsed)), "%s", text);
    CHECK(memcmp(rs_join_link_id_bytes(parsed), ida, sizeof ida) == 0, "id bytes");
    rs_join_link_free(parsed);
    rs_string_free(a);
    rs_string_free(b);
}

static void expect_parse(rs_link_signer *signer, const char *link, int64_t now, int expected) {
    rs_join_link *parsed = NULL;
    CHECK_STATUS(rs_link_parse(signer, link, now, &parsed), expected, rs_link_signer_errmsg(signer));
    CHECK(expected != RS_OK || parsed != NULL, "parsed");
    CHECK(expected == RS_OK || (parsed == NULL && strlen(rs_link_signer_errmsg(signer)) > 0), "%s", link);
    rs_join_link_free(parsed);
}

static void test_tampering(rs_link_signer *signer) {
    char *link = NULL;
    CHECK_STATUS(invite(signer, "#4711/b", "Zo\xC3\xAB", LATER, 0, NULL, &link), RS_OK, rs_link_signer_errmsg(signer));
    const char *edits[][2] = {
        {"ticket", "%234711%2Fc"}, {"name", "Zoe"}, {"expires", "1800000001"}, {"id", "AAECAwQFBgcICQoLDA0OEA"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *altered = replace_param(link, edits[i][0], edits[i][1]);
        expect_parse(signer, altered, NOW, RS_ERR_BAD_SIGNATURE);
        free(altered);
    }
    /* Another agent's slug. */
    char *other_slug = malloc(strlen(link) + 1);
    if (!other_slug) abort();
    const char *at = strstr(link, "zoe-obrien?");
    snprintf(other_slug, strlen(link) + 1, "%.*seve%s", (int)(at - link), link, at + strlen("zoe-obrien"));
    expect_parse(signer, other_slug, NOW, RS_ERR_BAD_SIGNATURE);
    free(other_slug);

    /* Another key. */
    rs_link_signer *other = new_signer("https://help.example.com", 0x55);
    expect_parse(other, link, NOW, RS_ERR_BAD_SIGNATURE);
    rs_link_signer_free(other);

    /* Malformed: bad escape, invalid UTF-8, repeated parameter, an expiry past the cap. */
    const char *malformed[][2] = {{"name", "%zz"}, {"name", "%C3%28"}, {"expires", "9223372036854775807"}};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char *altered = replace_param(link, malformed[i][0], malformed[i][1]);
        expect_parse(signer, altered, NOW, RS_ERR_MALFORMED_LINK);
        free(altered);
    }
    rs_string_free(link);
}

static void test_expiry_and_foreign(rs_link_signer *signer) {
    char *link = NULL;
    CHECK_STATUS(invite(signer, NULL, "Ada", NOW, 0, NULL, &link), RS_OK, rs_link_signer_errmsg(signer));
    expect_parse(signer, link, NOW - 1, RS_OK);
    expect_parse(signer, link, NOW, RS_ERR_EXPIRED);
    expect_parse(signer, link, INT64_MAX, RS_ERR_EXPIRED);
    rs_string_free(link);

    expect_parse(signer, "https://evil.example.com/join/zoe-obrien", NOW, RS_ERR_MALFORMED_LINK);
    expect_parse(signer, "http://help.example.com/join/zoe-obrien", NOW, RS_ERR_MALFORMED_LINK);
    expect_parse(signer, "https://help.example.com/join/", NOW, RS_ERR_MALFORMED_LINK);
    expect_parse(signer, "", NOW, RS_ERR_MALFORMED_LINK);
    expect_parse(signer, "https://help.example.com/join/a\xFF", NOW, RS_ERR_MALFORMED_LINK);
    expect_parse(signer, "HTTPS://HELP.EXAMPLE.COM/join/zoe-obrien/#top", NOW, RS_OK);

    /* A signer with a path prefix. */
    rs_link_signer *prefixed = new_signer("https://example.com/support/", 0x11);
    CHECK(streq(rs_link_signer_public_url(prefixed), "https://example.com/support"), "%s", rs_link_signer_public_url(prefixed));
    expect_parse(prefixed, "https://example.com/support/join/zoe-obrien", NOW, RS_OK);
    expect_parse(prefixed, "https://example.com/join/zoe-obrien", NOW, RS_ERR_MALFORMED_LINK);
    rs_link_signer_free(prefixed);
}

static void test_errors(rs_link_signer *signer) {
    rs_link_signer *out = NULL;
    uint8_t key[RS_LINK_KEY_SIZE] = {0};
    CHECK_STATUS(rs_link_signer_new("ftp://x", key, sizeof key, &out), RS_ERR_INVALID_FIELD, rs_last_error());
    CHECK_STATUS(rs_link_signer_new("https://x", key, 16, &out), RS_ERR_INVALID_ARGUMENT, rs_last_error());
    CHECK_STATUS(rs_link_signer_new(NULL, key, sizeof key, &out), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK(out == NULL, "out_signer untouched");
    CHECK_STATUS(rs_link_generate_key(NULL), RS_ERR_NULL_POINTER, rs_last_error());

    char *link = NULL;
    rs_join_link *parsed = NULL;
    CHECK_STATUS(rs_link_personal(NULL, "a", &link), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK_STATUS(rs_link_parse(signer, NULL, NOW, &parsed), RS_ERR_NULL_POINTER, rs_link_signer_errmsg(signer));
    CHECK_STATUS(invite(signer, NULL, NULL, -1, 0, NULL, &link), RS_ERR_INVALID_ARGUMENT, rs_link_signer_errmsg(signer));
    CHECK_STATUS(invite(signer, "T\n1", NULL, LATER, 0, NULL, &link), RS_ERR_INVALID_FIELD, rs_link_signer_errmsg(signer));
    CHECK_STATUS(invite(signer, NULL, "", LATER, 0, NULL, &link), RS_ERR_INVALID_FIELD, rs_link_signer_errmsg(signer));
    rs_invitation_spec stale;
    memset(&stale, 0, sizeof stale);
    stale.agent_slug = "zoe";
    CHECK_STATUS(rs_link_invitation(signer, &stale, NULL, &link), RS_ERR_INVALID_ARGUMENT, rs_link_signer_errmsg(signer));
    rs_invitation_spec spec;
    CHECK_STATUS(rs_invitation_spec_init(&spec), RS_OK, rs_last_error());
    CHECK(spec.struct_size == sizeof spec && spec.agent_slug == NULL, "spec init");
    CHECK_STATUS(rs_link_invitation(signer, &spec, NULL, &link), RS_ERR_NULL_POINTER, rs_link_signer_errmsg(signer));
    CHECK(link == NULL && parsed == NULL, "outs untouched");

    CHECK(strcmp(rs_status_name(RS_ERR_BAD_SIGNATURE), "RS_ERR_BAD_SIGNATURE") == 0, "name");
    CHECK(strcmp(rs_status_name(RS_ERR_MALFORMED_LINK), "RS_ERR_MALFORMED_LINK") == 0, "name");
    CHECK(strcmp(rs_status_name(RS_ERR_EXPIRED), "RS_ERR_EXPIRED") == 0, "name");
    CHECK(strcmp(rs_status_name(RS_ERR_INVALID_FIELD), "RS_ERR_INVALID_FIELD") == 0, "name");
    CHECK(strcmp(rs_status_name(RS_ERR_NOT_FOUND), "RS_ERR_NOT_FOUND") == 0, "name");

    rs_link_signer_free(NULL);
    rs_join_link_free(NULL);
    rs_string_free(NULL);
    CHECK(rs_join_link_kind(NULL) == 0 && rs_join_link_agent_slug(NULL) == NULL, "NULL link getters");
    CHECK(strlen(rs_link_signer_errmsg(NULL)) > 0, "NULL signer errmsg");
}

static void test_short_codes(void) {
    CHECK_STATUS(rs_short_code_validate("AbCdEf0123456789"), RS_OK, rs_last_error());
    CHECK_STATUS(rs_short_code_validate("short"), RS_ERR_NOT_FOUND, rs_last_error());
    CHECK_STATUS(rs_short_code_validate("AbCdEf01234567-9"), RS_ERR_NOT_FOUND, rs_last_error());
    CHECK_STATUS(rs_short_code_validate(NULL), RS_ERR_NULL_POINTER, rs_last_error());
}

static void test_connection_ids(void) {
    const char *good[] = {"123 456", "123-456", "123456", " 000 042", "999.999"};
    const uint32_t values[] = {123456, 123456, 123456, 42, 999999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t value = 7;
        CHECK_STATUS(rs_connection_id_parse(good[i], &value), RS_OK, rs_last_error());
        CHECK(value == values[i], "%s -> %u", good[i], value);
    }
    const char *bad[] = {"12345", "1234567", "12a456", "", "123_456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t value = 7;
        CHECK_STATUS(rs_connection_id_parse(bad[i], &value), RS_ERR_INVALID_FIELD, rs_last_error());
        CHECK(value == 7 && strlen(rs_last_error()) > 0, "%s: out_value untouched", bad[i]);
    }
    uint32_t value = 7;
    CHECK_STATUS(rs_connection_id_parse(NULL, &value), RS_ERR_NULL_POINTER, rs_last_error());
    CHECK_STATUS(rs_connection_id_parse("123456", NULL), RS_ERR_NULL_POINTER, rs_last_error());

    char text[RS_CONNECTION_ID_TEXT_SIZE];
    CHECK_STATUS(rs_connection_id_format(123456, text), RS_OK, rs_last_error());
    CHECK(streq(text, "123 456"), "%s", text);
    CHECK_STATUS(rs_connection_id_format(42, text), RS_OK, rs_last_error());
    CHECK(streq(text, "000 042"), "%s", text);
    CHECK_STATUS(rs_connection_id_format(RS_CONNECTION_ID_MAX + 1, text), RS_ERR_INVALID_FIELD, rs_last_error());
    CHECK(streq(text, "000 042"), "out_text untouched");
    CHECK_STATUS(rs_connection_id_format(1, NULL), RS_ERR_NULL_POINTER, rs_last_error());
    for (uint32_t v = 0; v <= RS_CONNECTION_ID_MAX; v += 99991) {
        uint32_t back = 0;
        CHECK(rs_connection_id_format(v, text) == RS_OK && rs_connection_id_parse(text, &back) == RS_OK && back == v,
              "%u", v);
    }
}

int main(void) {
    uint8_t key[RS_LINK_KEY_SIZE];
    CHECK_STATUS(rs_link_generate_key(key), RS_OK, rs_last_error());
    rs_link_signer *signer = NULL;
    CHECK_STATUS(rs_link_signer_new("https://help.example.com", key, sizeof key, &signer), RS_OK, rs_last_error());
    if (signer) {
        test_personal(signer);
        test_invitation_round_trip(signer, "#4711/b", "Zo\xC3\xAB \xC3\x84rger-\xC5\x9E" "ahin");
        test_invitation_round_trip(signer, "INC-1: a.b_c", NULL);
        test_invitation_round_trip(signer, NULL, "\xE6\x9D\x8E \xE5\xB0\x8F\xE9\xBE\x8D");
        test_invitation_round_trip(signer, NULL, NULL);
        test_invitation_round_trip(signer, "a/b#c", "A+B & C=D?");
        test_generated_id(signer);
        test_tampering(signer);
        test_expiry_and_foreign(signer);
        test_errors(signer);
    }
    rs_link_signer_free(signer);
    test_short_codes();
    test_connection_ids();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
