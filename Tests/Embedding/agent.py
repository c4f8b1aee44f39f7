#!/usr/bin/env python3
"""The agent's side for Tests/Embedding/run.sh: drives one embedding example (C, C++ or Python) through a real
broker, with the ctypes binding of Examples/Embedding/python/enduser.py (role agent).

    python3 Tests/Embedding/agent.py --url http://127.0.0.1:PORT --token=TOKEN --tcp PORT --lib LIB \
        --name "C example" -- <example command: {code} becomes a fresh connection ID, {port} the TCP port>

Steps: issue a connection ID (POST /api/v1/connection-ids), start the example with it, authenticate over
plain TCP (loopback), wait for the example's session in the lobby, connect asking for control, wait for the
session and its security code (the example must print the same), check that every screen update shows
exactly one of the example's frames (320x200 gradient, white bar at x = 4n mod 320) and that the bar moves,
send a pointer press/release and a key press/release and wait for the example to print them, end the
session (the agent ends it, or --end-by enduser: SIGTERM makes the example end it), and check that the
example exits 0. --answer y types the consent at the example's prompt instead of its --yes. --cut runs the
example through a proxy ({port} in the command) that cuts its connection once: it must resume the session. Every wait is bounded. Prints "ok: ..." / "FAILED: ...";
exits non-zero on failure.

A helper mode sets up the broker's admin account:
    python3 Tests/Embedding/agent.py --url URL --setup ONE-TIME-PASSWORD     # prints a login token
"""
import argparse
import ctypes as C
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Examples", "Embedding", "python"))
import enduser as rs  # noqa: E402  the example's binding and its frame drawing

ADMIN = "admin@example.com"
_print_lock = threading.Lock()


def print(*values, sep=" ", end="\n", file=None, flush=True):  # noqa: A001  one write per line, across threads
    stream = file or sys.stdout
    with _print_lock:
        stream.write(sep.join(str(v) for v in values) + end)
        stream.flush()
NEW_PASSWORD = "embedding-test-password-1"


def api(url, path, body, token=None):
    request = urllib.request.Request(url + "/api/v1" + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:  # password hashing is slow in debug builds
        return json.loads(response.read() or b"{}")


def setup(url, one_time_password, email):
    """Logs in with the one-time password, changes it (the protocol refuses the default one) and returns a
    token that works (the change answers with a new one)."""
    login = api(url, "/login", {"email": email, "password": one_time_password})
    token = login["token"]
    changed = api(url, "/me/password", {"current": one_time_password, "new": NEW_PASSWORD}, token)
    token = changed.get("token") or token
    if changed.get("mustChangePassword", False):
        token = api(url, "/login", {"email": email, "password": NEW_PASSWORD})["token"]
    return token


class Failure(Exception):
    pass


class CuttingProxy:
    """A TCP proxy between the example and the broker that can cut the current connections (as a network
    failure would), to see the example resume its session on a new connection."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs, self.lock, self.accepted = [], threading.Lock(), 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                return
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.listener.close()
        self.cut()


class ExampleProcess:
    """The example as a child process; its stdout lines collected by a thread."""

    def __init__(self, command, interactive):
        self.command = command
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=sys.stderr, text=True, bufsize=1)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            print(f"    | {line}", flush=True)
            with self.lock:
                self.lines.append(line)

    def find(self, text):
        with self.lock:
            return next((line for line in self.lines if text in line), None)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Agent:
    def __init__(self, library, port):
        self.library = library
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setblocking(False)
        self.conn = rs.Connection(library, rs.RS_ROLE_AGENT, rs.now_ms())
        self.pending = b""
        self.events = []          # (type, fields) of every event, in order
        self.lobby = {}           # session_id -> end user's name
        self.updates = 0
        self.bar_positions = set()
        self.screen_errors = []
        self.closed = False

    def close(self):
        self.conn.close()
        self.sock.close()

    def flush(self):
        while True:
            if not self.pending:
                self.pending = self.conn.take_output()
                if not self.pending:
                    return
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            self.pending = self.pending[n:]

    def check_screen(self):
        pixels, width, height = C.POINTER(C.c_uint8)(), C.c_uint32(), C.c_uint32()
        stride, fmt = C.c_size_t(), rs.PixelFormat()
        self.conn.check("rs_conn_screen", self.conn.lib.rs_conn_screen(
            self.conn.handle, C.byref(pixels), C.byref(width), C.byref(height), C.byref(stride), C.byref(fmt)))
        w, h, s = width.value, height.value, stride.value
        if (w, h) != (rs.WIDTH, rs.HEIGHT) or fmt.bits_per_pixel != 32 or (fmt.red_shift, fmt.green_shift,
                                                                           fmt.blue_shift) != (16, 8, 0):
            self.screen_errors.append(f"screen {w}x{h}, {fmt.bits_per_pixel} bpp, shifts "
                                      f"{fmt.red_shift}/{fmt.green_shift}/{fmt.blue_shift}")
            return
        raw = C.string_at(pixels, s * h)
        screen = bytearray()
        for y in range(h):
            screen += raw[y * s:y * s + w * 4]
        screen[3::4] = bytes(w * h)  # the X byte is padding
        # The bar: the white run in row 0 (the gradient there is never white: green is 0).
        white = [x for x in range(w) if screen[x * 4:x * 4 + 3] == b"\xff\xff\xff"]
        starts = [x for x in white if (x - 1) % w not in white]
        if len(starts) != 1 or starts[0] % rs.STEP:
            self.screen_errors.append(f"update {self.updates}: no bar in row 0 (white at {white[:20]})")
            return
        n = starts[0] // rs.STEP
        if screen != rs.draw_frame(n):
            diff = next(i for i in range(len(screen)) if screen[i] != rs.draw_frame(n)[i])
            self.screen_errors.append(f"update {self.updates}: differs from frame {n} at pixel "
                                      f"({diff // 4 % w}, {diff // 4 // w})")
            return
        self.bar_positions.add(starts[0])

    def handle(self, e):
        fields = {"reason": e.reason, "mode": e.mode, "text": e.str("text"), "session_id": e.str("session_id"),
                  "name": e.str("name")}
        self.events.append((e.type, fields))
        if e.type == rs.RS_EVENT_LOBBY_SESSION:
            self.lobby[fields["session_id"]] = fields["name"]
        elif e.type == rs.RS_EVENT_LOBBY_SESSION_GONE:
            self.lobby.pop(fields["session_id"], None)
        elif e.type == rs.RS_EVENT_SCREEN_UPDATED:
            self.updates += 1
            self.check_screen()
        elif e.type == rs.RS_EVENT_CLOSED:
            self.closed = True

    def pump(self, until, timeout, what):
        """Moves bytes and handles events until until() is true; Failure after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.flush()
            if until():
                return
            if self.closed and not until():
                raise Failure(f"{what}: the agent's connection closed: {self.events[-1][1]}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"{what}: nothing after {timeout} s")
            wait_ms = min(left * 1000, 50)
            wake = self.conn.next_wakeup()
            if wake is not None:
                wait_ms = max(0, min(wait_ms, wake - rs.now_ms()))
            r, w, _ = select.select([self.sock], [self.sock] if self.pending else [], [], wait_ms / 1000)
            if r:
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    raise Failure(f"{what}: the broker closed the agent's connection")
                if data:
                    self.conn.receive(data, rs.now_ms())
            self.conn.tick(rs.now_ms())
            while (e := self.conn.poll()) is not None:
                self.handle(e)

    def last(self, event_type):
        return next((f for t, f in reversed(self.events) if t == event_type), None)


def drive(args, library):
    code = api(args.url, "/connection-ids", {}, args.token)["digits"]
    proxy = CuttingProxy(args.tcp) if args.cut else None
    port = str(proxy.port if proxy else args.tcp)
    command = [part.replace("{code}", code).replace("{port}", port) for part in args.command]
    if args.answer is None:
        command.append("--yes")  # accept without asking
    print(f"  connection ID {code}; starting: {' '.join(command)}", flush=True)
    example = ExampleProcess(command, args.answer is not None)
    agent = None
    try:
        agent = Agent(library, args.tcp)
        agent.conn.check("rs_conn_authenticate", agent.conn.lib.rs_conn_authenticate(agent.conn.handle,
                                                                                    args.token.encode()))
        agent.pump(lambda: agent.last(rs.RS_EVENT_AUTHENTICATED) is not None, 15, "authenticated")
        me = agent.last(rs.RS_EVENT_AUTHENTICATED)["name"]
        agent.pump(lambda: args.name in agent.lobby.values(), args.wait, "the example's session in the lobby")
        session_id = next(s for s, n in agent.lobby.items() if n == args.name)
        print(f"ok: {args.name} waits in the lobby (session {session_id})")
        agent.conn.check("rs_conn_connect", agent.conn.lib.rs_conn_connect(agent.conn.handle, session_id.encode(),
                                                                          rs.RS_MODE_CONTROL))
        if args.answer is not None:
            # The example asks its user on stdin ("allow? [y / v / n]"): type the answer.
            agent.pump(lambda: example.find("connect request:"), args.wait, "the example asking its user")
            example.proc.stdin.write(args.answer + "\n")
            example.proc.stdin.flush()
            print(f"  typed {args.answer!r} at the example's consent prompt")
        agent.pump(lambda: agent.last(rs.RS_EVENT_SESSION_STARTED) or agent.last(rs.RS_EVENT_CONNECT_REFUSED),
                   args.wait, "session started")
        started = agent.last(rs.RS_EVENT_SESSION_STARTED)
        if started is None:
            raise Failure(f"connect refused: {agent.last(rs.RS_EVENT_CONNECT_REFUSED)}")
        sas = agent.conn.sas()
        if started["text"] != sas or started["mode"] != rs.RS_MODE_CONTROL:
            raise Failure(f"session started with {started}, SAS {sas}")
        agent.pump(lambda: example.find(f"security code {sas}"), args.wait, f"the example printing SAS {sas}")
        asked = example.find("connect request:")
        if not asked or me not in asked:
            raise Failure(f"the example did not show who asks ({me}): {asked}")
        print(f"ok: consent shown for {me!r}, session started in control mode, both sides show SAS {sas}")

        agent.pump(lambda: len(agent.bar_positions) >= 3 or agent.screen_errors, args.wait,
                   "three different frames on the agent's screen")
        if agent.screen_errors:
            raise Failure("screen: " + "; ".join(agent.screen_errors[:3]))
        print(f"ok: {agent.updates} screen updates, each exactly one of the example's frames "
              f"(bar at x = {sorted(agent.bar_positions)[:6]}...)")

        if proxy:
            # A network failure: the example must resume the session on a new connection, without consent.
            proxy.cut()
            agent.pump(lambda: agent.last(rs.RS_EVENT_PEER_AWAY), args.wait, "peer-away after the cut")
            agent.pump(lambda: agent.last(rs.RS_EVENT_PEER_RESUMED), args.wait, "the example resuming")
            agent.pump(lambda: example.find("reconnected to session"), args.wait, "the example reporting the resume")
            before = agent.updates
            agent.bar_positions.clear()
            agent.pump(lambda: len(agent.bar_positions) >= 3 or agent.screen_errors, args.wait,
                       "three more frames after the resume")
            if agent.screen_errors:
                raise Failure("screen after the resume: " + "; ".join(agent.screen_errors[:3]))
            print(f"ok: connection cut; the example resumed (connections through the proxy: {proxy.accepted}), "
                  f"{agent.updates - before} more updates, each one of its frames")

        sent = C.c_int()
        for call, argv in [("rs_conn_send_pointer", (100, 50, 1, 0, 0)), ("rs_conn_send_pointer", (101, 51, 0, 0, 2)),
                           ("rs_conn_send_key", (0x61, 1)), ("rs_conn_send_key", (0x61, 0))]:
            agent.conn.check(call, getattr(agent.conn.lib, call)(agent.conn.handle, *argv, C.byref(sent)))
            if not sent.value:
                raise Failure(f"{call}{argv}: input not allowed")
        expected = ["pointer x=100 y=50 buttons=1 wheel=0,0", "pointer x=101 y=51 buttons=0 wheel=0,2",
                    "key keysym=0x61 down", "key keysym=0x61 up"]
        agent.pump(lambda: all(example.find(line) for line in expected), args.wait, "the example printing the input")
        print("ok: the example printed the pointer and key events as sent")

        if args.end_by == "agent":
            agent.conn.end_session(rs.RS_CLOSE_ENDED_BY_AGENT, "done, thanks")
            agent.pump(lambda: example.proc.poll() is not None, args.wait, "the example exiting")
            example.thread.join(5)
            if example.proc.returncode != 0:
                raise Failure(f"the example exited with {example.proc.returncode}")
            if not example.find("session ended: reason 2"):
                raise Failure("the example did not report the end by the agent")
            print("ok: the agent ended the session; the example reported it and exited 0")
        else:
            # "When told": SIGTERM makes the example end the session itself (end, then close).
            example.proc.send_signal(signal.SIGTERM)
            agent.pump(lambda: agent.last(rs.RS_EVENT_SESSION_ENDED) and example.proc.poll() is not None, args.wait,
                       "the session ended by the end user and the example exiting")
            example.thread.join(5)
            ended = agent.last(rs.RS_EVENT_SESSION_ENDED)
            if ended["reason"] != rs.RS_CLOSE_ENDED_BY_END_USER:
                raise Failure(f"the agent saw the session end with {ended}")
            if example.proc.returncode != 0 or not example.find("ending the session"):
                raise Failure(f"the example exited with {example.proc.returncode}")
            print(f"ok: on SIGTERM the example ended the session (the agent saw reason 1, {ended['text']!r}) "
                  "and exited 0")
        if agent.screen_errors:
            raise Failure("screen after the checks: " + "; ".join(agent.screen_errors[:3]))
        return True
    finally:
        if agent is not None:
            try:
                agent.conn.close_connection(rs.RS_CLOSE_NORMAL)
                agent.flush()
            except (rs.RSError, OSError):
                pass
            agent.close()
        if example.proc.poll() is None:
            print("  (killing the example)")
            example.kill()
        if proxy:
            proxy.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--setup", metavar="ONE_TIME_PASSWORD")
    parser.add_argument("--email", default=ADMIN)
    parser.add_argument("--token")
    parser.add_argument("--tcp", type=int)
    parser.add_argument("--lib", default=rs.default_library())
    parser.add_argument("--name", default="Example End User")
    parser.add_argument("--wait", type=float, default=20, help="seconds for each step")
    parser.add_argument("--cut", action="store_true",
                        help="run the example through a proxy and cut its connection once: it must resume")
    parser.add_argument("--answer", help="type this at the example's consent prompt (it runs without --yes)")
    parser.add_argument("--end-by", choices=["agent", "enduser"], default="agent",
                        help="enduser: SIGTERM the example, which then ends the session itself")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.setup:
        print(setup(args.url, args.setup, args.email))
        return 0
    library = rs.Library(args.lib)
    try:
        drive(args, library)
        return 0
    except (Failure, rs.RSError, OSError) as error:
        print(f"FAILED: {args.name}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
