#!/usr/bin/env python3
"""Glass-to-glass latency, frame rate and CPU of a real X desktop shared by rs-client to rs-viewer --headless,
beside x11vnc as the baseline measured in the same run on the same desktop (run by hand:
`bash Benchmarks/Desktop/glass-to-glass.sh`; not a CI gate).

On Xvfb (1024x768x24): an xterm scrolling `line N` every 10 ms (the load), and a small marker xterm whose
background the script switches between two colours through a FIFO (the shell in it prints the OSC 11 escape).
The two systems take turns on that one desktop, never both at once:

- ours: rs-client shares the screen through rs-broker; rs-viewer --headless writes its framebuffer to a PPM
  after every update (rs-client --fps 30, its default).
- baseline: x11vnc serves the display on loopback (its default polling: -wait 20, -defer 20, X DAMAGE as hints);
  vnc-capture (Tests/Interop/vnc-capture.c, libvncclient) asks for 32 bpp ZRLE only, keeps one incremental
  request outstanding (the next one goes out as soon as an update is decoded) and writes the whole framebuffer
  to a PPM after every update (--frame-out: FILE.tmp + rename, as rs-viewer does).

Rounds alternate the order (ours, x11vnc; then x11vnc, ours; ...) so a machine whose load drifts does not favour
either; each system gets the same fps window and the same number of latency samples, split over the rounds.

- latency: from writing a new colour to the FIFO until the viewer's PPM shows it at the marker (the file polled
  every ms, only the marker pixel read). It includes the xterm repainting and the viewer writing the PPM, so it
  is an upper bound of capture -> encode -> (broker) -> decode.
- frames per second: updates the viewer received per second while the xterm scrolls (rs-viewer's
  screen-updated events; vnc-capture's update lines).
- CPU: utime + stime from /proc over the fps window, as % of one core: rs-client, rs-broker and rs-viewer for
  ours; x11vnc and vnc-capture for the baseline; Xvfb (the X server both read the screen from) for each.
- the floor: once a round, with nothing sharing the screen, the same marker changes timed until the X screen
  itself shows them (XGetImage of the one pixel through libX11): the xterm's own repaint, in both columns.
"""
import argparse
import ctypes
import ctypes.util
import math
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "Desktop"))
import e2e  # noqa: E402  Xvfb, broker and child-process helpers

WIDTH, HEIGHT = 1024, 768  # e2e.Test.start_x: Xvfb -screen 0 1024x768x24
MARKER = (980, 720)  # inside the marker xterm (geometry 4x2 at +960+700)
COLOURS = [("#ff0000", (255, 0, 0)), ("#0000ff", (0, 0, 255))]
X11VNC_OPTIONS = ["-localhost", "-nopw", "-shared", "-forever", "-quiet", "-norc"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pixel(path, width, x, y):
    """The RGB of one pixel of a binary PPM (header "P6\\nW H\\n255\\n"), or None."""
    try:
        with open(path, "rb") as f:
            header = f.read(32)
            offset = header.index(b"255\n") + 4 + (y * width + x) * 3
            f.seek(offset)
            return tuple(f.read(3))
    except (OSError, ValueError):
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


class Ours:
    """rs-client -> rs-broker -> rs-viewer --headless --frame-out, one session a round."""
    name = "ours"

    def __init__(self, test):
        self.test = test
        self.round = 0

    def start(self):
        self.round += 1
        self.client, self.agent = self.test.start_session(f"bench-{self.round}", client_frame_out=False)
        self.frame = self.test.agent_frame
        self.pids = {"rs-client": self.client.proc.pid, "rs-broker": self.test.broker.proc.pid,
                     "rs-viewer": self.agent.proc.pid}

    def updates(self):
        with self.agent.lock:
            return sum(1 for e in self.agent.events if e.get("event") == "screen-updated")

    def stop(self):
        try:
            self.agent.send("end")
            self.client.exit_status(10)
        except (OSError, e2e.Failure):
            pass
        self.agent.stop()
        self.client.stop()


class X11vnc:
    """x11vnc on loopback -> vnc-capture --encodings zrle --format 32 --frame-out, started anew each round."""
    name = "x11vnc"

    def __init__(self, test, capture, extra):
        self.test = test
        self.capture = capture
        self.extra = extra
        self.round = 0

    def command(self, port):
        return ["x11vnc", "-display", self.test.display, "-rfbport", str(port)] + X11VNC_OPTIONS + self.extra

    def start(self):
        self.round += 1
        e2e.step(f"x11vnc ({self.round}): serving {self.test.display}, vnc-capture connects")
        port = free_port()
        self.server = self.test.start(f"x11vnc-{self.round}", self.command(port))

        def listening():
            with self.server.lock:
                if any(line.startswith("PORT=") for line in self.server.lines):
                    return True
            return self.server._check_alive()

        e2e.wait("x11vnc printing PORT=", listening, 30, 0.1)
        self.frame = os.path.join(self.test.work, f"x11vnc-{self.round}.ppm")
        self.viewer = self.test.start(f"vnc-capture-{self.round}", [
            self.capture, "--port", str(port), "--format", "32", "--encodings", "zrle", "--seconds", "86400",
            "--frame-out", self.frame])
        e2e.wait("vnc-capture's first frame", lambda: os.path.exists(self.frame) or self.viewer._check_alive(),
                 30, 0.05)
        self.pids = {"x11vnc": self.server.proc.pid, "vnc-capture": self.viewer.proc.pid}

    def updates(self):
        with self.viewer.lock:
            return sum(1 for e in self.viewer.events if "update" in e)

    def stop(self):
        self.viewer.stop()
        self.server.stop()


class XPixel:
    """One pixel of the X screen, read with XGetImage through libX11 (ctypes): the floor measurement."""

    def __init__(self, display):
        x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
        x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ctypes.c_ulong, [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.c_void_p
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                                ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XGetPixel.restype, x.XGetPixel.argtypes = ctypes.c_ulong, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x = x
        self.display = x.XOpenDisplay(display.encode())
        if not self.display:
            raise e2e.Failure(f"XOpenDisplay({display}) failed")
        self.root = x.XDefaultRootWindow(self.display)

    def rgb(self, px, py):
        image = self.x.XGetImage(self.display, self.root, px, py, 1, 1, 0xFFFFFFFF, 2)  # AllPlanes, ZPixmap
        if not image:
            return None
        value = self.x.XGetPixel(image, 0, 0)  # 0x00RRGGBB on Xvfb's 24-bit TrueColor
        self.x.XDestroyImage(image)
        return (value >> 16) & 255, (value >> 8) & 255, value & 255

    def close(self):
        self.x.XCloseDisplay(self.display)


class Marker:
    """The marker xterm's background, switched through the FIFO; remembers the colour last written."""

    def __init__(self, fifo):
        self.file = open(fifo, "w")
        self.count = 0
        self.current = None

    def switch(self):
        name, rgb = COLOURS[self.count % 2]
        self.count += 1
        self.current = rgb
        self.file.write(name + "\n")
        self.file.flush()
        return name, rgb


def marker_changes(who, marker, samples, read):
    """Milliseconds from writing each new colour until read() returns it (polled every ms), sorted."""
    latencies = []
    for n in range(samples):
        start = time.monotonic()
        name, rgb = marker.switch()
        while read() != rgb:
            if time.monotonic() - start > 5:
                raise e2e.Failure(f"{who}: the marker never turned {name}")
            time.sleep(0.001)
        latencies.append(1000 * (time.monotonic() - start))
        time.sleep(0.15 + 0.05 * (n % 3))
    return sorted(latencies)


def measure(system, marker, fps_seconds, samples, xvfb_pid, results):
    """One turn of one system: settle, the fps and CPU window, then the latency samples."""
    if marker.current is not None:
        e2e.wait(f"{system.name}'s viewer showing the marker's current colour",
                 lambda: pixel(system.frame, WIDTH, *MARKER) == marker.current, 15, 0.01)
    time.sleep(1)
    pids = dict(system.pids, Xvfb=xvfb_pid)
    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
    updates0 = system.updates()
    t0 = time.monotonic()
    time.sleep(fps_seconds)
    elapsed = time.monotonic() - t0
    updates = system.updates() - updates0
    for k, p in pids.items():
        results["cpu"][k] = results["cpu"].get(k, 0) + cpu_seconds(p) - cpu0[k]
    results["seconds"] += elapsed
    results["updates"] += updates

    latencies = marker_changes(system.name, marker, samples, lambda: pixel(system.frame, WIDTH, *MARKER))
    results["latencies"] += latencies
    print(f"  {system.name}: {updates / elapsed:.1f} frames/s, p50 {pct(latencies, 50):.1f} ms, "
          f"max {latencies[-1]:.1f} ms over {len(latencies)} samples; load {os.getloadavg()[0]:.2f}", flush=True)


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def report(args, results, order, load_before, load_after):
    ours, base = results["ours"], results.get("x11vnc")
    floor = sorted(results.pop("floor"))
    lat = {k: sorted(r["latencies"]) for k, r in results.items()}
    fps = {k: r["updates"] / r["seconds"] for k, r in results.items()}
    cpu = {k: {p: 100 * s / r["seconds"] for p, s in r["cpu"].items()} for k, r in results.items()}
    rows = [
        (f"glass-to-glass p50 (ms)", pct(lat["ours"], 50), base and pct(lat["x11vnc"], 50), "{:.1f}"),
        (f"glass-to-glass p99 (ms)", pct(lat["ours"], 99), base and pct(lat["x11vnc"], 99), "{:.1f}"),
        ("glass-to-glass min (ms)", lat["ours"][0], base and lat["x11vnc"][0], "{:.1f}"),
        ("glass-to-glass max (ms)", lat["ours"][-1], base and lat["x11vnc"][-1], "{:.1f}"),
        ("frames/s at the viewer while scrolling", fps["ours"], base and fps["x11vnc"], "{:.1f}"),
        ("CPU sharing side: rs-client / x11vnc", cpu["ours"]["rs-client"], base and cpu["x11vnc"]["x11vnc"],
         "{:.1f}"),
        ("CPU relay: rs-broker / none", cpu["ours"]["rs-broker"], base and 0.0, "{:.1f}"),
        ("CPU viewer: rs-viewer / vnc-capture", cpu["ours"]["rs-viewer"], base and cpu["x11vnc"]["vnc-capture"],
         "{:.1f}"),
        ("CPU total of the above", sum(v for k, v in cpu["ours"].items() if k != "Xvfb"),
         base and sum(v for k, v in cpu["x11vnc"].items() if k != "Xvfb"), "{:.1f}"),
        ("CPU of Xvfb meanwhile (scroll load + capture)", cpu["ours"]["Xvfb"], base and cpu["x11vnc"]["Xvfb"],
         "{:.1f}"),
    ]
    print()
    print("| measure (CPU: % of one core)                  |    ours | x11vnc | ours ÷ x11vnc |")
    print("|-----------------------------------------------|---------|--------|---------------|")
    for label, a, b, fmt in rows:
        bs = fmt.format(b) if base else "-"
        print(f"| {label:<45} | {fmt.format(a):>7} | {bs:>6} | {ratio(a, b) if base else '-':>13} |")
    print(f"\nfloor (the marker on the X screen itself, nothing sharing, {len(floor)} samples): p50 "
          f"{pct(floor, 50):.1f} ms, p99 {pct(floor, 99):.1f} ms, min {floor[0]:.1f} ms; included in both columns")
    real = os.path.realpath(args.bin)
    config = "release" if "/release" in real else "debug" if "/debug" in real else "unknown"
    print()
    print(f"settings: {WIDTH}x{HEIGHT}x24 Xvfb; {len(lat['ours'])} latency samples and {ours['seconds']:.1f} s of "
          f"fps/CPU window per system, in {args.rounds} round(s), order {' '.join(order)}; p99 of "
          f"{len(lat['ours'])} samples is the {min(len(lat['ours']), int(0.99 * len(lat['ours'])) + 1)}th smallest")
    print(f"ours: {args.bin} ({config} build: {real}); rs-client --fps 30 (default), rs-viewer --headless "
          f"--frame-out, through rs-broker on loopback")
    if base:
        print(f"baseline: x11vnc -display :N -rfbport <free> {' '.join(X11VNC_OPTIONS + args.x11vnc_arg)} "
              f"({subprocess.run(['x11vnc', '-version'], capture_output=True, text=True).stdout.strip()}); "
              f"{args.capture} --format 32 --encodings zrle --seconds S --frame-out FILE")
    print(f"load average (1/5/15 min) before: {'/'.join(f'{v:.2f}' for v in load_before)}, after: "
          f"{'/'.join(f'{v:.2f}' for v in load_after)}; {os.cpu_count()} CPUs")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    parser.add_argument("--samples", type=int, default=40, help="latency samples per system (all rounds)")
    parser.add_argument("--fps-seconds", type=float, default=10, help="fps/CPU window per system (all rounds)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each system takes, order alternating")
    parser.add_argument("--baseline", choices=["x11vnc", "none"], default="x11vnc")
    parser.add_argument("--capture", default=os.path.join(REPO, ".build-c", "vnc-capture"))
    parser.add_argument("--x11vnc-arg", action="append", default=[], help="one more x11vnc option (repeatable)")
    args = parser.parse_args()
    if args.baseline == "x11vnc":
        for tool in ["x11vnc", args.capture]:
            if not shutil.which(tool):
                print(f"FAILED: {tool} is missing (glass-to-glass.sh installs x11vnc and builds vnc-capture)")
                return 1
    e2e.signal.signal(e2e.signal.SIGTERM, lambda *_: sys.exit(143))
    test = e2e.Test(args)
    load_before = os.getloadavg()
    try:
        test.start_x()
        fifo = os.path.join(test.work, "marker")
        os.mkfifo(fifo)
        script = f'exec 3<>{fifo}; while read -r c <&3; do printf "\\033]11;%s\\007" "$c"; done'
        test.start("marker", ["xterm", "-geometry", "4x2+960+700", "-e", "bash", "-c", script], env=test.env)
        test.start_broker()
        marker = Marker(fifo)
        e2e.step("the scrolling load: an xterm printing a line every 10 ms, for the whole run")
        test.start("scroller", ["xterm", "-geometry", "100x40+0+40", "-e", "bash", "-c",
                                "for i in $(seq 1 1000000); do echo \"line $i\"; sleep 0.01; done"], env=test.env)
        time.sleep(1)

        systems = [Ours(test)] + ([X11vnc(test, shutil.which(args.capture), args.x11vnc_arg)]
                                  if args.baseline == "x11vnc" else [])
        results = {s.name: {"latencies": [], "cpu": {}, "seconds": 0.0, "updates": 0} for s in systems}
        samples = math.ceil(args.samples / args.rounds)
        seconds = args.fps_seconds / args.rounds
        order = []
        results["floor"] = []
        screen = XPixel(test.display)
        for r in range(args.rounds):
            e2e.step(f"round {r + 1}, the floor: {samples} marker changes timed on the X screen, nothing sharing")
            results["floor"] += marker_changes("the X screen", marker, samples, lambda: screen.rgb(*MARKER))
            for system in (systems if r % 2 == 0 else systems[::-1]):
                order.append(system.name)
                system.start()
                try:
                    e2e.step(f"round {r + 1}, {system.name}: {seconds:.1f} s of frames/s and CPU, "
                             f"then {samples} marker changes while it scrolls")
                    measure(system, marker, seconds, samples, test.xvfb.proc.pid, results[system.name])
                finally:
                    system.stop()
        marker.file.close()
        screen.close()
        report(args, results, order, load_before, os.getloadavg())
        return 0
    except e2e.Failure as error:
        print(f"FAILED: {error}")
        for child in test.children:
            if child.name.startswith(("rs-client", "agent", "x11vnc", "vnc-capture")):
                try:
                    print(f"---- {child.name}\n{child.tail()}", end="")
                except ValueError:  # stopped already: its log is closed
                    print(f"---- {child.name}: see {child.log_path}")
        return 1
    finally:
        test.cleanup(keep=False)


if __name__ == "__main__":
    sys.exit(main())
