"""milterwire: the MTA side of the milter protocol (version 6), small enough to
send what neither Postfix nor miltertest will: macro values of any size and
any bytes, odd macro lists, truncated and unknown commands.

Packets are a 4-byte big-endian length (of what follows), a command byte and
its data; strings are NUL-terminated. Constants are libmilter's (mfdef.h).
Every helper raises WireError when the milter answers something else than the
protocol allows, or closes the connection where it must answer.
"""

import socket
import struct

# commands (MTA -> milter)
OPTNEG, MACRO, CONNECT, HELO, MAIL, RCPT, DATA = b"O", b"D", b"C", b"H", b"M", b"R", b"T"
HEADER, EOH, BODY, EOB, ABORT, QUIT, UNKNOWN = b"L", b"N", b"B", b"E", b"A", b"Q", b"U"

# replies and actions (milter -> MTA)
CONTINUE, ACCEPT, REJECT, TEMPFAIL, REPLYCODE = b"c", b"a", b"r", b"t", b"y"
DISCARD, ADDHEADER, INSHEADER, CHGHEADER, PROGRESS = b"d", b"h", b"i", b"m", b"p"
SKIP, CONN_FAIL, SHUTDOWN = b"s", b"f", b"4"
FINAL = {CONTINUE, ACCEPT, REJECT, TEMPFAIL, REPLYCODE, DISCARD, SKIP, CONN_FAIL, SHUTDOWN}
ACTIONS = {ADDHEADER, INSHEADER, CHGHEADER, PROGRESS, b"+", b"-", b"2", b"b", b"e", b"q"}

# protocol flags (SMFIP_*) and actions (SMFIF_*)
P = {"NOCONNECT": 0x1, "NOHELO": 0x2, "NOMAIL": 0x4, "NORCPT": 0x8, "NOBODY": 0x10,
     "NOHDRS": 0x20, "NOEOH": 0x40, "NR_HDR": 0x80, "NOUNKNOWN": 0x100, "NODATA": 0x200,
     "SKIP": 0x400, "RCPT_REJ": 0x800, "NR_CONN": 0x1000, "NR_HELO": 0x2000,
     "NR_MAIL": 0x4000, "NR_RCPT": 0x8000, "NR_DATA": 0x10000, "NR_UNKN": 0x20000,
     "NR_EOH": 0x40000, "NR_BODY": 0x80000, "HDR_LEADSPC": 0x100000}
ALL_PROTOCOL = sum(P.values())
ALL_ACTIONS = 0x1FF
F_ADDHDRS, F_CHGHDRS = 0x1, 0x10

# macro stages of the negotiation reply (SMFIM_*)
STAGES = {0: "connect", 1: "helo", 2: "mail", 3: "rcpt", 4: "data", 5: "eom", 6: "eoh"}

MAX_DATA = 65535        # libmilter's default command size limit (MILTER_MAX_DATA_SIZE)


class WireError(AssertionError):
    """The milter broke the protocol (or closed where it had to answer)."""


class Closed(WireError):
    """The milter closed the connection."""


def parse_socket(spec):
    """libmilter's socket syntax (inet:PORT@HOST, unix:/PATH) -> (family, address)."""
    kind, _, rest = spec.partition(":")
    if kind in ("unix", "local"):
        return socket.AF_UNIX, rest
    if kind == "inet":
        port, _, host = rest.partition("@")
        return socket.AF_INET, (host or "127.0.0.1", int(port))
    raise ValueError("unsupported milter socket %r" % spec)


def cstr(*items):
    """NUL-terminated strings (bytes or str) in a row."""
    return b"".join((i if isinstance(i, bytes) else i.encode()) + b"\0" for i in items)


class Reply:
    """What the milter answered to one command: the actions it asked for on the
    way (header changes, progress) and the final reply."""

    def __init__(self, actions, code, data):
        self.actions, self.code, self.data = actions, code, data

    @property
    def text(self):
        """The SMTP reply of a REPLYCODE ('451 4.3.0 ...'), else ''."""
        if self.code != REPLYCODE:
            return ""
        return self.data.rstrip(b"\0").decode("latin-1")

    def __repr__(self):
        return "Reply(%r, %r, %r)" % (self.actions, self.code, self.data[:200])


class Milter:
    """One MTA-side connection to a milter."""

    def __init__(self, spec, timeout=10.0):
        family, address = parse_socket(spec)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.protocol = 0
        self.actions = 0
        self.macro_lists = {}

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- packets -------------------------------------------------------

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, cmd, data=b""):
        self.send_raw(struct.pack(">I", len(data) + 1) + cmd + data)

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise Closed("the milter closed the connection")
            out += chunk
        return out

    def read_packet(self):
        (length,) = struct.unpack(">I", self._read(4))
        if length < 1 or length > MAX_DATA + 1:
            raise WireError("packet length %d out of range" % length)
        body = self._read(length)
        return body[:1], body[1:]

    def closed_by_peer(self):
        """True when the milter has closed the connection (EOF), without
        having sent anything more."""
        try:
            data = self.sock.recv(1)
        except ConnectionResetError:
            return True
        if data:
            raise WireError("unexpected data from the milter: %r" % data)
        return True

    def reply(self):
        """Reads actions up to the final reply of a command."""
        actions = []
        while True:
            code, data = self.read_packet()
            if code in FINAL:
                return Reply(actions, code, data)
            if code not in ACTIONS:
                raise WireError("unknown reply %r %r" % (code, data[:100]))
            actions.append((code, data))

    # ---- the conversation ----------------------------------------------

    def negotiate(self, version=6, actions=ALL_ACTIONS, protocol=ALL_PROTOCOL):
        self.send(OPTNEG, struct.pack(">III", version, actions, protocol))
        code, data = self.read_packet()
        if code != OPTNEG or len(data) < 12:
            raise WireError("negotiation answered %r %r" % (code, data))
        _, self.actions, self.protocol = struct.unpack(">III", data[:12])
        rest = data[12:]
        while rest:
            (stage,) = struct.unpack(">I", rest[:4])
            names, _, rest = rest[4:].partition(b"\0")
            self.macro_lists[STAGES.get(stage, stage)] = names.decode().split()
        return self

    def wants(self, flag):
        """Whether the milter asked for a stage (not negotiated away)."""
        return not self.protocol & P["NO" + flag]

    def replies_to(self, stage):
        return not self.protocol & P["NR_" + stage]

    def macros(self, stage, *pairs, raw=None):
        """SMFIC_MACRO for stage (a command byte): name, value, name, value...
        or raw bytes after the stage byte."""
        self.send(MACRO, stage + (raw if raw is not None else cstr(*pairs)))

    def command(self, cmd, data=b""):
        """A command that the milter answers (when it takes the stage)."""
        self.send(cmd, data)
        return self.reply()

    def mail(self, sender, *esmtp):
        return self.command(MAIL, cstr("<%s>" % sender, *esmtp))

    def rcpt(self, rcpt):
        return self.command(RCPT, cstr("<%s>" % rcpt))

    def message(self, headers, body):
        """DATA (if taken), headers, end of headers (if taken), body, end of
        message. Returns the reply to end of message."""
        if self.wants("DATA"):
            r = self.command(DATA)
            if r.code != CONTINUE:
                return r
        for name, value in headers if self.wants("HDRS") else ():
            self.send(HEADER, cstr(name, value))
            if self.replies_to("HDR"):
                r = self.reply()
                if r.code != CONTINUE:
                    return r
        if self.wants("EOH"):
            r = self.command(EOH)
            if r.code != CONTINUE:
                return r
        if self.wants("BODY"):
            for i in range(0, len(body), MAX_DATA):
                self.send(BODY, body[i:i + MAX_DATA])
                if self.replies_to("BODY"):
                    r = self.reply()
                    if r.code != CONTINUE:
                        return r
        return self.command(EOB)

    def quit(self):
        self.send(QUIT)
        self.close()
