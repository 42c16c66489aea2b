#!/usr/bin/python3
"""A stand-in for mailpolicy-milter, used only to test the harness's milter plumbing.

Called as the real one is (`-c POLICY -f`), it listens where the policy file's
milter block says, accepts everything, and rejects RCPT TO <dave@example.org> with
550 5.7.1, so a test can tell that Postfix really consults it.
"""

import re
import socket
import struct
import sys
import threading


def listen_address(policy):
    with open(policy) as f:
        m = re.search(r"^\s*socket\s*=\s*inet:(\d+)@([\d.]+)", f.read(), re.M)
    return m.group(2), int(m.group(1))


def read_packet(conn):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            return None, None
        head += chunk
    size = struct.unpack("!I", head)[0]
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            return None, None
        body += chunk
    return body[:1], body[1:]


def send(conn, cmd, data=b""):
    conn.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def session(conn):
    with conn:
        while True:
            cmd, data = read_packet(conn)
            if cmd is None or cmd == b"Q":
                return
            if cmd == b"O":
                send(conn, b"O", struct.pack("!III", 6, 0x1ff, 0))
            elif cmd == b"R" and data.lower().startswith(b"<dave@example.org>"):
                send(conn, b"y", b"550 5.7.1 blocked by the fake milter\0")
            elif cmd == b"E":
                send(conn, b"a")
            elif cmd in (b"D", b"A"):
                continue
            else:
                send(conn, b"c")


def main():
    policy = sys.argv[sys.argv.index("-c") + 1]
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(listen_address(policy))
    server.listen(16)
    print("fake milter listening on %s:%d" % server.getsockname(), flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
