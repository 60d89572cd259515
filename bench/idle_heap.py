#!/usr/bin/python3
"""Where an idle connection's memory goes: confide-server under heaptrack (Debian's package)
holding N idle, authenticated and synced connections from `confide-loadgen --connect-only`,
then killed (SIGKILL, so that nothing is freed on the way out): heaptrack_print's allocations
still alive ("leaked") are what the idle connections hold, by call site, divided by N.

    bench/idle_heap.py [--build-dir build/dev] [--connections 2000] [--out DIR]

Loopback only; every step bounded in time. The server's VmRSS per connection (after all are up,
minus before the first) is printed too; under heaptrack it is inflated by heaptrack's own
bookkeeping, so take RSS from `bench/run.sh connections` and the breakdown from here.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build/dev")
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--hold", type=float, default=10)
    ap.add_argument("--out", default=None, help="keep heaptrack's data here")
    a = ap.parse_args()
    if shutil.which("heaptrack") is None:
        sys.exit("idle_heap.py: heaptrack is missing (apt-get install heaptrack)")
    build = os.path.abspath(a.build_dir)
    n = min(max(a.connections, 1), 10000)  # bounded: one source address's ports and this box
    work = tempfile.mkdtemp(prefix="confide-heap-")
    out = a.out or work
    os.makedirs(out, exist_ok=True)
    redis = bench.Redis(work, "everysec")
    server = lg = None
    try:
        data = os.path.join(out, "server")
        argv = ["heaptrack", "-o", data, os.path.join(build, "server", "app", "confide-server"),
                "--listen", "127.0.0.1:0", "--redis", "127.0.0.1:%d" % redis.port,
                "--token-key", "%s:HS256:text:%s" % (bench.KID, bench.SECRET),
                "--log-level", "warn", "--io-threads", "1", "--max-connections", str(n + 100)]
        server = bench.Process("server", argv, work)
        deadline = time.time() + 60
        port = None
        while time.time() < deadline and port is None:
            m = re.search(r"^listening on [0-9.]+:([0-9]+)$", server.stdout_text(), re.M)
            port = int(m.group(1)) if m else None
            if not server.alive():
                sys.exit("confide-server did not start:\n" + server.stderr_tail())
            time.sleep(0.1)
        if port is None:
            sys.exit("confide-server did not start listening within 60 s")
        pid = int(subprocess.check_output(["pgrep", "-P", str(server.pid), "-f",
                                           "confide-server"]).split()[0])
        before = bench.status_kb(pid, "VmRSS")
        ready = os.path.join(work, "ready")
        lg = bench.Process("loadgen", bench.loadgen_argv(build, port, os.path.join(work, "lg.json"), [
            "--connect-only", "--clients", n, "--specialists", 0, "--duration", 60 + a.hold,
            "--ramp-up", max(2, n // 1000), "--connect-timeout", 20, "--quiet",
            "--source-addresses", "127.0.0.1,127.0.0.2", "--ready-file", ready]), work)
        deadline = time.time() + 120
        while time.time() < deadline and not os.path.exists(ready):
            time.sleep(0.2)
        time.sleep(a.hold)
        held = int(open(ready).read().strip() or 0) if os.path.exists(ready) else 0
        after = bench.status_kb(pid, "VmRSS")
        print("held %d connections; server VmRSS %d -> %d kB: %.0f bytes per connection "
              "(under heaptrack)" % (held, before, after, (after - before) * 1024 / max(held, 1)))
        os.kill(pid, 9)  # what is alive now is what idle connections hold
        server.wait(120)
        lg.stop()
    finally:
        if lg:
            lg.stop()
        if server:
            server.stop(60)
        redis.stop()
    files = sorted(f for f in os.listdir(out) if f.startswith("server"))
    if not files:
        sys.exit("no heaptrack data")
    print("heaptrack data: %s" % os.path.join(out, files[-1]))
    text = subprocess.run(["heaptrack_print", "--print-peaks", "0", "--print-allocators", "0",
                           "--print-temporary", "0", "--print-leaks", "1", "--peak-limit", "40",
                           "--sub-peak-limit", "6", os.path.join(out, files[-1])],
                          capture_output=True, text=True, timeout=600).stdout
    with open(os.path.join(out, "alive.txt"), "w") as f:
        f.write(text)
    summarize(text, held)
    print("full report: %s" % os.path.join(out, "alive.txt"))


def summarize(text, held):
    """Each allocation site's bytes per connection, with the first frame in Confide's code."""
    body = text.split("MEMORY LEAKS", 1)[-1]
    unit = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
    for block in re.split(r"\n(?=[0-9.]+[KMG]? leaked over)", body)[1:]:
        subs = re.split(r"\n(?=\s*[0-9.]+[KMG]? leaked over [0-9]+ calls from:)", block)
        for sub in subs[1:] if len(subs) > 1 else subs:
            lines = sub.strip().split("\n")
            m = re.match(r"\s*([0-9.]+)([KMG]?) leaked over ([0-9]+) calls", lines[0])
            if not m:
                continue
            size = float(m.group(1)) * unit[m.group(2)] / max(held, 1)
            if size < 8:
                continue
            ours = [(lines[i - 1].strip(), l.strip()[3:]) for i, l in enumerate(lines)
                    if re.search(r"at (\.\./)*(server|clients)/", l)]
            where = ("%s %s" % ours[0]) if ours else (lines[1].strip() if len(lines) > 1 else "")
            print("%7.0f B/conn %7d calls  %s" % (size, int(m.group(3)), where[:160]))


if __name__ == "__main__":
    main()
