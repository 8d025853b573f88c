#!/usr/bin/env python3
# mptcp-cat.py connect|listen ADDR PORT [--tcp] [--accept-timeout S]: the Linux kernel's MPTCP as
# a peer (socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)): copies stdin to the connection and
# the connection to stdout, half-closes at stdin EOF (the kernel sends DATA_FIN), exits 0 when
# both directions are done, 1 on a connection error. --tcp uses plain TCP (fallback tests).
# --abort-after N: once N bytes arrived, close with SO_LINGER 0 (the kernel sends MP_FASTCLOSE)
# and exit 3. Prints "listening" on stderr once the listener is up.
import os, socket, struct, sys, threading

IPPROTO_MPTCP = 262

def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    proto = socket.IPPROTO_TCP if '--tcp' in sys.argv else IPPROTO_MPTCP
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    if mode == 'listen':
        srv = socket.socket(fam, socket.SOCK_STREAM, proto)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, port))
        srv.listen(1)
        sys.stderr.write('listening\n'); sys.stderr.flush()
        sock, _ = srv.accept()
        # The listener stays open: MP_JOIN SYNs for this connection arrive through it.
    else:
        sock = None
        for attempt in range(100):
            s = socket.socket(fam, socket.SOCK_STREAM, proto)
            try:
                s.connect((addr, port))
                sock = s
                break
            except ConnectionRefusedError:
                s.close()
                threading.Event().wait(0.1)
        if sock is None:
            sys.stderr.write('connect: refused\n'); return 1
    err = []
    def upload():
        try:
            while True:
                d = os.read(0, 1 << 16)
                if not d:
                    break
                sock.sendall(d)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=upload)
    t.start()
    out = sys.stdout.buffer
    abort_after = int(sys.argv[sys.argv.index('--abort-after') + 1]) if '--abort-after' in sys.argv else -1
    got = 0
    try:
        while True:
            d = sock.recv(1 << 16)
            if not d:
                break
            out.write(d)
            got += len(d)
            if 0 <= abort_after <= got:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                sock.close()
                out.flush()
                os._exit(3)
        out.flush()
    except OSError as e:
        err.append(e)
    t.join()
    sock.close()
    if err:
        sys.stderr.write('error: %s\n' % err[0]); return 1
    return 0

sys.exit(main())
