"""What the pop3_retention tests share: policies, POP3 clients that behave like
real ones, and readers of the mailbox state. Every helper raises when a command
fails or a server answers something else than it must (HarnessError,
poplib.error_proto, imaplib.IMAP4.error, AssertionError), so a test never goes
on from a state it did not reach.

Time: nothing here waits for days. A sweep decides `--as-of` a chosen time;
times come from `status`, so tests compare against what the server stored.
"""

import poplib
import re
import socket
import time

from mailstack import HarnessError, clients, procs

DAY = 86400

# The policy most tests run with: the sample's shape, spelled out here so the
# tests do not move when packaging/mailpolicy.conf does.
POLICY = """\
pop3_retention {
  keep_after_retrieval = 30d
  on_dele = defer 7d
  on_retrieve = seen
}
pop3_retention domain example.org {
  keep_after_retrieval = 7d
  on_dele = expunge
}
pop3_retention user ceo@example.org {
  keep_after_retrieval = never
}
"""

STATUS_COLUMNS = ["uid", "uidl", "size", "retrieved", "expires", "state"]
SWEEP_COLUMNS = ["mailbox", "uid", "uidl", "messages", "size", "reason"]

KW_RETRIEVED = "$POP3Retrieved"
KW_HIDDEN = "$POP3Hidden"
KW_DEFERRED = "$POP3Deferred"


# ---- mail in ---------------------------------------------------------------

def deliver(stack, who, subjects, size=None):
    """Deliver one message per subject over LMTP; returns the addresses' new count."""
    addr = stack.account(who).address
    before = stack.message_count(who)
    conn = clients.lmtp(stack)
    try:
        for subject in subjects:
            refused = conn.sendmail("sender@example.net", [addr],
                                    clients.message("sender@example.net", addr,
                                                    subject=subject, size=size))
            assert not refused, refused
    finally:
        conn.quit()
    return stack.wait_for_messages(who, before + len(subjects))


# ---- POP3 clients ------------------------------------------------------------

def wait_pop3_sessions_done(stack, timeout=15.0):
    """Wait until no pop3 process runs: the plugin's end-of-session work
    (move, purge) happens after the client's QUIT was answered."""
    sid = procs.session_id(stack.state["pids"]["dovecot"])
    deadline = time.monotonic() + timeout
    while any(comm == "pop3" for _, comm in procs.session_members(sid)):
        if time.monotonic() > deadline:
            raise HarnessError("a pop3 process still runs after %.0f s:\n%s" % (
                timeout, stack.log_tail(15, ["dovecot"])))
        time.sleep(0.05)


def _quit(stack, conn):
    resp = conn.quit()
    assert resp.startswith(b"+OK"), resp
    wait_pop3_sessions_done(stack)


def uidl_map(conn):
    """msg number -> UIDL of a POP3 session."""
    resp, lines, _ = conn.uidl()
    assert resp.startswith(b"+OK"), resp
    return {int(n): u.decode() for n, u in (ln.split() for ln in lines)}


def leave_on_server(stack, who, known=()):
    """Thunderbird's "leave messages on server": UIDL, RETR only the messages
    whose UIDL it has not seen, QUIT, never DELE. Returns the UIDLs retrieved."""
    conn = clients.pop3(stack, who)
    got = []
    for n, uidl in sorted(uidl_map(conn).items()):
        if uidl in known:
            continue
        resp, lines, _ = conn.retr(n)
        assert resp.startswith(b"+OK") and lines, resp
        got.append(uidl)
    _quit(stack, conn)
    return got


def retrieve(stack, who, numbers, dele=(), quit=True):
    """RETR the given message numbers, DELE others (or the same), then QUIT
    (or drop the connection without QUIT). Returns {number: UIDL}."""
    conn = clients.pop3(stack, who)
    uidls = uidl_map(conn)
    for n in numbers:
        resp, lines, _ = conn.retr(n)
        assert resp.startswith(b"+OK") and lines, resp
    for n in dele:
        assert conn.dele(n).startswith(b"+OK")
    if quit:
        _quit(stack, conn)
    else:
        drop(stack, conn)
    return uidls


def top_only(stack, who):
    """A client that only looks at headers: TOP n 0 for every message, QUIT."""
    conn = clients.pop3(stack, who)
    count = conn.stat()[0]
    for n in range(1, count + 1):
        resp, lines, _ = conn.top(n, 0)
        assert resp.startswith(b"+OK") and lines, resp
    _quit(stack, conn)
    return count


def drop(stack, conn):
    """Close the connection without QUIT, as a client whose network went away."""
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    wait_pop3_sessions_done(stack)


def pop3_listing(stack, who):
    """The UIDLs a new POP3 session lists (then QUIT without changes)."""
    conn = clients.pop3(stack, who)
    uidls = sorted(uidl_map(conn).values())
    _quit(stack, conn)
    return uidls


def capa(stack, who=None):
    """CAPA as a dict (name -> arguments), after login when who is given."""
    conn = clients.pop3(stack, who) if who else clients.pop3(stack, login=False)
    try:
        return conn.capa()
    finally:
        conn.quit()
        wait_pop3_sessions_done(stack)


# ---- reading the state -----------------------------------------------------

def imap_flags(stack, who, mailbox="INBOX"):
    """{uid: set of flags} of a mailbox, read with IMAP (EXAMINE: changes nothing)."""
    conn = clients.imap(stack, who)
    try:
        typ, data = conn.select('"%s"' % mailbox, readonly=True)
        assert typ == "OK", (typ, data)
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        assert typ == "OK", (typ, data)
        out = {}
        for item in data:
            if not item:
                continue
            m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item)
            assert m, item
            out[int(m.group(1))] = set(m.group(2).decode().split())
        return out
    finally:
        conn.logout()


def _tab(text, columns, username=False):
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    expected = (["Username"] if username else []) + columns
    assert header == expected, "header %r, expected %r" % (header, expected)
    rows = []
    for ln in lines[1:]:
        if not ln:
            continue
        fields = ln.split("\t")
        assert len(fields) == len(header), "row %r has %d fields, the header %d:\n%s" % (
            ln, len(fields), len(header), text)
        rows.append(dict(zip(header, fields)))
    return rows


def status(stack, who):
    """`doveadm -f tab pop3-retention status -u USER`, parsed: one dict per
    message with ints for uid, size, retrieved, expires."""
    proc = stack.doveadm("-f", "tab", "pop3-retention", "status", "-u",
                         stack.account(who).address)
    rows = _tab(proc.stdout, STATUS_COLUMNS)
    for r in rows:
        for k in ("uid", "size", "retrieved", "expires"):
            r[k] = int(r[k])
    return rows


def status_by_uid(stack, who):
    return {r["uid"]: r for r in status(stack, who)}


def sweep(stack, who=None, as_of=None, dry_run=False):
    """`doveadm -f tab pop3-retention sweep`, for one user (who) or -A.
    Returns (rows, totals): rows of messages {user, mailbox, uid, uidl, size,
    reason}, totals {user: (messages, bytes)}."""
    args = ["-f", "tab", "pop3-retention", "sweep"]
    if dry_run:
        args.append("-n")
    if as_of is not None:
        args += ["--as-of", str(as_of)]
    args += ["-u", stack.account(who).address] if who else ["-A"]
    proc = stack.doveadm(*args)
    parsed = _tab(proc.stdout, SWEEP_COLUMNS, username=who is None)
    rows, totals = [], {}
    for r in parsed:
        user = r.get("Username", stack.account(who).address if who else None)
        if r["reason"] == "total":
            assert r["mailbox"] == "*" and r["uid"] == "" and user not in totals, r
            totals[user] = (int(r["messages"]), int(r["size"]))
        else:
            assert r["messages"] == "1", r
            rows.append({"user": user, "mailbox": r["mailbox"], "uid": int(r["uid"]),
                         "uidl": r["uidl"], "size": int(r["size"]), "reason": r["reason"]})
    for user in {r["user"] for r in rows}:
        mine = [r for r in rows if r["user"] == user]
        assert totals[user] == (len(mine), sum(r["size"] for r in mine)), (totals, mine)
    return rows, totals


def swept_uids(rows, mailbox="INBOX"):
    return sorted(r["uid"] for r in rows if r["mailbox"] == mailbox)


def log_lines(stack, offsets, needle):
    """The Dovecot log lines written since offsets that contain needle."""
    text = stack.log_since(offsets).get("dovecot", "")
    return [ln for ln in text.splitlines() if needle in ln]
