"""Workload W (issue 8) on a Redis Cluster, and what acking after replicas costs. Registered into
bench.py's scenarios by register().

* `cluster`: W at 2,000 msg/s on one Redis and on a 3-master cluster (`--redis-cluster`),
  alternated back to back (BENCH_ROUNDS rounds, default 2; the box is shared). Redis CPU per
  message summed over the masters, each master's share of it, server CPU per message, ack p99.
* `w-replicas`: the same load with `--ack-after-replicas 0` and `1`, alternated, on one Redis
  with one replica and on a 3-master cluster with one replica per master.

Both run with conversations seeded in Redis before the load (`confide-loadgen
--conversation-prefix`: every message is a send, none an inquiry, written when a cluster took
no inquiries yet) and in plaintext storage (a seeded conversation has no data key), on both
sides of each comparison, so the difference is where the data lives. Redis as in `w` (appendonly yes, AOF rewrites off). Every wait is bounded; every
process started here is stopped here (by pid).
"""

import os
import shutil
import subprocess
import tempfile
import time

import workload_w

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
SPECIALISTS = workload_w.W["specialists"]


def _redis_argv(port, workdir, fsync, extra=()):
    d = os.path.join(workdir, "redis-%d" % port)
    os.makedirs(d)
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
            "--appendonly", "yes", "--appendfsync", fsync, "--save", "", "--daemonize", "no",
            "--protected-mode", "yes"] + workload_w.REDIS_EXTRA + list(extra)


def _cli(port, *args, timeout=10, stdin=None):
    r = subprocess.run(["redis-cli", "-p", str(port)] + [str(a) for a in args], input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout


def _until(what, ok, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        if ok():
            return
        time.sleep(0.1)
    raise RuntimeError("%s: not within %d s" % (what, limit))


class Nodes:
    """redis-server processes: one Redis (with `replicas` replicas of it), or a cluster of
    `masters` masters with `replicas` replicas each."""

    def __init__(self, b, workdir, fsync, masters=0, replicas=0):
        self.b = b
        self.cluster = masters > 0
        self.procs = {}
        n = masters * (1 + replicas) if self.cluster else 1 + replicas
        # free_port() may answer a port twice; a node also needs port + 10000 (its cluster bus).
        ports = []
        while len(ports) < n:
            p = b.free_port()
            if p < 55535 and all(abs(p - q) not in (0, 10000) for q in ports):
                ports.append(p)
        extra = lambda: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                         "--cluster-node-timeout", "5000"] if self.cluster else []
        try:
            for i, port in enumerate(ports):
                follow = ["--replicaof", "127.0.0.1", str(ports[0])] \
                    if not self.cluster and i > 0 else []
                self.procs[port] = b.Process("redis-%d" % port,
                                             _redis_argv(port, workdir, fsync, extra() + follow),
                                             workdir)
            for port in ports:
                _until("redis on %d" % port, lambda p=port: _cli(p, "PING").strip() == "PONG")
            if self.cluster:
                out = subprocess.run(
                    ["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % p for p in ports] +
                    ["--cluster-replicas", str(replicas), "--cluster-yes"],
                    capture_output=True, text=True, timeout=60)
                if out.returncode != 0:
                    raise RuntimeError("redis-cli --cluster create: " + out.stdout[-2000:])
                for port in ports:
                    _until("cluster state on %d" % port,
                           lambda p=port: "cluster_state:ok" in _cli(p, "CLUSTER", "INFO"), 60)
            self.masters = [p for p in ports if _cli(p, "ROLE").startswith("master")]
            self.replicas = [p for p in ports if p not in self.masters]
            for port in self.replicas:
                _until("replica on %d" % port,
                       lambda p=port: "master_link_status:up" in _cli(p, "INFO", "replication"),
                       60)
            if self.cluster:
                # Every master sees its replica, and every node agrees on the slots.
                _until("every master's replicas", lambda: all(
                    "connected_slaves:%d" % replicas in _cli(p, "INFO", "replication")
                    for p in self.masters), 60)
        except Exception:
            self.stop()
            raise

    def server_args(self):
        if self.cluster:
            return ["--redis-cluster", ",".join("127.0.0.1:%d" % p for p in self.masters)]
        return ["--redis", "127.0.0.1:%d" % self.masters[0]]

    def cpu(self):
        """CPU seconds so far of each master and each replica, by port."""
        return {p: self.b.cpu_seconds(self.procs[p].pid) for p in self.masters + self.replicas}

    def resetstat(self):
        for p in self.masters:
            _cli(p, "CONFIG", "RESETSTAT")

    def commandstats(self):
        """INFO commandstats summed over the masters."""
        out = {}
        for p in self.masters:
            for line in _cli(p, "INFO", "commandstats").splitlines():
                if not line.startswith("cmdstat_"):
                    continue
                name, _, rest = line.partition(":")
                kv = dict(x.split("=") for x in rest.split(",") if "=" in x)
                s = out.setdefault(name[len("cmdstat_"):], {"calls": 0.0, "usec": 0.0})
                s["calls"] += float(kv.get("calls", 0))
                s["usec"] += float(kv.get("usec", 0))
        return out

    def seed(self, prefix, run_id, clients, now_ms):
        """Client i's conversation with specialist i mod SPECIALISTS, active, as inquiry.lua
        and update.lua would have left it (as tests/integration/cluster seeds them)."""
        lines = []
        for i in range(clients):
            cid = "%s%d" % (prefix, i)
            c = "lg-%s-c%d" % (run_id, i)
            s = "lg-%s-s%d" % (run_id, i % SPECIALISTS)
            lines.append("HSET cf:c:{%s} client %s specialist %s state active free 0 created %d "
                         "updated %d read_c 0 read_s 0 unread_c 0 unread_s 0 expires 0 "
                         "first_reply %d" % (cid, c, s, now_ms, now_ms, now_ms))
            for user, other in ((c, s), (s, c)):
                lines.append("ZADD cf:u:{%s}:convs %d %s" % (user, now_ms, cid))
                lines.append("SADD cf:u:{%s}:contacts %s" % (user, other))
        args = ["redis-cli", "-p", str(self.masters[0])] + (["-c"] if self.cluster else [])
        out = subprocess.run(args, input="\n".join(lines) + "\n", capture_output=True, text=True,
                             timeout=120)
        if out.returncode != 0 or "ERR" in out.stdout:
            raise RuntimeError("seeding conversations failed: " + out.stdout[-1000:])

    def stop(self):
        for p in self.procs.values():
            p.stop()


def _start_server(b, build, workdir, nodes, extra):
    argv = [os.path.join(build, "server", "app", "confide-server"), "--listen", "127.0.0.1:0",
            "--token-key", "%s:HS256:text:%s" % (b.KID, b.SECRET), "--log-level", "warn",
            "--directory-open", "--allow-plaintext-storage"] + nodes.server_args() + extra
    proc = b.Process("server", argv, workdir)
    deadline = time.time() + 30
    while time.time() < deadline and proc.alive():
        m = [l for l in proc.stdout_text().splitlines() if l.startswith("listening on ")]
        if m:
            return proc, argv, int(m[0].rsplit(":", 1)[1])
        time.sleep(0.05)
    err = proc.stderr_tail()
    proc.stop()
    raise RuntimeError("confide-server did not start:\n" + err)


def _one(b, build, fsync, quick, scenario, variant, masters, replicas, server_extra):
    """One measured run of W at 2,000 msg/s: a row."""
    p = dict(workload_w.W)
    if quick:
        p.update(duration=6, drain=10)
    quiet = 1.0 if quick else b.wait_for_quiet()
    workdir = tempfile.mkdtemp(prefix="confide-bench-")
    nodes = Nodes(b, workdir, fsync, masters, replicas)
    server = None
    try:
        server, server_argv, port = _start_server(b, build, workdir, nodes, server_extra)
        run_id = "r%d" % (int(time.time() * 1000) % 10**9)  # the load generator takes <= 16
        prefix = "conv-%s-" % run_id
        nodes.seed(prefix, run_id, p["clients"], int(time.time() * 1000))
        time.sleep(0.5)
        nodes.resetstat()
        r0, s0, l0, m0 = nodes.cpu(), b.cpu_seconds(server.pid), b.children_cpu(), \
            b.machine_busy_seconds()
        t0 = time.time()
        report = os.path.join(workdir, "loadgen.json")
        args = ["--clients", p["clients"], "--specialists", p["specialists"], "--rate",
                p["rate"], "--window", p["window"], "--duration", p["duration"], "--ramp-up",
                p["ramp"], "--threads", p["threads"], "--drain", p["drain"], "--quiet",
                "--run-id", run_id, "--conversation-prefix", prefix] + workload_w._echo_args()
        argv = b.loadgen_argv(build, port, report, args)
        lg = b.Process("loadgen", argv, workdir)
        code = lg.wait(p["duration"] + 120)
        if code is None:
            lg.stop()
            code = -1
        else:
            lg.stop()
        wall = time.time() - t0
        r1, s1 = nodes.cpu(), b.cpu_seconds(server.pid)
        loadgen_cpu = b.children_cpu() - l0
        stats = nodes.commandstats()
        try:
            import json
            with open(report) as f:
                rep = json.load(f)
        except (OSError, ValueError):
            rep = None
            b.log("loadgen wrote no report; stderr:\n%s" % lg.stderr_tail())
    finally:
        if server is not None:
            server.stop()
        nodes.stop()
        # Keep the logs and the report, not Redis's data.
        keep = os.path.join(build, "bench-results", "runs", os.path.basename(workdir))
        os.makedirs(keep, exist_ok=True)
        for name in os.listdir(workdir):
            path = os.path.join(workdir, name)
            if os.path.isfile(path):
                shutil.copy(path, keep)
        shutil.rmtree(workdir, ignore_errors=True)
    s = b.summarize(rep)
    n = s.get("delivered") or 0
    master_cpu = {str(m): r1[m] - r0[m] for m in nodes.masters}
    replica_cpu = sum(r1[r] - r0[r] for r in nodes.replicas)
    redis_total = sum(master_cpu.values())
    per = lambda cpu: cpu * 1e6 / n if n else None
    row = {"scenario": scenario, "key": "%s-%s" % (scenario, variant), "variant": variant,
           "appendfsync": fsync, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "loadgen_cmds": [b.display(argv)], "loadgen_exit": code,
           "server_cmd": b.display(server_argv), "wall_s": round(wall, 2),
           "quiet_before": round(quiet, 3),
           "server_cpu_s": round(s1 - s0, 3), "redis_cpu_s": round(redis_total, 3),
           "replica_cpu_s": round(replica_cpu, 3), "loadgen_cpu_s": round(loadgen_cpu, 3),
           "other_cpu_s": round(b.machine_busy_seconds() - m0 - (s1 - s0) - redis_total -
                                replica_cpu - loadgen_cpu, 3),
           "server_cpu_us_per_msg": per(s1 - s0), "redis_cpu_us_per_msg": per(redis_total),
           "replica_cpu_us_per_msg": per(replica_cpu),
           "master_share": {k: (v / redis_total if redis_total else None)
                            for k, v in master_cpu.items()},
           "redis": {"commandstats": stats}, "rate": p["rate"]}
    row.update(s)
    return row


def _alternate(b, build, fsync, quick, scenario, variants):
    rows = {}
    for rnd in range(1 if quick else ROUNDS):
        for name, masters, replicas, extra in variants:
            b.log("%s: %s, round %d" % (scenario, name, rnd + 1))
            r = _one(b, build, fsync, quick, scenario, name, masters, replicas, extra)
            r["key"] = "%s-%s-%d" % (scenario, name, rnd + 1)
            rows[r["key"]] = r
    return list(rows.values())


def run_cluster(b, build, fsync, quick):
    return _alternate(b, build, fsync, quick, "cluster",
                      [("single", 0, 0, []), ("cluster", 3, 0, [])])


def run_replicas(b, build, fsync, quick):
    return _alternate(b, build, fsync, quick, "w-replicas", [
        ("single-r1-wait0", 0, 1, ["--ack-after-replicas", "0"]),
        ("single-r1-wait1", 0, 1, ["--ack-after-replicas", "1"]),
        ("cluster-r1-wait0", 3, 1, ["--ack-after-replicas", "0"]),
        ("cluster-r1-wait1", 3, 1, ["--ack-after-replicas", "1"]),
    ])


def notes(r):
    if r["scenario"] not in ("cluster", "w-replicas"):
        return []
    out = [r.get("variant", "")]
    shares = r.get("master_share") or {}
    if len(shares) > 1:
        out.append("masters' shares of Redis CPU: " + ", ".join(
            "%.0f %%" % (100 * v) for v in sorted(shares.values(), reverse=True) if v is not None))
    if r.get("replica_cpu_us_per_msg"):
        out.append("replicas %.1f µs/msg" % r["replica_cpu_us_per_msg"])
    cpm = workload_w.calls_per_message(r)
    if cpm:
        out.append("Redis calls/msg: " + ", ".join("%s %.2f" % (c, k) for c, k, _ in cpm
                                                    if k >= 0.05))
    return out


def register(b):
    """Adds the scenarios `cluster` and `w-replicas` to bench.py (module `b`)."""
    b.SCENARIOS["cluster"] = lambda build, fsync, quick: run_cluster(b, build, fsync, quick)
    b.SCENARIOS["w-replicas"] = lambda build, fsync, quick: run_replicas(b, build, fsync, quick)
    b.SCENARIO_ORDER.update({"cluster": 7, "w-replicas": 8})
    b.NOTE_HOOKS.append(notes)
