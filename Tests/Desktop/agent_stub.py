#!/usr/bin/env python3
"""A stand-in for `rs-viewer --headless` while rs-viewer is being written: the same command line and stdin
commands, on libremotesupport.so through the ctypes binding of Examples/Embedding/python/enduser.py (role agent),
over the broker's plain TCP protocol port (rs-viewer uses the WebSocket at --broker).

    agent_stub.py --broker URL --tcp PORT --token TOKEN --wait-for NAME --events --frame-out FILE.ppm

stdin: `type TEXT` (one key press/release per character), `key KEYSYM` (a name: Return, Tab, BackSpace, Escape,
or a number), `click X Y`, `end`. stdout (--events): JSON lines session-started, screen-updated, session-ended
{reason} and closed. Exits 0 after the session ended, 1 on errors.
"""
import argparse
import ctypes as C
import json
import os
import select
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Examples", "Embedding", "python"))
import enduser as rs  # noqa: E402

KEYS = {"Return": 0xFF0D, "Tab": 0xFF09, "BackSpace": 0xFF08, "Escape": 0xFF1B, "space": 0x20}


def keysym_of(character):
    if character == "\n":
        return 0xFF0D
    code = ord(character)
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 + code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--headless", action="store_true")
    parser.add_argument("--broker", required=True)
    parser.add_argument("--tcp", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--wait-for", required=True)
    parser.add_argument("--events", action="store_true")
    parser.add_argument("--frame-out")
    args = parser.parse_args()

    def event(name, **fields):
        if args.events:
            print(json.dumps({"event": name, **fields}, sort_keys=True), flush=True)

    library = rs.Library(rs.default_library())
    conn = rs.Connection(library, rs.RS_ROLE_AGENT, rs.now_ms())
    sock = socket.create_connection(("127.0.0.1", args.tcp), timeout=10)
    sock.setblocking(False)
    conn.check("authenticate", conn.lib.rs_conn_authenticate(conn.handle, args.token.encode()))
    pending, stdin_buffer, lobby = b"", b"", {}
    connected = ended = False
    end_reason = None
    sent = C.c_int()

    def pointer(x, y, buttons):
        conn.check("send_pointer", conn.lib.rs_conn_send_pointer(conn.handle, x, y, buttons, 0, 0, C.byref(sent)))

    def key(keysym):
        for down in (1, 0):
            conn.check("send_key", conn.lib.rs_conn_send_key(conn.handle, keysym, down, C.byref(sent)))

    def write_frame():
        pixels, width, height = C.POINTER(C.c_uint8)(), C.c_uint32(), C.c_uint32()
        stride, fmt = C.c_size_t(), rs.PixelFormat()
        conn.check("screen", conn.lib.rs_conn_screen(conn.handle, C.byref(pixels), C.byref(width), C.byref(height),
                                                     C.byref(stride), C.byref(fmt)))
        w, h, s = width.value, height.value, stride.value
        raw = C.string_at(pixels, s * h)
        rows = b"".join(raw[y * s:y * s + w * 4] for y in range(h))
        rgb = bytearray(w * h * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = rows[2::4], rows[1::4], rows[0::4]
        with open(args.frame_out + ".tmp", "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (w, h) + rgb)
        os.replace(args.frame_out + ".tmp", args.frame_out)

    frame_dirty, last_write = False, 0.0
    while True:
        if not pending:
            pending = conn.take_output()
        if pending:
            try:
                pending = pending[sock.send(pending):]
            except BlockingIOError:
                pass
        if ended and not pending:
            return 0 if end_reason is not None else 1
        readers = [sock] + ([sys.stdin] if connected else [])
        r, _, _ = select.select(readers, [sock] if pending else [], [], 0.02)
        if sock in r:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                data = None
            if data == b"":
                event("closed", reason=0)
                return 0 if end_reason is not None else 1
            if data:
                conn.receive(data, rs.now_ms())
        if sys.stdin in r:
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:
                connected = False
            stdin_buffer += chunk
            while b"\n" in stdin_buffer:
                line, stdin_buffer = stdin_buffer.split(b"\n", 1)
                word, _, rest = line.decode().partition(" ")
                if word == "type":
                    for character in rest:
                        key(keysym_of(character))
                elif word == "key":
                    key(KEYS.get(rest) or int(rest, 0))
                elif word == "click":
                    x, y = (int(v) for v in rest.split())
                    pointer(x, y, 0)
                    pointer(x, y, 1)
                    pointer(x, y, 0)
                elif word == "end":
                    conn.end_session(rs.RS_CLOSE_ENDED_BY_AGENT, "")
                    end_reason = rs.RS_CLOSE_ENDED_BY_AGENT
                    event("session-ended", reason=end_reason)
                    ended = True
        conn.tick(rs.now_ms())
        while (e := conn.poll()) is not None:
            if e.type == rs.RS_EVENT_AUTHENTICATED:
                pass
            elif e.type == rs.RS_EVENT_LOBBY_SESSION:
                lobby[e.str("session_id")] = e.str("name")
                if e.str("name") == args.wait_for and not connected:
                    conn.check("connect", conn.lib.rs_conn_connect(conn.handle, e.str("session_id").encode(),
                                                                  rs.RS_MODE_CONTROL))
            elif e.type == rs.RS_EVENT_SESSION_STARTED:
                connected = True
                event("session-started", mode=e.mode, sas=e.str("text"))
            elif e.type == rs.RS_EVENT_SCREEN_UPDATED:
                frame_dirty = True
                event("screen-updated", at=time.time())
            elif e.type == rs.RS_EVENT_SESSION_ENDED:
                end_reason = e.reason
                event("session-ended", reason=e.reason)
                ended = True
            elif e.type == rs.RS_EVENT_CLOSED:
                event("closed", reason=e.reason)
                ended = True
        if frame_dirty and args.frame_out and time.monotonic() - last_write > 0.02:
            write_frame()
            frame_dirty, last_write = False, time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
