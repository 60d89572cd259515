#!/usr/bin/python3
"""Instructions confide-server spends per message, measured with callgrind: deterministic, unlike
CPU time on a shared machine, so a change to the message path can be judged while other
processes run. User-space instructions only (the kernel's share of a message, its syscalls, is
not counted).

For each variant (sealed: --data-key-file; plaintext: --allow-plaintext-storage) the server
runs under `valgrind --tool=callgrind` twice, with its own redis-server each time, while the
load generator sends N1 and then N2 messages per connection (window 4, as fast as acked);
instructions per message = (I(N2) - I(N1)) / (messages(N2) - messages(N1)), so start-up, sign-in
and shutdown cancel out.

    /usr/bin/python3 bench/server_instructions.py [--build-dir build/release]
        [--connections 10] [--n1 50] [--n2 250]

Loopback only; every run is bounded in time.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

VARIANTS = [("sealed", []), ("plaintext", ["--allow-plaintext-storage"])]


def one_run(build, extra, connections, per_connection, keep=None):
    """Instructions of one server process and the messages it acked."""
    workdir = tempfile.mkdtemp(prefix="confide-instr-")
    try:
        redis = bench.Redis(workdir, "everysec")
        out = os.path.join(workdir, "callgrind.out")
        server = bench.Server(build, workdir, redis, list(bench.GENEROUS_RATE) + extra + [
            "--drain-delay-ms", "0"], wrapper=["valgrind", "--tool=callgrind",
                                                "--callgrind-out-file=" + out])
        report = os.path.join(workdir, "report.json")
        half = connections // 2
        argv = bench.loadgen_argv(build, server.port, report, [
            "--clients", half, "--specialists", half, "--rate", 0, "--window", 4,
            "--messages-per-connection", per_connection, "--duration", 600, "--ramp-up", 0,
            "--threads", 1, "--drain", 60, "--quiet"])
        subprocess.run(argv, timeout=900, check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        server.proc.stop(timeout=120)
        redis.stop()
        with open(report) as f:
            rep = json.load(f)
        if keep:
            shutil.copy(out, keep)
        with open(out) as f:
            text = f.read()
        m = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        if not m:
            raise RuntimeError("no totals in " + out)
        if not rep["verdict"]["ok"]:
            raise RuntimeError("the load generator's verdict: %s" % rep["verdict"]["reasons"])
        return int(m.group(1)), int(rep["messages"]["acked"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build/release")
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--n1", type=int, default=50)
    ap.add_argument("--n2", type=int, default=250)
    ap.add_argument("--keep", metavar="DIR",
                    help="keep each variant's callgrind output of the N2 run here "
                         "(callgrind_annotate reads it)")
    a = ap.parse_args()
    for variant, extra in VARIANTS:
        i1, m1 = one_run(a.build_dir, extra, a.connections, a.n1)
        keep = os.path.join(a.keep, "callgrind.%s" % variant) if a.keep else None
        i2, m2 = one_run(a.build_dir, extra, a.connections, a.n2, keep)
        print("%-9s %6d instructions/message (%d and %d messages acked)" % (
            variant, (i2 - i1) // max(m2 - m1, 1), m1, m2), flush=True)


if __name__ == "__main__":
    main()
