#!/usr/bin/env python3
"""Glass-to-glass latency, frame rate and CPU of a real X desktop shared by rs-client to rs-viewer --headless
(run by hand: `bash Benchmarks/Desktop/glass-to-glass.sh`; not a CI gate).

On Xvfb (1024x768x24): an xterm scrolling `line N` every 10 ms (the load), and a small marker xterm whose
background the script switches between two colours through a FIFO (the shell in it prints the OSC 11 escape).
rs-client shares the screen; rs-viewer writes its framebuffer to a PPM after every update.

- latency: from writing a new colour to the FIFO until rs-viewer's PPM shows it at the marker (the file polled
  every ms, only the marker pixel read). It includes the xterm repainting and rs-viewer writing the PPM, so it
  is an upper bound of capture -> encode -> broker -> decode.
- frames per second: rs-viewer's screen-updated events per second while the xterm scrolls.
- CPU: utime + stime of rs-client and rs-viewer from /proc over the measured run, as % of one core.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "Desktop"))
import e2e  # noqa: E402  Xvfb, broker and child-process helpers

MARKER = (980, 720)  # inside the marker xterm (geometry 4x2 at +960+700)
COLOURS = [("#ff0000", (255, 0, 0)), ("#0000ff", (0, 0, 255))]


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--fps-seconds", type=float, default=10)
    args = parser.parse_args()
    e2e.signal.signal(e2e.signal.SIGTERM, lambda *_: sys.exit(143))
    test = e2e.Test(args)
    try:
        test.start_x()
        fifo = os.path.join(test.work, "marker")
        os.mkfifo(fifo)
        script = f'exec 3<>{fifo}; while read -r c <&3; do printf "\\033]11;%s\\007" "$c"; done'
        test.start("marker", ["xterm", "-geometry", "4x2+960+700", "-e", "bash", "-c", script], env=test.env)
        test.start_broker()
        client, agent = test.start_session("bench", client_frame_out=False)
        marker = open(fifo, "w")
        width = 1024

        # Scrolling load, measured for fps and CPU.
        e2e.step(f"scrolling for {args.fps_seconds:.0f} s")
        test.start("scroller", ["xterm", "-geometry", "100x40+0+40", "-e", "bash", "-c",
                                "for i in $(seq 1 100000); do echo \"line $i\"; sleep 0.01; done"], env=test.env)
        time.sleep(1)
        pids = {"rs-client": client.proc.pid, "rs-viewer": agent.proc.pid}
        cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        with agent.lock:
            updates0 = sum(1 for e in agent.events if e.get("event") == "screen-updated")
        t0 = time.monotonic()
        time.sleep(args.fps_seconds)
        elapsed = time.monotonic() - t0
        with agent.lock:
            updates = sum(1 for e in agent.events if e.get("event") == "screen-updated") - updates0
        cpu = {k: 100 * (cpu_seconds(p) - cpu0[k]) / elapsed for k, p in pids.items()}
        fps = updates / elapsed

        e2e.step(f"{args.samples} marker changes while it scrolls")
        latencies = []
        for n in range(args.samples):
            name, rgb = COLOURS[n % 2]
            start = time.monotonic()
            marker.write(name + "\n")
            marker.flush()
            while pixel(test.agent_frame, width, *MARKER) != rgb:
                if time.monotonic() - start > 5:
                    raise e2e.Failure(f"sample {n}: the marker never turned {name} on the agent's side")
                time.sleep(0.001)
            latencies.append(1000 * (time.monotonic() - start))
            time.sleep(0.15 + 0.05 * (n % 3))
        marker.close()
        latencies.sort()

        def pct(values, p):
            return values[min(len(values) - 1, int(p / 100 * len(values)))]

        print()
        print("| measure                               | value |")
        print("|---------------------------------------|-------|")
        print(f"| glass-to-glass p50 (ms, {len(latencies)} samples)     | {pct(latencies, 50):5.1f} |")
        print(f"| glass-to-glass p99 (ms)               | {pct(latencies, 99):5.1f} |")
        print(f"| glass-to-glass min / max (ms)         | {latencies[0]:.1f} / {latencies[-1]:.1f} |")
        print(f"| frames/s at rs-viewer while scrolling | {fps:5.1f} |")
        print(f"| rs-client CPU (% of one core)         | {cpu['rs-client']:5.1f} |")
        print(f"| rs-viewer CPU (% of one core)         | {cpu['rs-viewer']:5.1f} |")
        print(f"\nbinaries: {test.bin}; 1024x768 Xvfb; rs-client --fps 30 (default), no --frame-out")
        return 0
    except e2e.Failure as error:
        print(f"FAILED: {error}")
        for child in test.children:
            if child.name.startswith(("rs-client", "agent")):
                print(f"---- {child.name}\n{child.tail()}", end="")
        return 1
    finally:
        test.cleanup(keep=False)


if __name__ == "__main__":
    sys.exit(main())
