"""Workload W (issue 8): 200 clients and 20 specialists (client i writes to specialist i mod 20),
at an aggregate 2,000 msg/s (`w`) and as fast as each connection's one message in flight is
acked (`w-max`). Registered into bench.py's scenarios by register().

Redis runs as in the other scenarios (appendonly yes) but with AOF rewrites off
(`--auto-aof-rewrite-percentage 0`): a rewrite forks a child that takes a core for seconds, and
whether one lands in a 30 s run depends on how big the AOF happens to be, not on the message
path. Their CPU would show in `redis_children_cpu_s` anyway.

Besides CPU per message (server, Redis, load generator), each row keeps Redis's `INFO
commandstats` (reset when the load starts): calls per message by command, and µs per message.
"""

import os

W = dict(clients=200, specialists=20, rate=2000, window=4, duration=30, ramp=3, drain=20,
         threads=1)
W_MAX = dict(W, rate=0, window=1)
REDIS_EXTRA = ["--auto-aof-rewrite-percentage", "0"]


def _echo_args():
    """BENCH_SKIP_OWN_ECHO=0|1: the load generator's --skip-own-echo (unset: its default)."""
    v = os.environ.get("BENCH_SKIP_OWN_ECHO")
    return ["--skip-own-echo", v] if v in ("0", "1") else []


def _run(b, build, scenario, p, fsync, quick):
    p = dict(p)
    if quick:
        p.update(duration=6, drain=10)
    run = b.Run(build, fsync, list(b.GENEROUS_RATE), redis_extra=REDIS_EXTRA)
    try:
        run.begin()
        code, rep, argv, _ = run.loadgen(scenario, [
            "--clients", p["clients"], "--specialists", p["specialists"], "--rate", p["rate"],
            "--window", p["window"], "--duration", p["duration"], "--ramp-up", p["ramp"],
            "--threads", p["threads"], "--drain", p["drain"], "--quiet"] + _echo_args(),
            p["duration"] + 120)
        run.end()
    finally:
        run.close()
    r = b.row(scenario, run, rep, [argv], code, rate=p["rate"] or None)
    r["key"] = scenario
    return [r]


def calls_per_message(r):
    """[(command, calls per message, µs per message)], most calls first."""
    n = r.get("delivered") or 0
    stats = (r.get("redis") or {}).get("commandstats") or {}
    if not n:
        return []
    out = [(name, s["calls"] / n, s["usec"] / n) for name, s in stats.items() if s["calls"]]
    return sorted(out, key=lambda x: -x[1])


def notes(r):
    if r["scenario"] not in ("w", "w-max"):
        return []
    cpm = calls_per_message(r)
    if not cpm:
        return []
    return ["Redis calls/msg: " + ", ".join("%s %.2f (%.1f µs)" % (c, k, u) for c, k, u in cpm
                                             if k >= 0.05)]


def target_lines(rows, find, check):
    w = find("w", "everysec")
    check("W at 2,000 msg/s: server CPU per message (everysec)",
          w and w.get("server_cpu_us_per_msg"), "≤ 60 µs", lambda v: v <= 60, "%.1f µs")
    check("W at 2,000 msg/s: Redis CPU per message (everysec)",
          w and w.get("redis_cpu_us_per_msg"), "≤ 40 µs", lambda v: v <= 40, "%.1f µs")
    p99 = w and (w.get("ack") or {}).get("p99")
    check("W at 2,000 msg/s: ack p99 (everysec)", p99 and p99 / 1000.0, "≤ 3 ms",
          lambda v: v <= 3, "%.2f ms")
    m = find("w-max", "everysec")
    check("W as fast as acked (window 1), everysec", m and m.get("delivered_per_s"),
          "≥ 25,000 msg/s", lambda v: v >= 25000, "%.0f")
    ma = find("w-max", "always")
    if m and ma and m.get("delivered_per_s"):
        check("W as fast as acked, always / everysec", ma.get("delivered_per_s") and
              ma["delivered_per_s"] / m["delivered_per_s"] * 100, "≥ 80 %", lambda v: v >= 80,
              "%.0f %%")


def register(b):
    """Adds the scenarios `w` and `w-max` to bench.py (module `b`)."""
    b.SCENARIOS["w"] = lambda build, fsync, quick: _run(b, build, "w", W, fsync, quick)
    b.SCENARIOS["w-max"] = lambda build, fsync, quick: _run(b, build, "w-max", W_MAX, fsync,
                                                             quick)
    b.SCENARIO_ORDER.update({"w": 4, "w-max": 5})
    b.NOTE_HOOKS.append(notes)
    b.TARGET_HOOKS.append(target_lines)
