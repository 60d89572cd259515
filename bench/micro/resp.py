import socket
class R:
    def __init__(s, port):
        s.s = socket.create_connection(("127.0.0.1", port)); s.buf = b""
    def enc(s, args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes): a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)
    def line(s):
        while b"\r\n" not in s.buf:
            c = s.s.recv(65536)
            if not c: raise EOFError()
            s.buf += c
        l, s.buf = s.buf.split(b"\r\n", 1); return l
    def read(s):
        l = s.line(); t = l[:1]
        if t == b"+": return l[1:].decode()
        if t == b"-": return Exception(l[1:].decode())
        if t == b":": return int(l[1:])
        if t == b"$":
            n = int(l[1:])
            if n < 0: return None
            while len(s.buf) < n + 2: s.buf += s.s.recv(65536)
            v, s.buf = s.buf[:n], s.buf[n+2:]; return v
        if t == b"*":
            n = int(l[1:]);
            return None if n < 0 else [s.read() for _ in range(n)]
        raise ValueError(l)
    def call(s, *args):
        s.s.sendall(s.enc(args)); return s.read()
    def pipe(s, cmds):
        s.s.sendall(b"".join(s.enc(c) for c in cmds)); return [s.read() for _ in cmds]
