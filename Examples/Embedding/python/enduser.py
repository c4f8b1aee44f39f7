#!/usr/bin/env python3
"""The end user's side of a remote-support session from Python 3, with ctypes against libremotesupport.so
(standard library only).

It joins a broker with a 6-digit connection ID, waits for an agent, asks whether the agent may connect (or
accepts at once with --yes), prints the security code (SAS) both sides must see, shares frames it draws
itself (a 320x200 BGRX gradient with a bar that moves every 100 ms: no real screen), prints the agent's
pointer and key events instead of injecting them, and ends when the agent ends the session, after
--seconds N, or on Ctrl-C / SIGTERM (then it ends the session itself).

    python3 enduser.py 127.0.0.1 8081 123456 [--yes] [--seconds N] [--name NAME] [--lib path/to/libremotesupport.so]

The library (default: $RS_LIBRARY, else .build/debug/libremotesupport.so of this checkout) is sans-IO
(rs_conn): this file owns the socket, the clock and the loop. It feeds received bytes with
rs_conn_receive, answers events from rs_conn_poll, sends what rs_conn_take_output hands out, and calls
rs_conn_tick at the time rs_conn_next_wakeup gives.

TRANSPORT: this example speaks the protocol over PLAIN TCP, which the broker accepts on loopback only
(rs-broker --protocol-port). In production wrap the socket in TLS (ssl.create_default_context()
.wrap_socket(sock, server_hostname=host), which verifies the broker's certificate; with a non-blocking
socket, handle ssl.SSLWantReadError / SSLWantWriteError), or use the broker's WebSocket endpoint behind
HTTPS (wss://.../ws, one frame per binary message). The session is end-to-end encrypted either way; TLS
protects the join credential and the control frames the broker reads.

Exit status: 0 when the session ended (by the agent, by --seconds or a signal), 1 otherwise (refused,
connection lost for good, errors), 2 for bad arguments.

The first part (constants, structs, RSError, Library, Connection) is the binding: copy it as a module.
"""
import argparse
import ctypes as C
import errno
import os
import select
import signal
import socket
import sys
import time

# ---- The binding: ctypes cannot see the header's macros, so the constants and structs are repeated ----

RS_OK, RS_NO_EVENT, RS_NO_DEADLINE = 0, 1, 2
RS_ERR_STATE = -103
RS_FORMAT_BGRX8888 = 1
RS_ROLE_END_USER, RS_ROLE_AGENT = 1, 2
RS_MODE_DECLINE, RS_MODE_VIEW_ONLY, RS_MODE_CONTROL = 0, 1, 2
RS_CLOSE_NORMAL, RS_CLOSE_ENDED_BY_END_USER, RS_CLOSE_ENDED_BY_AGENT = 0, 1, 2
RS_JOIN_LINK, RS_JOIN_CONNECTION_ID = 1, 2
(RS_EVENT_JOINED, RS_EVENT_CONNECT_REQUESTED, RS_EVENT_AUTHENTICATED, RS_EVENT_LOBBY_SESSION,
 RS_EVENT_LOBBY_SESSION_GONE, RS_EVENT_CONNECT_REFUSED, RS_EVENT_SESSION_STARTED, RS_EVENT_PEER_VERIFIED,
 RS_EVENT_SCREEN_INFO, RS_EVENT_SCREEN_UPDATED, RS_EVENT_CURSOR_SHAPE, RS_EVENT_CURSOR_POSITION,
 RS_EVENT_POINTER, RS_EVENT_KEY, RS_EVENT_CLIPBOARD, RS_EVENT_CHAT, RS_EVENT_ACCESS_CHANGED, RS_EVENT_PAUSED,
 RS_EVENT_READY_FOR_FRAME, RS_EVENT_PEER_AWAY, RS_EVENT_PEER_RESUMED, RS_EVENT_RESUMED, RS_EVENT_SESSION_ENDED,
 RS_EVENT_CLOSED) = range(1, 25)
MODE_NAMES = {RS_MODE_DECLINE: "declined", RS_MODE_VIEW_ONLY: "view only", RS_MODE_CONTROL: "control"}


class PixelFormat(C.Structure):
    _fields_ = [("bits_per_pixel", C.c_uint8), ("depth", C.c_uint8), ("big_endian", C.c_uint8),
                ("true_colour", C.c_uint8), ("red_max", C.c_uint16), ("green_max", C.c_uint16),
                ("blue_max", C.c_uint16), ("red_shift", C.c_uint8), ("green_shift", C.c_uint8),
                ("blue_shift", C.c_uint8), ("padding", C.c_uint8 * 3)]


class Rect(C.Structure):
    _fields_ = [("x", C.c_uint32), ("y", C.c_uint32), ("width", C.c_uint32), ("height", C.c_uint32)]


class Event(C.Structure):
    """rs_event. Its pointers are borrowed until the next poll/receive/free: read them at once."""
    _fields_ = [("struct_size", C.c_uint32), ("type", C.c_int32), ("reason", C.c_int32), ("mode", C.c_int32),
                ("by_peer", C.c_int32), ("role", C.c_int32), ("x", C.c_int32), ("y", C.c_int32),
                ("wheel_x", C.c_int32), ("wheel_y", C.c_int32), ("buttons", C.c_uint32), ("keysym", C.c_uint32),
                ("down", C.c_int32), ("hot_x", C.c_int32), ("hot_y", C.c_int32), ("width", C.c_uint32),
                ("height", C.c_uint32), ("grace_seconds", C.c_uint32), ("joined_at_ms", C.c_int64),
                ("format", PixelFormat),
                ("session_id", C.c_char_p), ("text", C.c_char_p), ("name", C.c_char_p), ("machine", C.c_char_p),
                ("os", C.c_char_p), ("ticket", C.c_char_p), ("join_method", C.c_char_p), ("agent_id", C.c_char_p),
                ("job_title", C.c_char_p), ("organisation", C.c_char_p),
                ("data", C.POINTER(C.c_uint8)), ("data_length", C.c_size_t),
                ("rects", C.POINTER(Rect)), ("rect_count", C.c_size_t)]

    def str(self, field):
        """A text field as str ("" for NULL). c_char_p fields read as a copy of the bytes."""
        value = getattr(self, field)
        return value.decode("utf-8", "replace") if value else ""


class RSError(Exception):
    """A failed rs_* call: the status, its name and the handle's (or the thread's) message."""

    def __init__(self, call, status, message):
        self.call, self.status, self.message = call, status, message
        super().__init__(f"{call}: {message}")


class Library:
    """The .so with restype/argtypes declared for every function used (else size_t and pointers truncate)."""

    def __init__(self, path):
        lib = self.lib = C.CDLL(path)
        P, I, SZ, U32, U64 = C.c_void_p, C.c_int, C.c_size_t, C.c_uint32, C.c_uint64
        sigs = {
            "rs_status_name": (C.c_char_p, [I]),
            "rs_last_error": (C.c_char_p, []),
            "rs_version": (C.c_char_p, []),
            "rs_version_number": (U32, []),
            "rs_pixel_format_preset": (I, [I, C.POINTER(PixelFormat)]),
            "rs_connection_id_parse": (I, [C.c_char_p, C.POINTER(U32)]),
            "rs_event_init": (I, [C.POINTER(Event)]),
            "rs_conn_new": (I, [I, P, U64, C.POINTER(P)]),
            "rs_conn_free": (None, [P]),
            "rs_conn_errmsg": (C.c_char_p, [P]),
            "rs_conn_receive": (I, [P, C.c_void_p, SZ, U64]),
            "rs_conn_poll": (I, [P, C.POINTER(Event)]),
            "rs_conn_take_output": (I, [P, C.POINTER(C.POINTER(C.c_uint8)), C.POINTER(SZ)]),
            "rs_conn_tick": (I, [P, U64]),
            "rs_conn_next_wakeup": (I, [P, C.POINTER(U64)]),
            "rs_conn_close": (I, [P, I, C.c_char_p]),
            "rs_conn_connection_lost": (I, [P, U64, C.POINTER(I)]),
            "rs_conn_reconnect": (I, [P, U64]),
            "rs_conn_sas": (I, [P, C.POINTER(C.c_char_p)]),
            "rs_conn_join": (I, [P, I, C.c_char_p, C.c_char_p, C.c_char_p, C.c_char_p]),
            "rs_conn_consent": (I, [P, I]),
            "rs_conn_share_frame": (I, [P, C.c_void_p, SZ, U32, U32, SZ, C.POINTER(PixelFormat), C.POINTER(I)]),
            "rs_conn_end_session": (I, [P, I, C.c_char_p]),
            "rs_conn_send_chat": (I, [P, C.c_char_p]),
            # The agent's side (used by Tests/Embedding/agent.py).
            "rs_conn_authenticate": (I, [P, C.c_char_p]),
            "rs_conn_connect": (I, [P, C.c_char_p, I]),
            "rs_conn_send_pointer": (I, [P, C.c_int32, C.c_int32, U32, C.c_int32, C.c_int32, C.POINTER(I)]),
            "rs_conn_send_key": (I, [P, U32, I, C.POINTER(I)]),
            "rs_conn_screen": (I, [P, C.POINTER(C.POINTER(C.c_uint8)), C.POINTER(U32), C.POINTER(U32),
                                   C.POINTER(SZ), C.POINTER(PixelFormat)]),
        }
        for name, (restype, argtypes) in sigs.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes

    def status_name(self, status):
        return self.lib.rs_status_name(status).decode()

    def last_error(self):
        return self.lib.rs_last_error().decode("utf-8", "replace")

    def check_global(self, call, status):
        """For calls without a handle: the message is in the thread's rs_last_error()."""
        if status < 0:
            raise RSError(call, status, f"{self.status_name(status)}: {self.last_error()}")
        return status

    def pixel_format(self, preset):
        fmt = PixelFormat()
        self.check_global("rs_pixel_format_preset", self.lib.rs_pixel_format_preset(preset, C.byref(fmt)))
        return fmt

    def connection_id(self, text):
        value = C.c_uint32()
        self.check_global("rs_connection_id_parse", self.lib.rs_connection_id_parse(text.encode(), C.byref(value)))
        return value.value


class Connection:
    """One rs_conn, freed by close() (or the with-block). Failed calls raise RSError with rs_conn_errmsg."""

    def __init__(self, library, role, now_ms):
        self.library, self.lib = library, library.lib
        handle = C.c_void_p()
        library.check_global("rs_conn_new", self.lib.rs_conn_new(role, None, now_ms, C.byref(handle)))
        self.handle = handle
        self.event = Event()
        library.check_global("rs_event_init", self.lib.rs_event_init(C.byref(self.event)))
        if self.event.struct_size != C.sizeof(Event):  # the C sizeof(rs_event): the declaration above must match
            self.close()
            raise RSError("rs_event_init", -13, f"rs_event is {self.event.struct_size} bytes, Event {C.sizeof(Event)}")

    def close(self):
        if self.handle:
            self.lib.rs_conn_free(self.handle)  # NULL is fine, twice is not: forget the handle
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check(self, call, status):
        if status < 0:
            message = self.lib.rs_conn_errmsg(self.handle).decode("utf-8", "replace")
            raise RSError(call, status, f"{self.library.status_name(status)}: {message}")
        return status

    def receive(self, data, now_ms):
        self.check("rs_conn_receive", self.lib.rs_conn_receive(self.handle, data, len(data), now_ms))

    def poll(self):
        """The next event (the same Event object each time: read it before the next call), or None."""
        if self.check("rs_conn_poll", self.lib.rs_conn_poll(self.handle, C.byref(self.event))) == RS_NO_EVENT:
            return None
        return self.event

    def take_output(self):
        """The bytes to send, copied out of the connection (its buffer is only lent until the next call)."""
        data, length = C.POINTER(C.c_uint8)(), C.c_size_t()
        self.check("rs_conn_take_output", self.lib.rs_conn_take_output(self.handle, C.byref(data), C.byref(length)))
        return C.string_at(data, length.value) if length.value else b""

    def tick(self, now_ms):
        self.check("rs_conn_tick", self.lib.rs_conn_tick(self.handle, now_ms))

    def next_wakeup(self):
        """When tick must run next (ms), or None: no deadline (closed)."""
        at = C.c_uint64()
        if self.check("rs_conn_next_wakeup", self.lib.rs_conn_next_wakeup(self.handle, C.byref(at))) == RS_NO_DEADLINE:
            return None
        return at.value

    def close_connection(self, reason, message=None):
        self.check("rs_conn_close", self.lib.rs_conn_close(self.handle, reason, message and message.encode()))

    def connection_lost(self, now_ms):
        can_resume = C.c_int()
        self.check("rs_conn_connection_lost", self.lib.rs_conn_connection_lost(self.handle, now_ms, C.byref(can_resume)))
        return bool(can_resume.value)

    def reconnect(self, now_ms):
        self.check("rs_conn_reconnect", self.lib.rs_conn_reconnect(self.handle, now_ms))

    def sas(self):
        text = C.c_char_p()
        self.check("rs_conn_sas", self.lib.rs_conn_sas(self.handle, C.byref(text)))
        return text.value.decode()

    def join(self, method, credential, name, machine, os_name):
        self.check("rs_conn_join", self.lib.rs_conn_join(self.handle, method, credential.encode(), name.encode(),
                                                         machine.encode(), os_name.encode()))

    def consent(self, mode):
        self.check("rs_conn_consent", self.lib.rs_conn_consent(self.handle, mode))

    def share_frame(self, pixels, width, height, stride, fmt):
        """pixels: a bytearray (lent to the call without a copy). True if an update was queued."""
        sent = C.c_int()
        buffer = (C.c_uint8 * len(pixels)).from_buffer(pixels)
        self.check("rs_conn_share_frame", self.lib.rs_conn_share_frame(
            self.handle, buffer, len(pixels), width, height, stride, C.byref(fmt), C.byref(sent)))
        return bool(sent.value)

    def end_session(self, reason, message=None):
        self.check("rs_conn_end_session", self.lib.rs_conn_end_session(self.handle, reason, message and message.encode()))


# ---- The frames this program "captures": drawn in plain code ------------------------------------------------

WIDTH, HEIGHT, BAR, STEP = 320, 200, 16, 4


def draw_frame(n):
    """Frame n as BGRX bytes: blue grows to the right, green downwards, red 128; a white bar BAR pixels wide
    starts at x = (n * STEP) % WIDTH and wraps around. Built with slices, fast enough for 10 frames a second."""
    bar_x = (n * STEP) % WIDTH
    row = bytearray(WIDTH * 4)
    row[0::4] = bytes(x * 255 // (WIDTH - 1) for x in range(WIDTH))
    row[2::4] = bytes([128]) * WIDTH
    for x in range(bar_x, bar_x + BAR):
        i = (x % WIDTH) * 4
        row[i:i + 3] = b"\xff\xff\xff"
    frame = bytearray()
    for y in range(HEIGHT):
        g = y * 255 // (HEIGHT - 1)
        line = bytearray(row)
        line[1::4] = bytes([g]) * WIDTH
        for x in range(bar_x, bar_x + BAR):
            line[(x % WIDTH) * 4 + 1] = 255
        frame += line
    return frame


def now_ms():
    return time.monotonic_ns() // 1_000_000


# ---- The transport and the loop -----------------------------------------------------------------------------

class EndUser:
    def __init__(self, library, args):
        self.library, self.args = library, args
        self.fmt = library.pixel_format(RS_FORMAT_BGRX8888)
        self.sock = None
        self.pending = b""          # output the socket did not take yet (sent before anything new)
        self.asking = None          # the mode a connect request asks for, while the user decides
        self.sharing = self.ready = self.dirty = False
        self.ended = self.closed = self.stopping = False
        self.exit_status = 1
        self.frame_number, self.next_frame = 0, 0
        self.frame = draw_frame(0)
        self.stop_requested = False

    def connect(self):
        self.sock = socket.create_connection((self.args.host, self.args.port), timeout=10)
        self.sock.setblocking(False)
        self.pending = b""

    def drop_socket(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def flush(self, conn):
        """Sends the connection's output while the socket takes it; keeps the rest for POLLOUT."""
        while True:
            if not self.pending:
                self.pending = conn.take_output()
                if not self.pending:
                    return
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            self.pending = self.pending[n:]
            if self.pending:
                return

    def answer(self, conn, mode):
        conn.consent(mode)
        self.asking = None
        print(f"consent: {MODE_NAMES.get(mode, mode)}")

    def share(self, conn):
        if self.sharing and self.ready and self.dirty:
            if conn.share_frame(self.frame, WIDTH, HEIGHT, WIDTH * 4, self.fmt):
                self.dirty = False
                if self.frame_number % 50 == 0:
                    print(f"shared frame {self.frame_number}")
            else:
                self.ready = False  # no room: RS_EVENT_READY_FOR_FRAME says when

    def handle_events(self, conn):
        while (e := conn.poll()) is not None:
            t = e.type
            if t == RS_EVENT_JOINED:
                print(f"joined: session {e.str('session_id')}, waiting for an agent")
            elif t == RS_EVENT_CONNECT_REQUESTED:
                # Who asks, as the broker vouches for them. Show peer text as text, never as markup.
                who = ", ".join(t for t in (e.str("name"), e.str("job_title"), e.str("organisation")) if t)
                print(f"connect request: {who} asks for {MODE_NAMES.get(e.mode, e.mode)}")
                if self.args.yes:
                    self.answer(conn, e.mode)
                else:
                    self.asking = e.mode
                    print(f"allow? [y = {MODE_NAMES.get(e.mode, e.mode)} / v = view only / n = no] ", end="")
            elif t == RS_EVENT_SESSION_STARTED:
                print(f"session started ({MODE_NAMES.get(e.mode, e.mode)}): security code {e.str('text')}"
                      " - the agent must read out the same")
                self.sharing = self.dirty = True
            elif t == RS_EVENT_PEER_VERIFIED:
                print("the agent's keys are confirmed")
            elif t == RS_EVENT_READY_FOR_FRAME:
                self.ready = True
            elif t == RS_EVENT_POINTER:
                print(f"pointer x={e.x} y={e.y} buttons={e.buttons} wheel={e.wheel_x},{e.wheel_y}")
            elif t == RS_EVENT_KEY:
                print(f"key keysym=0x{e.keysym:x} {'down' if e.down else 'up'}")
            elif t == RS_EVENT_CLIPBOARD:
                print(f"clipboard: {len(e.text or b'')} bytes")
            elif t == RS_EVENT_CHAT:
                print(f"chat: {e.str('text')}")
            elif t == RS_EVENT_PEER_AWAY:
                print(f"the agent dropped; it has {e.grace_seconds} s to come back")
            elif t == RS_EVENT_PEER_RESUMED:
                print("the agent is back")
            elif t == RS_EVENT_RESUMED:
                print(f"reconnected to session {e.str('session_id')}")
            elif t == RS_EVENT_SESSION_ENDED:
                print(f"session ended: reason {e.reason} ({e.str('text')})")
                # After a session: a normal end. Before one (the code expired, ...): a failure.
                self.exit_status = 0 if self.sharing or self.stopping else 1
                self.ended, self.sharing = True, False
            elif t == RS_EVENT_CLOSED:
                print(f"connection closed: reason {e.reason} by {'the broker' if e.by_peer else 'us'} ({e.str('text')})")
                if not self.ended:
                    self.exit_status = 0 if self.stopping else 1
                self.closed, self.ready = True, False  # a resumed session says when it has room again
        sys.stdout.flush()
        self.share(conn)

    def transport_lost(self, conn):
        """Resumes on a new socket if the session can come back. False: give up."""
        self.drop_socket()
        if self.closed or self.ended:
            return False
        can_resume = conn.connection_lost(now_ms())
        self.handle_events(conn)
        for attempt in range(1, 6):
            if not can_resume:
                break
            print(f"connection lost; reconnecting (attempt {attempt})", flush=True)
            time.sleep(1)
            try:
                self.connect()
            except OSError as error:
                print(f"enduser: {error}", file=sys.stderr)
                continue
            conn.reconnect(now_ms())
            self.closed, self.ready, self.dirty = False, False, True
            return True
        print("enduser: the connection to the broker is lost", file=sys.stderr)
        self.exit_status = 1
        return False

    def run(self, conn, deadline):
        while True:
            if self.ended and not self.closed:
                conn.close_connection(RS_CLOSE_NORMAL)  # the broker closes it next: say goodbye first
                self.handle_events(conn)
            try:
                if self.sock is not None:
                    self.flush(conn)
            except OSError as error:
                print(f"enduser: send: {error}", file=sys.stderr)
                if not self.transport_lost(conn):
                    return self.exit_status
                continue
            if self.closed and not self.pending:
                return self.exit_status  # everything sent

            now = now_ms()
            if not self.stopping and (self.stop_requested or (deadline and now >= deadline)):
                self.stopping, self.exit_status = True, 0
                print("ending the session")
                # An end user that ends the session sends `end` and `close`: the connection closes itself.
                if self.sharing:
                    conn.end_session(RS_CLOSE_ENDED_BY_END_USER, "ended by the user")
                else:
                    conn.close_connection(RS_CLOSE_NORMAL, "the user gave up waiting")
                self.handle_events(conn)
                continue

            # Sleep until the socket or stdin has something, the connection's deadline, or the next frame.
            wake = now + 60000
            conn_wake = conn.next_wakeup()
            if conn_wake is not None:
                wake = min(wake, conn_wake)
            if self.sharing:
                wake = min(wake, self.next_frame)
            if deadline:
                wake = min(wake, deadline)
            poller = select.poll()
            poller.register(self.sock, select.POLLIN | (select.POLLOUT if self.pending else 0))
            if self.asking is not None:
                poller.register(sys.stdin, select.POLLIN)
            try:
                ready = dict(poller.poll(max(0, wake - now)))
            except InterruptedError:
                ready = {}
            now = now_ms()

            if ready.get(self.sock.fileno(), 0) & (select.POLLIN | select.POLLHUP | select.POLLERR):
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError as error:
                    print(f"enduser: recv: {error}", file=sys.stderr)
                    data = b""
                if data:
                    conn.receive(data, now)
                elif data == b"":
                    if not self.transport_lost(conn):
                        return self.exit_status
                    continue
            if self.asking is not None and ready.get(sys.stdin.fileno(), 0):
                line = sys.stdin.readline().strip().lower()
                self.answer(conn, self.asking if line == "y" else RS_MODE_VIEW_ONLY if line == "v" else RS_MODE_DECLINE)

            conn.tick(now)  # keepalive pings, handshake and keepalive timeouts
            if self.sharing and now >= self.next_frame:
                self.frame_number += 1
                self.frame = draw_frame(self.frame_number)
                self.dirty = True
                self.next_frame = now + 100
            self.handle_events(conn)


def default_library():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("RS_LIBRARY") or os.path.join(here, "..", "..", "..", ".build", "debug", "libremotesupport.so")


def main():
    parser = argparse.ArgumentParser(description="A remote-support end user with drawn frames (ctypes example).")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("connection_id", help='the 6 digits ("123 456", "123-456" and "123456" all work)')
    parser.add_argument("--yes", action="store_true", help="accept the agent's request without asking")
    parser.add_argument("--seconds", type=int, default=0, help="end the session after this many seconds")
    parser.add_argument("--name", default="Example End User")
    parser.add_argument("--lib", default=default_library(), help="path to libremotesupport.so")
    args = parser.parse_args()

    library = Library(args.lib)
    if library.lib.rs_version_number() // 1000000 != 0:  # the major version this binding was written for
        print(f"enduser: libremotesupport {library.lib.rs_version().decode()} is not 0.x", file=sys.stderr)
        return 1
    try:
        code = library.connection_id(args.connection_id)
    except RSError as error:
        print(f"enduser: {args.connection_id}: {error.message}", file=sys.stderr)
        return 2

    app = EndUser(library, args)

    def on_signal(signum, frame):
        app.stop_requested = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        app.connect()
    except OSError as error:
        print(f"enduser: cannot connect to {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    status = 1
    try:
        with Connection(library, RS_ROLE_END_USER, now_ms()) as conn:  # freed when the block ends
            conn.join(RS_JOIN_CONNECTION_ID, f"{code:06d}", args.name, socket.gethostname(), "Linux (embedding example)")
            print(f"joining {args.host}:{args.port} with connection ID {code:06d}", flush=True)
            deadline = now_ms() + args.seconds * 1000 if args.seconds > 0 else 0
            status = app.run(conn, deadline)
    except RSError as error:
        print(f"enduser: {error}", file=sys.stderr)
    finally:
        app.drop_socket()
    print(f"exit {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
