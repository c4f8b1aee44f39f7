#!/usr/bin/env python3
"""libremotesupport's links, short codes and connection IDs from Python ctypes.

    python3 Tests/C/links_ctypes_test.py [path/to/libremotesupport.so]

The default library is .build/debug/libremotesupport.so (or $RS_LIBRARY). ctypes cannot see the header's
macros, so the constants and rs_invitation_spec are repeated here (rs_invitation_spec_init fills the
struct). Strings the library allocates come back as c_void_p, are copied with string_at and freed with
rs_string_free (a c_char_p restype would copy them and lose the pointer, leaking it).
The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
"""
import ctypes as C
import os
import sys

RS_OK = 0
RS_ERR_INVALID_ARGUMENT = -13
RS_ERR_NULL_POINTER = -100
RS_ERR_INVALID_FIELD = -200
RS_ERR_NOT_FOUND = -205
RS_ERR_BAD_SIGNATURE = -206
RS_ERR_MALFORMED_LINK = -207
RS_ERR_EXPIRED = -214
RS_LINK_KEY_SIZE = 32
RS_INVITATION_ID_SIZE = 16
RS_INVITATION_ID_TEXT_SIZE = 23
RS_LINK_MAX_EXPIRES = 253402300799
RS_JOIN_LINK_PERSONAL, RS_JOIN_LINK_INVITATION = 1, 2
RS_CONNECTION_ID_TEXT_SIZE = 8

NOW, LATER = 1700000000, 1800000000


class InvitationSpec(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("generate_id", C.c_int32), ("agent_slug", C.c_char_p),
                ("ticket", C.c_char_p), ("end_user_name", C.c_char_p), ("expires", C.c_int64),
                ("id", C.c_uint8 * RS_INVITATION_ID_SIZE)]


def load(path):
    lib = C.CDLL(path)
    P, I, S, U8P = C.c_void_p, C.c_int, C.c_char_p, C.POINTER(C.c_uint8)
    sigs = {
        "rs_status_name": (S, [I]),
        "rs_last_error": (S, []),
        "rs_link_generate_key": (I, [U8P]),
        "rs_link_signer_new": (I, [S, U8P, C.c_size_t, C.POINTER(P)]),
        "rs_link_signer_public_url": (S, [P]),
        "rs_link_signer_errmsg": (S, [P]),
        "rs_link_signer_free": (None, [P]),
        "rs_link_personal": (I, [P, S, C.POINTER(P)]),
        "rs_invitation_spec_init": (I, [C.POINTER(InvitationSpec)]),
        "rs_link_invitation": (I, [P, C.POINTER(InvitationSpec), U8P, C.POINTER(P)]),
        "rs_link_parse": (I, [P, S, C.c_int64, C.POINTER(P)]),
        "rs_join_link_kind": (I, [P]),
        "rs_join_link_agent_slug": (S, [P]),
        "rs_join_link_ticket": (S, [P]),
        "rs_join_link_end_user_name": (S, [P]),
        "rs_join_link_expires": (C.c_int64, [P]),
        "rs_join_link_id": (S, [P]),
        "rs_join_link_id_bytes": (U8P, [P]),
        "rs_join_link_free": (None, [P]),
        "rs_invitation_id_format": (I, [U8P, C.c_char_p]),
        "rs_string_free": (None, [P]),
        "rs_short_code_validate": (I, [S]),
        "rs_connection_id_parse": (I, [S, C.POINTER(C.c_uint32)]),
        "rs_connection_id_format": (I, [C.c_uint32, C.c_char_p]),
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


class Signer:
    def __init__(self, lib, url, key):
        self.lib = lib
        self.handle = C.c_void_p()
        k = (C.c_uint8 * len(key))(*key)
        status = lib.rs_link_signer_new(url.encode(), k, len(key), C.byref(self.handle))
        if status != RS_OK:
            raise RuntimeError(f"rs_link_signer_new: {lib.rs_status_name(status)}: {lib.rs_last_error()}")

    def close(self):
        self.lib.rs_link_signer_free(self.handle)
        self.handle = None

    def errmsg(self):
        return self.lib.rs_link_signer_errmsg(self.handle).decode()

    def take(self, pointer):
        """Copies a library-owned string and frees it."""
        try:
            return C.string_at(pointer).decode() if pointer.value else None
        finally:
            self.lib.rs_string_free(pointer)

    def personal(self, slug):
        out = C.c_void_p()
        status = self.lib.rs_link_personal(self.handle, slug.encode(), C.byref(out))
        return status, self.take(out)

    def invitation(self, ticket=None, name=None, expires=LATER, id_bytes=bytes(range(16)), slug="zoe-obrien"):
        spec = InvitationSpec()
        check(self.lib.rs_invitation_spec_init(C.byref(spec)) == RS_OK, "rs_invitation_spec_init")
        spec.agent_slug = slug.encode() if slug is not None else None
        spec.ticket = ticket.encode() if ticket is not None else None
        spec.end_user_name = name.encode() if name is not None else None
        spec.expires = expires
        if id_bytes is None:
            spec.generate_id = 1
        else:
            spec.id[:] = list(id_bytes)
        out, out_id = C.c_void_p(), (C.c_uint8 * RS_INVITATION_ID_SIZE)()
        status = self.lib.rs_link_invitation(self.handle, C.byref(spec), out_id, C.byref(out))
        return status, self.take(out), bytes(out_id)

    def parse(self, link, now=NOW):
        """(status, fields) with the parsed link's fields read through the getters, then freed."""
        out = C.c_void_p()
        status = self.lib.rs_link_parse(self.handle, link if isinstance(link, bytes) else link.encode(), now,
                                        C.byref(out))
        if status != RS_OK:
            check(out.value is None, "out_link written only on success")
            return status, None
        lib, h = self.lib, out
        text = lambda b: b.decode() if b is not None else None
        id_bytes = lib.rs_join_link_id_bytes(h)
        fields = {
            "kind": lib.rs_join_link_kind(h), "slug": text(lib.rs_join_link_agent_slug(h)),
            "ticket": text(lib.rs_join_link_ticket(h)), "name": text(lib.rs_join_link_end_user_name(h)),
            "expires": lib.rs_join_link_expires(h), "id": text(lib.rs_join_link_id(h)),
            "id_bytes": C.string_at(id_bytes, RS_INVITATION_ID_SIZE) if id_bytes else None,
        }
        lib.rs_join_link_free(h)
        return status, fields


def replacing(link, name, raw):
    base, query = link.split("?", 1)
    pairs = [f"{name}={raw}" if p.startswith(name + "=") else p for p in query.split("&")]
    return base + "?" + "&".join(pairs)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RS_LIBRARY", ".build/debug/libremotesupport.so")
    lib = load(path)
    name = lambda s: lib.rs_status_name(s).decode()
    check(name(RS_ERR_BAD_SIGNATURE) == "RS_ERR_BAD_SIGNATURE", "rs_status_name")
    check(name(RS_ERR_EXPIRED) == "RS_ERR_EXPIRED", "rs_status_name")

    key = (C.c_uint8 * RS_LINK_KEY_SIZE)()
    check(lib.rs_link_generate_key(key) == RS_OK, "rs_link_generate_key")
    signer = Signer(lib, "https://Help.Example.com/", bytes(key))
    check(lib.rs_link_signer_public_url(signer.handle) == b"https://help.example.com", "normalised public URL")

    status, link = signer.personal("zoe-obrien")
    check(status == RS_OK and link == "https://help.example.com/join/zoe-obrien", f"personal: {link}")
    status, fields = signer.parse(link)
    check(status == RS_OK and fields["kind"] == RS_JOIN_LINK_PERSONAL and fields["slug"] == "zoe-obrien"
          and fields["id"] is None and fields["ticket"] is None, f"personal parsed: {fields}")
    check(signer.personal("Zoe")[0] == RS_ERR_INVALID_FIELD and signer.errmsg() != "", "bad slug")

    for ticket, person in [("#4711/b", "Zoë Ärger-Şahin"), (None, "李 小龍 👩‍💻"), ("a/b#c", None), (None, None),
                           ("T 1", "A+B & C=D?")]:
        status, link, out_id = signer.invitation(ticket, person)
        check(status == RS_OK and out_id == bytes(range(16)), f"invitation {ticket!r} {person!r}: {signer.errmsg()}")
        status, fields = signer.parse(link)
        check(status == RS_OK and fields["kind"] == RS_JOIN_LINK_INVITATION and fields["ticket"] == ticket
              and fields["name"] == person and fields["expires"] == LATER
              and fields["id"] == "AAECAwQFBgcICQoLDA0ODw" and fields["id_bytes"] == bytes(range(16)),
              f"round trip {ticket!r} {person!r}: {fields}")

    # A generated id is reported and carried.
    status, link, out_id = signer.invitation("T-1", id_bytes=None)
    check(status == RS_OK and out_id != bytes(range(16)), "generated id")
    text = C.create_string_buffer(RS_INVITATION_ID_TEXT_SIZE)
    check(lib.rs_invitation_id_format((C.c_uint8 * 16)(*out_id), text) == RS_OK, "rs_invitation_id_format")
    check(signer.parse(link)[1]["id"] == text.value.decode(), "id text")

    # Tampering, another key, expiry, foreign and malformed links.
    status, link, _ = signer.invitation("#4711/b", "Zoë")
    for param, raw in [("ticket", "%234711%2Fc"), ("name", "Zoe"), ("expires", str(LATER + 1)),
                       ("id", "AAECAwQFBgcICQoLDA0OEA")]:
        check(signer.parse(replacing(link, param, raw))[0] == RS_ERR_BAD_SIGNATURE, f"altered {param}")
    check(signer.parse(link.replace("/join/zoe-obrien?", "/join/eve?"))[0] == RS_ERR_BAD_SIGNATURE, "altered slug")
    other = Signer(lib, "https://help.example.com", bytes(32))
    check(other.parse(link)[0] == RS_ERR_BAD_SIGNATURE, "another key")
    other.close()
    check(signer.parse(link, now=LATER)[0] == RS_ERR_EXPIRED, "expired")
    check("expired" in signer.errmsg(), "expired message")
    check(signer.parse(link, now=LATER - 1)[0] == RS_OK, "one second before expiry")
    for bad in ["https://evil.example.com/join/zoe-obrien", "http://help.example.com/join/zoe-obrien", "",
                replacing(link, "name", "%zz"), replacing(link, "name", "%C3%28"), link + "&sig=x"]:
        check(signer.parse(bad)[0] == RS_ERR_MALFORMED_LINK, f"malformed: {bad}")
    check(signer.parse(b"https://help.example.com/join/a\xff")[0] == RS_ERR_MALFORMED_LINK, "invalid UTF-8")
    check(signer.invitation(expires=-1)[0] == RS_ERR_INVALID_ARGUMENT, "negative expiry")
    check(signer.invitation(expires=RS_LINK_MAX_EXPIRES + 1)[0] == RS_ERR_INVALID_ARGUMENT, "expiry past the cap")
    check(signer.invitation(slug=None)[0] == RS_ERR_NULL_POINTER, "no slug")
    check(signer.invitation(name="evil\u202etxt")[0] == RS_ERR_INVALID_FIELD, "bidi override in a name")

    # Short codes and connection IDs.
    check(lib.rs_short_code_validate(b"AbCdEf0123456789") == RS_OK, "short code")
    check(lib.rs_short_code_validate(b"nope") == RS_ERR_NOT_FOUND, "short code shape")
    value = C.c_uint32(7)
    for typed, expected in [(b"123 456", 123456), (b"123-456", 123456), (b"123456", 123456), (b"000 042", 42)]:
        check(lib.rs_connection_id_parse(typed, C.byref(value)) == RS_OK and value.value == expected, f"parse {typed}")
    for typed in [b"12345", b"1234567", b"12a456", b""]:
        value.value = 7
        check(lib.rs_connection_id_parse(typed, C.byref(value)) == RS_ERR_INVALID_FIELD and value.value == 7,
              f"reject {typed}")
    check(lib.rs_connection_id_parse(None, C.byref(value)) == RS_ERR_NULL_POINTER, "NULL text")
    out = C.create_string_buffer(RS_CONNECTION_ID_TEXT_SIZE)
    check(lib.rs_connection_id_format(123456, out) == RS_OK and out.value == b"123 456", "format")
    check(lib.rs_connection_id_format(7, out) == RS_OK and out.value == b"000 007", "format with zeros")
    check(lib.rs_connection_id_format(1000000, out) == RS_ERR_INVALID_FIELD and out.value == b"000 007", "range")

    signer.close()
    lib.rs_link_signer_free(None)
    lib.rs_join_link_free(None)
    lib.rs_string_free(None)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
