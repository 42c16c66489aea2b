"""Helpers of the folder_quota tests (no tests here).

Real IMAP clients (imaplib, and a raw session for MULTIAPPEND/CATENATE that
imaplib cannot send); every helper raises when the server does not answer
the way the caller needs, with the server's words in the message.
QUOTAROOT/QUOTA/STATUS responses are parsed, never matched as text.
"""

import base64
import re
import socket
import time

from mailstack import clients

# ---- messages ---------------------------------------------------------------

HEADER = "From: sender@example.net\r\nTo: rcpt@example.com\r\nSubject: %s\r\n\r\n"


def message(size, subject="m"):
    """A message of exactly size bytes with CRLF line ends, so that its size
    as Dovecot counts it (the virtual size) is size."""
    head = (HEADER % subject).encode()
    if size < len(head) + 2:
        # too small for a header: the bytes alone (1 byte is a message too)
        if size < 1:
            raise ValueError("IMAP has no message of %d bytes" % size)
        return b"x" * size
    body = bytearray()
    left = size - len(head)
    while left > 0:
        line = min(left, 78)
        if line <= 2:
            body += b"x" * line
            left = 0
        else:
            body += b"x" * (line - 2) + b"\r\n"
            left -= line
    msg = head + bytes(body)
    assert len(msg) == size
    return msg


# ---- modified UTF-7 (RFC 3501 5.1.3), for non-ASCII mailbox names ------------

def mutf7(name):
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def quote(name):
    """A mailbox or quota root name as an IMAP quoted string."""
    return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


# ---- IMAP -------------------------------------------------------------------

def text(data):
    return " ".join(d.decode(errors="replace") if isinstance(d, bytes) else str(d)
                    for d in data if d is not None)


def ok(result, what):
    typ, data = result
    if typ != "OK":
        raise AssertionError("%s: %s %s" % (what, typ, text(data)))
    return data


def imap(stack, who):
    return clients.imap(stack, stack.account(who))


def create(conn, *boxes):
    for box in boxes:
        ok(conn.create(quote(box)), "CREATE %s" % box)


def append(conn, box, msg):
    """APPEND; returns (status, text of the tagged reply)."""
    try:
        typ, data = conn.append(quote(box), None, None, msg)
    except conn.error as e:
        return "NO", str(e)
    return typ, text(data)


def append_ok(conn, box, msg):
    typ, txt = append(conn, box, msg)
    if typ != "OK":
        raise AssertionError("APPEND %s (%d bytes) refused: %s %s" % (box, len(msg), typ, txt))


def assert_overquota(typ, txt, folder, what):
    """A refusal as a client sees it: NO [OVERQUOTA], text naming the folder."""
    assert typ == "NO", "%s: expected NO [OVERQUOTA], got %s %s" % (what, typ, txt)
    assert "[OVERQUOTA]" in txt, "%s: no [OVERQUOTA] code: %s" % (what, txt)
    assert "folder %s " % folder in txt, "%s: the text does not name %s: %s" % (what, folder, txt)


def append_refused(conn, box, msg, folder=None):
    typ, txt = append(conn, box, msg)
    assert_overquota(typ, txt, folder or box, "APPEND %s (%d bytes)" % (box, len(msg)))
    return txt


def uid_command(conn, command, uids, dest):
    """UID COPY/MOVE; returns (status, text)."""
    try:
        typ, data = conn.uid(command, uids, quote(dest))
    except conn.error as e:
        return "NO", str(e)
    return typ, text(data)


def select(conn, box, readonly=False):
    data = ok(conn.select(quote(box), readonly=readonly), "SELECT %s" % box)
    return int(data[0])


def uids(conn, box):
    """The UIDs in box, ascending."""
    select(conn, box, readonly=True)
    data = ok(conn.uid("SEARCH", None, "ALL"), "UID SEARCH %s" % box)
    conn.unselect()
    return [int(u) for u in data[0].split()]


def subjects(conn, box):
    """The Subject of every message in box, in UID order."""
    if select(conn, box, readonly=True) == 0:
        conn.unselect()
        return []
    data = ok(conn.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
              "FETCH %s" % box)
    conn.unselect()
    out = []
    for item in data:
        if isinstance(item, tuple):
            m = re.search(rb"Subject: ([^\r\n]*)", item[1])
            out.append(m.group(1).decode() if m else "")
    return out


def count(conn, box):
    return status(conn, box, "MESSAGES")["MESSAGES"]


# ---- response parsing -------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\()|(\))|([^\s()"]+))')


def parse(line):
    """An IMAP response line (after "* NAME ") as nested lists of strings."""
    if isinstance(line, bytes):
        line = line.decode()
    stack = [[]]
    pos = 0
    line = line.rstrip()
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        if m is None:
            raise AssertionError("cannot parse %r at %d" % (line, pos))
        pos = m.end()
        q, opn, cls, atom = m.groups()
        if q is not None:
            stack[-1].append(re.sub(r"\\(.)", r"\1", q))
        elif opn:
            stack.append([])
        elif cls:
            inner = stack.pop()
            stack[-1].append(inner)
        elif atom is not None:
            stack[-1].append(atom)
    assert len(stack) == 1, "unbalanced parentheses in %r" % line
    return stack[0]


def _resources(items):
    """["STORAGE", "3", "10", ...] -> {"STORAGE": (3, 10), ...}"""
    assert len(items) % 3 == 0, "QUOTA resource list %r" % items
    return {items[i].upper(): (int(items[i + 1]), int(items[i + 2]))
            for i in range(0, len(items), 3)}


def quotaroot(conn, box):
    """GETQUOTAROOT: (the roots named in QUOTAROOT, in order,
    {root: {resource: (usage, limit)}} from the QUOTA responses)."""
    roots_data, quota_data = ok(conn.getquotaroot(quote(box)), "GETQUOTAROOT %s" % box)
    roots = []
    for line in roots_data:
        if line is None:
            continue
        tokens = parse(line)
        assert tokens and tokens[0].upper() == box.upper() or tokens[0] == box, \
            "QUOTAROOT for %r names %r" % (box, tokens)
        roots += tokens[1:]
    quotas = {}
    for line in quota_data:
        if line is None:
            continue
        tokens = parse(line)
        quotas[tokens[0]] = _resources(tokens[1])
    return roots, quotas


def getquota(conn, root):
    """GETQUOTA: {resource: (usage, limit)}; raises when the root is unknown."""
    data = ok(conn.getquota(quote(root)), "GETQUOTA %s" % root)
    for line in data:
        tokens = parse(line)
        if tokens[0] == root:
            return _resources(tokens[1])
    raise AssertionError("GETQUOTA %s: no QUOTA response for it: %r" % (root, data))


def getquota_missing(conn, root):
    typ, data = conn.getquota(quote(root))
    assert typ == "NO", "GETQUOTA %s should say the root does not exist: %s %s" % (
        root, typ, text(data))


def status(conn, box, items):
    """STATUS box (items): {item: int}."""
    data = ok(conn.status(quote(box), "(%s)" % items), "STATUS %s (%s)" % (box, items))
    tokens = parse(data[0])
    values = tokens[1]
    return {values[i].upper(): int(values[i + 1]) for i in range(0, len(values), 2)}


def capabilities(conn):
    data = ok(conn.capability(), "CAPABILITY")
    return set(text(data).upper().split())


# ---- a raw IMAP session: what imaplib cannot send ---------------------------

class RawImap:
    """One logged-in IMAP session over a plain socket, for MULTIAPPEND and
    CATENATE (LITERAL+ literals, so no continuation round trips)."""

    def __init__(self, stack, who):
        account = stack.account(who)
        self.sock = socket.create_connection((clients.HOST, stack.ports["imap"]),
                                             timeout=clients.TIMEOUT)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.readline()
        typ, txt, _ = self.command(b'LOGIN %s %s' % (
            quote(account.address).encode(), quote(account.password).encode()))
        if typ != "OK":
            raise AssertionError("LOGIN %s: %s" % (account.address, txt))

    def readline(self):
        line = self.file.readline()
        if not line:
            raise AssertionError("the server closed the connection")
        return line

    def command(self, data):
        """Send one command (bytes after the tag); return (status, text, untagged)."""
        self.tag += 1
        tag = b"r%d" % self.tag
        self.sock.sendall(tag + b" " + data + b"\r\n")
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + b" "):
                parts = line[len(tag) + 1:].decode(errors="replace").strip().split(" ", 1)
                return parts[0], parts[1] if len(parts) > 1 else "", untagged
            untagged.append(line)

    def close(self):
        try:
            self.command(b"LOGOUT")
        except (AssertionError, OSError):
            pass
        self.sock.close()


def literal(msg):
    return b"{%d+}\r\n" % len(msg) + msg


# ---- waiting ----------------------------------------------------------------

def wait_for(predicate, what, timeout=10.0):
    """Wait until predicate() is true (never assert a time: the deadline only
    ends a wait that would never succeed)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def log_lines(stack, offsets, name="dovecot"):
    return stack.log_since(offsets).get(name, "")


def log_line(stack, offsets, *parts, name="dovecot"):
    """The first line logged since offsets that holds every one of parts
    (one line: parts found on different lines do not count)."""
    text = log_lines(stack, offsets, name)
    for line in text.splitlines():
        if all(p in line for p in parts):
            return line
    raise AssertionError("no %s log line holds all of %r:\n%s" % (name, parts, text[-3000:]))


def is_24(stack):
    return stack.platform.dovecot_dialect == "2.4"


