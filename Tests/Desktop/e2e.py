#!/usr/bin/env python3
"""End-to-end test of rs-client sharing a real X desktop (Xvfb) with rs-viewer (headless), through rs-broker.

Steps: Xvfb on a free display with an xterm, rs-broker (admin password changed, a connection ID), rs-client
sharing the X screen, rs-viewer headless as the agent. Checks (a) the agent's framebuffer equals the X screen
(read independently with `xwd -root`), (b) typed keys reach the xterm's shell (it writes rs-42-ok to a file)
and the agent sees the xterm change, (c) the agent's `end` and the end user's `end` each end the session in
the broker. Every wait is bounded; everything started is stopped on exit. Python 3 stdlib only.

    python3 Tests/Desktop/e2e.py [--bin .build/debug]
"""
import argparse
import json
import os
import queue
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
NAME = "Desktop Tester"
SCREENSHOTS = os.path.join(HERE, "screenshots")
PASSWORD = "desktop-test-password-1"


class Failure(Exception):
    pass


def step(text):
    print(f"== {text}", flush=True)


def wait(what, condition, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout} s")
        time.sleep(interval)


class Child:
    """A started process: stdout lines collected (JSON ones parsed), stderr to a log file."""

    def __init__(self, name, command, work, env=None, stdin=False):
        self.name = name
        self.lines, self.events = [], []
        self.lock = threading.Lock()
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass

    def event(self, name, **fields):
        with self.lock:
            return next((e for e in self.events if e.get("event") == name
                         and all(e.get(k) == v for k, v in fields.items())), None)

    def wait_event(self, name, timeout=20, **fields):
        return wait(f"{self.name} reporting {name} {fields or ''}",
                    lambda: self.event(name, **fields) or self._check_alive(), timeout)

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise Failure(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
        return None

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def exit_status(self, timeout=15):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{self.name} did not exit within {timeout} s:\n{self.tail()}")

    def tail(self, count=15):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-count:])

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(3)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.log.close()


# ---- Images ------------------------------------------------------------------------------------------------------

def read_ppm(path):
    """(width, height, RGB bytes) of a binary PPM, or None while it is missing."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    parts = data.split(b"\n", 3)
    if len(parts) < 4 or parts[0] != b"P6":
        return None
    width, height = map(int, parts[1].split())
    return width, height, parts[3][:width * height * 3]


def xwd_root(display):
    """The X screen as (width, height, RGB bytes): `xwd -root` parsed (XWD 7: big-endian header, colour map,
    then ZPixmap rows of bytes_per_line, pixels in the image's byte order, channels by the masks)."""
    data = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True,
                          timeout=10).stdout
    fields = struct.unpack(">25I", data[:100])
    (header_size, _version, _format, _depth, width, height, _xoffset, byte_order, _unit, _bit_order, _pad,
     bits_per_pixel, bytes_per_line, _visual_class, red_mask, green_mask, blue_mask, _bits_rgb, _map_entries,
     colours) = fields[:20]
    if bits_per_pixel != 32:
        raise Failure(f"xwd gave {bits_per_pixel} bits per pixel; this test reads 32")
    start = header_size + colours * 12
    rows = b"".join(data[start + y * bytes_per_line:start + y * bytes_per_line + width * 4] for y in range(height))
    if (red_mask, green_mask, blue_mask) != (0xFF0000, 0xFF00, 0xFF):
        raise Failure(f"xwd masks {red_mask:x}/{green_mask:x}/{blue_mask:x}: this test reads 0x00RRGGBB")
    rgb = bytearray(width * height * 3)
    if byte_order == 0:  # LSBFirst: bytes B G R X
        rgb[0::3], rgb[1::3], rgb[2::3] = rows[2::4], rows[1::4], rows[0::4]
    else:  # MSBFirst: X R G B
        rgb[0::3], rgb[1::3], rgb[2::3] = rows[1::4], rows[2::4], rows[3::4]
    return width, height, bytes(rgb)


def write_png(path, image):
    """An RGB image as a PNG file (stdlib zlib): screenshots of what the agent saw."""
    width, height, rgb = image
    raw = b"".join(b"\x00" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def differing_pixels(a, b):
    return sum(1 for i in range(0, len(a), 3) if a[i:i + 3] != b[i:i + 3])


def region(image, x0, y0, x1, y1):
    width, _, rgb = image
    return b"".join(rgb[(y * width + x0) * 3:(y * width + x1) * 3] for y in range(y0, y1))


# ---- The broker's API ----------------------------------------------------------------------------------------------

def api(url, method, path, body=None, token=None):
    request = urllib.request.Request(url + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


class Test:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.work = tempfile.mkdtemp(prefix="rs-desktop-")
        self.children = []
        self.passed = []

    def start(self, name, command, env=None, stdin=False):
        child = Child(name, command, self.work, env, stdin)
        self.children.append(child)
        return child

    def ok(self, text):
        self.passed.append(text)
        print(f"ok: {text}", flush=True)

    # -- set-up

    def start_x(self):
        step("Xvfb and an xterm")
        number = next(n for n in range(91, 200) if not os.path.exists(f"/tmp/.X11-unix/X{n}")
                      and not os.path.exists(f"/tmp/.X{n}-lock"))
        self.display = f":{number}"
        self.xvfb = self.start("xvfb", ["Xvfb", self.display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
        wait("Xvfb answering", lambda: subprocess.run(["xdpyinfo", "-display", self.display], capture_output=True)
             .returncode == 0, 15, 0.1)
        self.env = dict(os.environ, DISPLAY=self.display, PS1="$ ")
        self.start("xterm", ["xterm", "-geometry", "100x30+0+40", "-bg", "white", "-fg", "black",
                             "-e", "bash", "--norc", "--noprofile"], env=self.env)
        wait("the xterm's window", lambda: subprocess.run(["xdotool", "search", "--class", "xterm"], env=self.env,
                                                          capture_output=True).stdout.strip(), 40, 0.1)
        print(f"  display {self.display}, work folder {self.work}")

    def start_broker(self):
        step("rs-broker")
        self.broker = self.start("broker", [os.path.join(self.bin, "rs-broker"), "--host", "127.0.0.1", "--port", "0",
                                            "--protocol-port", "0", "--data", os.path.join(self.work, "data")])

        def found():
            with self.broker.lock:
                text = "\n".join(self.broker.lines)
            url = re.search(r"API:\s+(http://\S+)/api/v1", text)
            tcp = re.search(r"TCP 127\.0\.0\.1:(\d+)", text)
            password = re.search(r"one-time password\s*\n\s*(\S+)", text)
            return (url.group(1), int(tcp.group(1)), password.group(1)) if url and tcp and password else \
                self.broker._check_alive()

        self.url, self.tcp, one_time = wait("rs-broker printing its address and password", found, 90, 0.1)
        token = api(self.url, "POST", "/login", {"email": "admin@localhost", "password": one_time})["token"]
        changed = api(self.url, "POST", "/me/password", {"current": one_time, "new": PASSWORD}, token)
        self.token = changed.get("token") or token
        if changed.get("mustChangePassword"):
            self.token = api(self.url, "POST", "/login", {"email": "admin@localhost", "password": PASSWORD})["token"]
        print(f"  {self.url}, protocol TCP port {self.tcp}")

    def viewer_command(self, frame_out):
        return [os.path.join(self.bin, "rs-viewer"), "--headless", "--broker", self.url, "--token", self.token,
                "--wait-for", NAME, "--events", "--frame-out", frame_out]

    def start_session(self, label, client_frame_out=True):
        step(f"a session ({label}): rs-client shares {self.display}, the agent connects")
        code = api(self.url, "POST", "/connection-ids", {}, self.token)["digits"]
        self.client_frame = os.path.join(self.work, f"eu-{label}.ppm")
        self.agent_frame = os.path.join(self.work, f"agent-{label}.ppm")
        client = self.start(f"rs-client-{label}", [os.path.join(self.bin, "rs-client"), "--code", code, "--broker",
                                                   self.url, "--name", NAME, "--accept", "control", "--events"]
                            + (["--frame-out", self.client_frame] if client_frame_out else []), env=self.env, stdin=True)
        agent = self.start(f"agent-{label}", self.viewer_command(self.agent_frame), stdin=True)
        started = client.wait_event("session-started", 30)
        agent.wait_event("session-started", 30)
        self.ok(f"session started in control mode (security code {started.get('sas')})")
        return client, agent

    # -- checks

    def same_screen(self, what, timeout=20):
        """Polls until the agent's framebuffer equals the X screen (both read anew each time)."""
        last = [None]

        def equal():
            agent = read_ppm(self.agent_frame)
            screen = xwd_root(self.display)
            if agent is None:
                return False
            last[0] = (agent, screen)
            return agent[:2] == screen[:2] and agent[2] == screen[2]

        try:
            wait(what, equal, timeout, 0.2)
        except Failure:
            if last[0]:
                agent, screen = last[0]
                detail = f"sizes {agent[:2]} / {screen[:2]}" if agent[:2] != screen[:2] else \
                    f"{differing_pixels(agent[2], screen[2])} pixels differ"
                raise Failure(f"{what}: the agent's framebuffer never equalled the X screen ({detail})")
            raise
        self.ok(what)

    def type_into_xterm(self, agent):
        step("the agent types a command into the xterm")
        typed = os.path.join(self.work, "typed.txt")
        before = read_ppm(self.agent_frame)
        agent.send("click 300 200")
        agent.send(f"type echo rs-$((6*7))-ok | tee {typed}")
        agent.send("key 0xff0d")

        def written():
            try:
                with open(typed) as f:
                    return "rs-42-ok" in f.read()
            except OSError:
                return False

        wait("the xterm's shell writing rs-42-ok", written, 15, 0.1)
        self.ok("keys typed by the agent reached the shell in the xterm (typed.txt holds rs-42-ok)")
        xterm = (0, 40, 600, 400)
        wait("the agent's framebuffer changing in the xterm",
             lambda: (now := read_ppm(self.agent_frame)) and region(now, *xterm) != region(before, *xterm), 10, 0.1)
        self.ok("the agent's framebuffer changed where the xterm is")
        self.same_screen("after typing, the agent's framebuffer equals the X screen again")

    def indicator_and_screenshot(self, name):
        """The 'being supported' bar is on the X screen, so in the agent's framebuffer: red at the top centre."""
        step("the end user sees who supports them")
        def red_bar():
            image = read_ppm(self.agent_frame)
            if not image:
                return None
            width, _, rgb = image
            i = (10 * width + width // 2 - 150) * 3
            return image if (rgb[i], rgb[i + 1], rgb[i + 2]) == (0xC6, 0x28, 0x28) else None
        image = wait("the indicator in the agent's framebuffer", red_bar, 10, 0.1)
        self.ok("the 'being supported' bar shows at the top of the screen (and in the agent's view)")
        os.makedirs(SCREENSHOTS, exist_ok=True)
        write_png(os.path.join(SCREENSHOTS, name + ".png"), image)

    def clipboard_both_ways(self, agent):
        step("clipboard text both ways")
        agent.send("clipboard from-the-agent-42")
        def selection():
            result = subprocess.run(["xclip", "-o", "-selection", "clipboard", "-display", self.display],
                                    capture_output=True, text=True, timeout=5)
            return result.returncode == 0 and result.stdout == "from-the-agent-42"
        wait("the agent's text as the X clipboard", selection, 10, 0.2)
        self.ok("the agent's clipboard text is the X CLIPBOARD selection")
        subprocess.run(["xclip", "-i", "-selection", "clipboard", "-display", self.display],
                       input="from-the-desktop-7", text=True, timeout=5, check=True)
        agent.wait_event("clipboard", 10, text="from-the-desktop-7")
        self.ok("text copied on the desktop reaches the agent")

    def check_ended(self, ended_by, count):
        def ended():
            sessions = api(self.url, "GET", "/sessions", None, self.token)["sessions"]
            finished = [s for s in sessions if s["status"] == "ended"]
            return finished if len(finished) >= count else None

        finished = wait("the broker recording the end", ended, 10, 0.2)
        reason = finished[0].get("endReason", "")
        if ended_by.lower() not in reason.lower().replace("-", "").replace(" ", ""):
            raise Failure(f"the broker's newest ended session has endReason {reason!r}, expected one naming {ended_by}")
        self.ok(f"the broker shows the session ended ({reason})")

    def run(self):
        self.start_x()
        self.start_broker()

        client, agent = self.start_session("agent-ends")
        step("(a) the agent's framebuffer equals the X screen")
        self.same_screen("the agent's framebuffer equals the X screen (xwd -root)")
        self.type_into_xterm(agent)
        self.indicator_and_screenshot("agent-view-typed")
        self.clipboard_both_ways(agent)
        step("(c) the agent ends the session")
        agent.send("end")
        client.wait_event("session-ended", 15)
        if client.exit_status() != 0:
            raise Failure(f"rs-client exited with {client.proc.returncode}:\n{client.tail()}")
        self.ok("rs-client reported the end and exited 0")
        self.check_ended("agent", 1)
        agent.exit_status()

        client, agent = self.start_session("end-user-ends")
        self.same_screen("the agent's framebuffer equals the X screen")
        step("(c) the end user types 'end'")
        client.send("end")
        agent.wait_event("session-ended", 15, reason=1)
        if agent.exit_status() != 0:
            raise Failure(f"the agent exited with {agent.proc.returncode}:\n{agent.tail()}")
        self.ok("the agent reported session-ended reason 1 and exited 0")
        if client.exit_status() != 0:
            raise Failure(f"rs-client exited with {client.proc.returncode}")
        self.check_ended("enduser", 2)

    def cleanup(self, keep):
        for child in reversed(self.children):
            child.stop()
        if not keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    args = parser.parse_args()
    for tool in ["Xvfb", "xterm", "xwd", "xdpyinfo", "xdotool"]:
        if not shutil.which(tool):
            print(f"FAILED: {tool} is missing (apt-get install xvfb xterm x11-apps x11-utils xdotool)")
            return 1
    # An interrupt or SIGTERM (run.sh's trap) still stops what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    test = Test(args)
    began = time.monotonic()
    failed = None
    try:
        test.run()
    except (Failure, OSError, subprocess.SubprocessError, urllib.error.URLError) as error:
        failed = error
    finally:
        if failed:
            for child in test.children:
                if child.name.startswith(("rs-client", "agent")):
                    print(f"---- {child.name} (stderr tail)\n{child.tail()}", end="")
        test.cleanup(keep=failed is not None and os.environ.get("RS_KEEP") == "1")
    print(f"\n{len(test.passed)} checks passed in {time.monotonic() - began:.1f} s")
    if failed:
        print(f"FAILED: {failed}")
        return 1
    print("desktop end-to-end test: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
