#!/usr/bin/python3
"""Instructions Redis spends per script call, measured with callgrind (deterministic, unlike CPU
time on a shared machine).

    bench/micro/callgrind.py VARIANT...        e.g. send-v1 send ack-v1 ack
    CG=0 bench/micro/callgrind.py send         no valgrind: prints INFO commandstats instead
    KEEP=DIR bench/micro/callgrind.py send     keeps each run's callgrind output in DIR

For each variant: redis-server (appendonly yes, everysec, rewrites off) under
`valgrind --tool=callgrind`, 200 conversations as in workload W (client i, specialist i mod 20),
one subscriber connection draining every user's channel, then N calls of the variant, one at a
time (each waits for its reply). Run twice, with N1 and N2 calls: instructions per call =
(Ir(N2) - Ir(N1)) / (N2 - N1), so start-up and set-up cancel out. Bodies are 100 bytes.

Variants: `send` / `ack` are server/store/scripts/ as built; `send-batch` is send_batch.lua as
built (group commit), each call carrying BATCH (default 16) sends, reported per send; `send-v1` / `ack-v1` are the scripts
of layout 1 (bench/micro/v1/); the others are bench/micro/variants/<name>.lua, called like
`send` (see ARGS below).
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from resp import R  # noqa: E402

NCONV = 200
NSPEC = 20
N1, N2 = int(os.environ.get("N1", "500")), int(os.environ.get("N2", "1500"))
CG = os.environ.get("CG", "1") == "1"
BODY = "x" * 100


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def script(path, prelude=None):
    text = open(path).read()
    return (open(prelude).read() + "\n" + text) if prelude else text


def enc(*values):
    return "".join("%d:%s" % (len(v), v) for v in values)


def parties(k):
    i = k % NCONV
    return "cv%d" % i, "c%d" % i, "s%d" % (i % NSPEC)


def send_v2(sha, k, zadd=False, current=False):
    cid, c, s = parties(k)
    msgid, now = "m%d" % k, str(1700000000000 + k)
    fp = hashlib.sha256(("send\0%s\0%s" % (cid, BODY)).encode()).hexdigest()[:32]
    keys = ["cf:c:{%s}" % cid, "cf:c:{%s}:log" % cid, "cf:u:{%s}:inbox" % c, "cf:u:{%s}:inbox" % s,
            "cf:u:{%s}:convs" % c, "cf:u:{%s}:convs" % s]
    argv = [c, "m:c:" + msgid, " %s %s" % (now, fp), "unread_s", c, msgid, now, BODY, "100000",
            cid, "cf:n:{%s}" % c, "cf:n:{%s}" % s, "M" + enc(cid, c, msgid, now, BODY)]
    if not zadd:
        keys = keys[:4]
    if current:
        # send.lua as built also keeps the workflow: the recipient's unread reminder (scheduled
        # on the first unread message of a burst) and the specialist's first reply.
        keys = keys[:4] + ["cf:u:{%s}:replies" % s, "cf:inquiries:expiry", "cf:reminders:due"]
        # and the seq the body was sealed for: each conversation's next (call k is the
        # (k // NCONV + 1)th of conversation k % NCONV).
        argv += ["rem_s", str(int(now) + 3600000), cid + "|s", "(0", str(k // NCONV + 1)]
    return ["EVALSHA", sha, len(keys)] + keys + argv


# Group commit: send_batch.lua as built (server/store/CMakeLists.txt) carries BATCH sends per
# call, each as send_v2's call number k * BATCH + j (so each conversation's seqs stay in order).
BATCH = int(os.environ.get("BATCH", "16"))


def batch_script():
    wrapped = "local function one(KEYS, ARGV)\n%s\nend\n" % script(
        os.path.join(SCRIPTS, "send.lua"), os.path.join(SCRIPTS, "send_head.lua"))
    return wrapped + open(os.path.join(SCRIPTS, "send_batch.lua")).read()


def send_batch(sha, k):
    keys, argv = [], []
    for j in range(BATCH):
        one = send_v2(sha, k * BATCH + j, current=True)
        nkeys = one[2]
        keys += one[3:3 + nkeys]
        argv += one[3 + nkeys:]
    return ["EVALSHA", sha, len(keys)] + keys + argv


def send_v1(sha, k):
    cid, c, s = parties(k)
    msgid, now = "m%d" % k, str(1700000000000 + k)
    keys = ["cf:c:{%s}" % cid, "cf:c:{%s}:log" % cid, "cf:u:{%s}:sent:%s" % (c, msgid),
            "cf:u:{%s}" % c, "cf:u:{%s}:inbox" % c, "cf:u:{%s}:convs" % c, "cf:u:{%s}" % s,
            "cf:u:{%s}:inbox" % s, "cf:u:{%s}:convs" % s]
    argv = [cid, c, msgid, BODY, now, "604800", "100000", c, s]
    return ["EVALSHA", sha, len(keys)] + keys + argv


# An ack as a specialist's device sends it at W: a cursor and the delivered mark of one
# conversation (a receipt to its client).
def ack_v2(sha, k):
    cid, c, s = parties(k)
    argv = ["v:dev-1", str(k + 1), "d:" + cid, str(k + 1), "cf:n:{%s}" % c,
            "R" + enc(cid, s, "d", str(k + 1))]
    return ["EVALSHA", sha, 1, "cf:u:{%s}:acks" % s] + argv


def ack_v1(sha, k):
    cid, c, s = parties(k)
    return ["EVALSHA", sha, 2, "cf:u:{%s}:devices" % s, "cf:c:{%s}" % cid, s, "dev-1",
            "%d-%d" % (1700000000000 + k, 0), cid, str(k + 1)]


SCRIPTS = os.path.join(ROOT, "server", "store", "scripts")
VARIANTS = {
    # As built (server/store/CMakeLists.txt): send_head.lua, then send.lua.
    "send": (lambda: script(os.path.join(SCRIPTS, "send.lua"), os.path.join(SCRIPTS, "send_head.lua")),
             lambda sha, k: send_v2(sha, k, current=True)),
    "send-batch": (batch_script, send_batch),
    "send-v1": (lambda: script(os.path.join(HERE, "v1", "send.lua"),
                               os.path.join(HERE, "v1", "prelude.lua")), send_v1),
    "ack": (lambda: script(os.path.join(SCRIPTS, "ack.lua")), ack_v2),
    "ack-v1": (lambda: script(os.path.join(HERE, "v1", "ack.lua"),
                              os.path.join(HERE, "v1", "prelude.lua")), ack_v1),
}


def variant(name):
    if name in VARIANTS:
        return VARIANTS[name]
    path = os.path.join(HERE, "variants", name + ".lua")
    call = ack_v2 if name.startswith("ack") else \
        (lambda sha, k: send_v2(sha, k, zadd="zadd" in name))
    return (lambda: script(path)), call


def setup(r, name):
    for i in range(NCONV):
        cid, c, s = parties(i)
        fields = ["client", c, "specialist", s, "state", "active", "free", "0", "created", "1",
                  "updated", "1", "read_c", "0", "read_s", "0", "unread_c", "0", "unread_s", "0"]
        if name.endswith("-v1"):
            fields += ["seq", "0", "dlv_c", "0", "dlv_s", "0"]
        r.call("HSET", "cf:c:{%s}" % cid, *fields)
        if name.startswith("ack-v1"):
            r.call("HSET", "cf:c:{%s}" % cid, "seq", "100000")


def run(name, n):
    d = tempfile.mkdtemp(prefix="confide-micro-")
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--auto-aof-rewrite-percentage", "0"]
    if CG:
        args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % d] + args
    p = subprocess.Popen(args, stdout=open(d + "/out.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                r = R(port)
                r.call("PING")
                break
            except OSError:
                time.sleep(0.1)
        sub = R(port)
        chans = ["cf:n:{c%d}" % i for i in range(NCONV)] + ["cf:n:{s%d}" % i for i in range(NSPEC)]
        sub.s.sendall(b"".join(sub.enc(["SUBSCRIBE", c]) for c in chans))

        def drain():
            try:
                while sub.s.recv(1 << 20):
                    pass
            except OSError:
                pass
        threading.Thread(target=drain, daemon=True).start()
        load, call = variant(name)
        sha = r.call("SCRIPT", "LOAD", load()).decode()
        setup(r, name)
        for k in range(n):
            res = r.call(*call(sha, k))
            if isinstance(res, Exception):
                raise res
            # A script that refused (a wrong seq, a missing conversation) would be measured as
            # its cheap refusal: stop instead.
            replies = res if name == "send-batch" else [res]
            for one in replies:
                if isinstance(one, list) and one and one[0] in (b"err", b"seq"):
                    raise RuntimeError("%s call %d answered %r" % (name, k, one))
        stats = r.call("INFO", "commandstats").decode()
        r.s.sendall(r.enc(["SHUTDOWN", "NOSAVE"]))
        p.wait(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
    if not CG:
        return stats
    if os.environ.get("KEEP"):
        os.makedirs(os.environ["KEEP"], exist_ok=True)
        shutil.copy(d + "/cg.out", os.path.join(os.environ["KEEP"], "%s.%d.out" % (name, n)))
    out = subprocess.run(["callgrind_annotate", d + "/cg.out"], capture_output=True,
                         text=True).stdout
    return int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", out).group(1).replace(",", ""))


def main():
    for name in sys.argv[1:]:
        if not CG:
            print(name, run(name, N2))
            continue
        a, b = run(name, N1), run(name, N2)
        per = BATCH if name == "send-batch" else 1
        print("%-24s %9.0f instructions per %s" % (name, (b - a) / (N2 - N1) / per,
                                                  "send (in batches of %d)" % per if per > 1
                                                  else "call"), flush=True)


if __name__ == "__main__":
    main()
