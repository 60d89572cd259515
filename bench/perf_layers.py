#!/usr/bin/python3
"""Where confide-server's CPU goes, by layer: reads `perf script` output (samples with call
chains, recorded with --call-graph dwarf) on stdin and prints each layer's share of the samples
and, given the server's CPU µs per message, its µs per message. A sample is put in the layer of
its innermost function that is not inlined (kernel samples by the system call they are in, or as
a context switch).

    perf record -F 499 --call-graph dwarf,32768 -p <server pid> -o perf.data -- sleep 8
    perf script -i perf.data -F comm,tid,ip,sym,dso | bench/perf_layers.py <µs per message>

See docs/benchmarks.md, "Server CPU per message".
"""
import collections
import re
import sys

cats = collections.Counter()
total = 0


def classify(frames):
    # frames: list of (sym, dso), leaf first
    leaf_sym = frames[0][0]
    leaf_dso = next((d for _, d in frames if d != 'inlined'), frames[0][1])
    syms = [f[0] for f in frames]
    kernel = '[kernel' in leaf_dso
    if kernel:
        if any('finish_task_switch' in s or s in ('schedule', '__schedule') for s in syms[:6]):
            # what made it switch
            for s, d in frames:
                if 'epoll_wait' in s: return 'kernel: context switch (blocked in epoll_wait)'
            return 'kernel: context switch (preempted at syscall exit / wake-up)'
        for s, d in frames:
            m = re.match(r'(?:__x64_sys_|__sys_|__se_sys_|do_)(sendmsg|recvmsg|recvfrom|sendto|read|write|readv|writev|epoll_wait|epoll_ctl|futex|epoll_pwait)\b', s)
            if m:
                name = m.group(1)
                if name in ('sendmsg', 'sendto', 'write', 'writev'): return 'kernel: socket writes (%s)' % name
                if name in ('recvmsg', 'recvfrom', 'read', 'readv'): return 'kernel: socket reads (%s)' % name
                return 'kernel: %s' % name
        return 'kernel: other (irq, entry/exit)'
    d = leaf_dso
    s = leaf_sym
    if 'libc.so' in d:
        if re.search(r'malloc|free|_int_|consolidate|unlink_chunk|calloc|realloc|tcache', s): return 'allocation (malloc/free)'
        if 'mutex' in s or 'pthread' in s: return 'locks (pthread mutex)'
        if re.search(r'mem|str', s): return 'libc mem/str'
        return 'libc syscall wrappers / other'
    if 'libstdc++' in d:
        if 'operator new' in s or 'operator delete' in s: return 'allocation (malloc/free)'
        return 'libstdc++ other'
    if 'libprotobuf' in d: return 'protobuf'
    if 'libhiredis' in d: return 'hiredis (format, parse)'
    if 'libcrypto' in d: return 'crypto (OpenSSL)'
    if 'vdso' in d: return 'clock (vdso)'
    if 'confide-server' in d:
        if s.startswith('boost::beast'): return 'Beast (framing)'
        if s.startswith('boost::asio') or 'boost_asio' in s or s.startswith('boost::system'): return 'Asio (scheduler, strands, executors, handlers)'
        if 'protobuf' in s or s.startswith('confide::v1') or 'Frame' in s and 'confide::v1' in s: return 'protobuf'
        if s.startswith('confide::crypto'): return 'crypto (OpenSSL)'
        if s.startswith('confide::metrics') or 'stats::' in s: return 'metrics'
        if s.startswith('confide::store::redis'): return 'our Redis layer'
        if s.startswith('confide::store'): return 'our store layer'
        if s.startswith('confide::routing') or s.startswith('confide::net') or s.startswith('confide::protocol'): return 'our routing/net/protocol'
        if s.startswith('std::'): return 'std containers/strings (inlined into ours)'
        return 'confide-server other'
    if d == 'inlined':
        return 'other'
    return 'other'
frames = []
for line in sys.stdin:
    line = line.rstrip('\n')
    if not line.strip():
        if frames:
            cats[classify(frames)] += 1; total += 1
        frames = []
        continue
    if line[0] not in ' \t':
        frames = []
        continue
    m = re.match(r'\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$', line)
    if m:
        sym = re.sub(r'\+0x[0-9a-f]+$', '', m.group(1))
        frames.append((sym, m.group(2)))
if frames:
    cats[classify(frames)] += 1; total += 1
us = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
for k, v in cats.most_common():
    print('%5.1f %%  %6.1f us/msg  %s' % (100.0 * v / total, us * v / total, k))
print('samples: %d' % total)
