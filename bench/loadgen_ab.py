#!/usr/bin/python3
"""Load generator CPU per message, two builds A/B: for each round and each build, a fresh
redis-server and confide-server (both from the first build, so only the generator differs) and
one confide-loadgen run of a fixed configuration; prints the generator's utime + stime (wait4)
divided by the messages acked and delivered. Runs alternate between the builds, so a machine
that gets busier or quieter weighs on both alike.

    bench/loadgen_ab.py --rounds 3 latency build-of-main/ build/release/

Scenarios: latency (bench/run.sh's latency at 2,500 msg/s, 20 s) and throughput (10 + 10
connections, window 16, 5,000 messages each). Every process started here is stopped here.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile

import bench

SCENARIOS = {
    "latency": ["--clients", 1000, "--specialists", 1000, "--rate", 2500, "--window", 4,
                "--duration", 20, "--ramp-up", 5, "--threads", 1, "--drain", 30, "--quiet"],
    "throughput": ["--clients", 10, "--specialists", 10, "--rate", 0, "--window", 16,
                   "--messages-per-connection", 5000, "--duration", 120, "--ramp-up", 0,
                   "--threads", 1, "--drain", 30, "--quiet"],
}


def run_once(server_build, loadgen_build, args):
    workdir = tempfile.mkdtemp(prefix="confide-bench-")
    redis = bench.Redis(workdir, "everysec")
    try:
        server = bench.Server(server_build, workdir, redis, list(bench.GENEROUS_RATE))
        try:
            report = os.path.join(workdir, "report.json")
            proc = subprocess.Popen(bench.loadgen_argv(loadgen_build, server.port, report, args),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            with open(report) as f:
                rep = json.load(f)
            return (os.waitstatus_to_exitcode(status), rep["verdict"]["ok"],
                    rep["messages"]["delivered"], usage.ru_utime, usage.ru_stime)
        finally:
            server.stop()
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("builds", nargs="+", help="build directories (the first one's server)")
    a = ap.parse_args()
    builds = [os.path.abspath(b) for b in a.builds]
    per_build = {b: [] for b in builds}
    for r in range(a.rounds):
        for b in builds:
            code, ok, delivered, user, system = run_once(builds[0], b, SCENARIOS[a.scenario])
            us = (user + system) * 1e6 / max(delivered, 1)
            per_build[b].append(us)
            print("%s round %d %s: exit %d ok %s delivered %d cpu %.2f s (user %.2f, sys %.2f)"
                  " -> %.1f us/msg" % (a.scenario, r, b, code, ok, delivered, user + system, user,
                                       system, us), flush=True)
    for b, v in per_build.items():
        print("%s %s: mean %.1f us/msg over %d runs (%s)" % (
            a.scenario, b, sum(v) / len(v), len(v), ", ".join("%.1f" % x for x in v)))


if __name__ == "__main__":
    main()
