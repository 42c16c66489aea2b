"""mailpolicy-milter against what no MTA sends: macro values of 64 KiB, NUL
bytes inside and between macros, ports that are not numbers, CR/LF meant to
smuggle reply lines, truncated and unknown commands, and sessions dropped at
every stage. Spoken on the wire (milterwire.py), because miltertest cannot
send these.

Run by tests/milter/run (make miltertest; make miltertest-milter on the
ASan+UBSan build) against a milter with tests/milter/policy.conf:
MILTER_SOCKET is its socket (libmilter syntax), MILTER_PID its process,
MILTER_LOG its log. After every test the milter must still run and serve a
plain session, and have logged only whole lines of its own; the runner also
fails on any sanitizer report in its log.
"""

import os
import struct

import pytest

import milterwire as w

SOCKET = os.environ.get("MILTER_SOCKET")
PID = os.environ.get("MILTER_PID")
if not SOCKET or not PID:
    raise RuntimeError("run through tests/milter/run (make miltertest): "
                       "MILTER_SOCKET and MILTER_PID are unset")
PID = int(PID)

# what a real submission session of policy.conf looks like at MAIL
SUBMISSION = ["{daemon_name}", "submission", "{client_addr}", "192.0.2.1",
              "{tls_version}", "TLSv1.3", "{auth_type}", "PLAIN",
              "{auth_authen}", "alice@example.com", "i", "4XyZ12"]


def alive():
    try:
        with open("/proc/%d/stat" % PID) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def session(*pairs):
    """A negotiated connection with MAIL-stage macros set."""
    m = w.Milter(SOCKET).negotiate()
    if pairs:
        m.macros(w.MAIL, *pairs)
    return m


def mail_reply(*pairs, sender="x@remote.test"):
    with session(*pairs) as m:
        return m.mail(sender)


def assert_sane(reply, code):
    """A refusal the MTA can pass on: the SMTP code asked for, one short line
    of printable text."""
    assert reply.code == w.REPLYCODE, reply
    text = reply.data.rstrip(b"\0")
    assert text.startswith(code.encode() + b" "), reply
    assert len(text) < 600, len(text)
    assert all(32 <= c < 127 for c in text), text


LOG = os.environ.get("MILTER_LOG")


def log_size():
    return os.path.getsize(LOG) if LOG and os.path.exists(LOG) else 0


@pytest.fixture(autouse=True)
def still_serving():
    """After each test: the milter runs and answers a plain MX session, and
    every line it logged meanwhile is one line of its own (no value broke a
    log line in two)."""
    start = log_size()
    yield
    assert alive(), "the milter died"
    r = mail_reply("{daemon_name}", "mx", "{client_addr}", "192.0.2.1")
    assert r.code == w.CONTINUE, r
    if LOG:
        with open(LOG, "rb") as f:
            f.seek(start)
            new = f.read().decode(errors="replace")
        foreign = [ln for ln in new.splitlines() if not ln.startswith("mailpolicy-milter[")]
        assert not foreign, foreign[:5]


# ---- negotiation ------------------------------------------------------------

def test_negotiation_takes_only_the_stages_the_policy_needs():
    with w.Milter(SOCKET) as m:
        m.negotiate()
        for skipped in ("NOCONNECT", "NOHELO", "NOEOH", "NOUNKNOWN"):
            assert m.protocol & w.P[skipped], skipped
        # max_recipients: RCPT answered; audit header: headers seen, unanswered
        assert m.wants("RCPT") and m.replies_to("RCPT")
        assert m.wants("HDRS") and not m.replies_to("HDR")
        # no max_message_size in policy.conf: no body
        assert not m.wants("BODY")
        # on TCP, DATA is answered (see milter-glue.c); on a Unix socket not taken
        assert m.wants("DATA") == SOCKET.startswith("inet")
        assert m.actions == w.F_ADDHDRS | w.F_CHGHDRS
        # every fact a decision uses is asked for at MAIL
        for name in ("{daemon_name}", "{daemon_port}", "{client_addr}", "{auth_authen}",
                     "{auth_type}", "{tls_version}", "i"):
            assert name in m.macro_lists["mail"], (name, m.macro_lists)
        # the stages it skips get one cheap macro (none would mean Postfix's defaults)
        for stage in ("connect", "helo", "data", "eoh"):
            assert m.macro_lists[stage] == ["j"], (stage, m.macro_lists)
        # the queue id, for the log line of a refused recipient
        assert m.macro_lists["rcpt"] == ["i"] and m.macro_lists["eom"] == ["i"]


def test_old_protocol_version_is_refused_cleanly():
    with w.Milter(SOCKET) as m:
        m.send(w.OPTNEG, struct.pack(">III", 1, w.ALL_ACTIONS, w.ALL_PROTOCOL))
        assert m.closed_by_peer()


# ---- sessions that end anywhere ---------------------------------------------

def _drop_after(steps):
    m = w.Milter(SOCKET)
    for step in steps:
        step(m)
    m.close()


@pytest.mark.parametrize("steps", [
    [],                                                         # connect, nothing
    [lambda m: m.negotiate()],                                  # close without connect
    [lambda m: m.negotiate(), lambda m: m.macros(w.MAIL, *SUBMISSION)],
    [lambda m: m.negotiate(), lambda m: m.mail("x@remote.test")],
    [lambda m: m.negotiate(), lambda m: m.macros(w.MAIL, "{daemon_name}", "mx"),
     lambda m: m.mail("x@remote.test"), lambda m: m.rcpt("alice@example.com")],
    [lambda m: m.negotiate(), lambda m: m.macros(w.MAIL, "{daemon_name}", "mx"),
     lambda m: m.mail("x@remote.test"), lambda m: m.rcpt("alice@example.com"),
     lambda m: m.wants("DATA") and m.command(w.DATA),
     lambda m: m.send(w.HEADER, w.cstr("Subject", "cut off"))],
], ids=["connect", "negotiate", "macros", "mail", "rcpt", "header"])
def test_dropped_sessions(steps):
    _drop_after(steps)


def test_truncated_command_then_hang_up():
    # the length says 100 bytes, 6 come, then the MTA is gone
    with session() as m:
        m.send_raw(struct.pack(">I", 100) + b"M<x@y>")


@pytest.mark.parametrize("raw", [
    struct.pack(">I", 0),                        # no command byte at all
    struct.pack(">I", 0x7FFFFFFF) + b"D",        # 2 GiB announced
    struct.pack(">I", 1) + b"Z",                 # a command that does not exist
    struct.pack(">I", 1) + b"D",                 # macros without a stage
    struct.pack(">I", 2) + b"DZ",                # macros for a stage that does not exist
], ids=["empty", "huge-length", "unknown-command", "macro-no-stage", "macro-bad-stage"])
def test_garbage_after_negotiation(raw):
    with session() as m:
        m.send_raw(raw)
        # then MAIL with no listener: whatever libmilter made of the garbage
        # (dropped the session, ignored it, or still waits for bytes), the
        # milter may hang up or stay silent, but never let mail through
        m.sock.settimeout(3)
        try:
            m.send(w.MAIL, w.cstr("<x@remote.test>"))
            r = m.reply()
        except (w.Closed, OSError):
            return
        assert r.code in (w.TEMPFAIL, w.REJECT, w.REPLYCODE), r
        if r.code == w.REPLYCODE:
            assert_sane(r, "451")


def test_abort_mid_transaction_then_next_message():
    with session("{daemon_name}", "mx", "{client_addr}", "192.0.2.1") as m:
        assert m.mail("x@remote.test").code == w.CONTINUE
        assert m.rcpt("alice@example.com").code == w.CONTINUE
        assert m.rcpt("bob@example.org").code == w.CONTINUE
        m.send(w.ABORT)     # RSET: no reply
        # the next message starts with no recipients counted
        assert m.mail("y@remote.test").code == w.CONTINUE
        for rcpt in ("alice@example.com", "bob@example.org"):
            assert m.rcpt(rcpt).code == w.CONTINUE
        assert_sane(m.rcpt("carol@example.com"), "452")
        r = m.message([("Subject", "after abort")], b"hello\r\n")
        assert r.code == w.CONTINUE, r
        inserted = [a for a in r.actions if a[0] == w.INSHEADER]
        assert len(inserted) == 1 and b"listener=mx;" in inserted[0][1], r.actions


# ---- macro values no MTA sends -----------------------------------------------

BIG = w.MAX_DATA - 1000         # a macro value that still fits one command with the others


def test_64k_macro_value_ends_that_session_only():
    with session() as m:
        # 64 KiB is past libmilter's command size: it drops the session
        m.macros(w.MAIL, "{daemon_name}", "a" * 65536)
        with pytest.raises((w.Closed, ConnectionResetError, BrokenPipeError)):
            m.mail("x@remote.test")


def test_long_daemon_name_matches_no_listener():
    r = mail_reply("{daemon_name}", "a" * BIG, "{client_addr}", "192.0.2.1")
    assert_sane(r, "451")
    assert r.text.startswith("451 4.3.0 no mail policy for this port"), r.text


def test_long_login_owns_no_sender():
    # a login cut to a prefix could own a shorter address: a cut value is "?"
    login = "alice@example.com" + "a" * BIG
    pairs = SUBMISSION[:-4] + ["{auth_authen}", login, "i", "4XyZ12"]
    r = mail_reply(*pairs, sender="alice@example.com")
    assert_sane(r, "553")
    assert "a" * 100 not in r.text


def test_long_tls_version_is_below_any_minimum():
    pairs = list(SUBMISSION)
    pairs[pairs.index("{tls_version}") + 1] = "TLSv1.3" + "3" * BIG
    r = mail_reply(*pairs, sender="alice@example.com")
    assert_sane(r, "530")


@pytest.mark.parametrize("port", ["", "abc", "25x", "+25", " 25", "25 ", "-25", "0",
                                  "65536", "99999", "0x19", "2.5e1", "25" * 2000])
def test_port_that_is_not_a_port_is_unknown(port):
    r = mail_reply("{daemon_port}", port, "{client_addr}", "192.0.2.1")
    assert_sane(r, "451")


def test_numeric_port_finds_its_listener():
    r = mail_reply("{daemon_port}", "25", "{client_addr}", "192.0.2.1")
    assert r.code == w.CONTINUE, r


@pytest.mark.parametrize("addr", ["not-an-address", "999.1.1.1", "192.0.2.1/24",
                                  "192.0.2.1\t", "a" * BIG, ""])
def test_client_address_that_is_not_one_is_not_allowed(addr):
    pairs = list(SUBMISSION)
    pairs[pairs.index("{client_addr}") + 1] = addr
    r = mail_reply(*pairs, sender="alice@example.com")
    assert_sane(r, "550")
    assert "allowed_clients" in r.text


def test_nul_inside_a_value_shifts_the_pairs():
    # "{daemon_name}" = "m", then a macro named "x": no listener is "m"
    with session() as m:
        m.macros(w.MAIL, raw=b"{daemon_name}\0m\0x\0{daemon_port}\0")
        assert_sane(m.mail("x@remote.test"), "451")
    # bytes after the last NUL are no macro at all
    with session() as m:
        m.macros(w.MAIL, raw=b"{daemon_name}\0mx\0{auth_authen}\0\0tail-without-nul")
        assert m.mail("x@remote.test").code == w.CONTINUE
    # (not sent: a list with an odd number of strings, a name without its
    # value. libmilter 8.17's smfi_getsymval() then reads past the end of
    # its table and may crash the milter; Postfix never sends one, and the
    # man page says to keep the socket to Postfix alone (SECURITY))


def test_nul_inside_the_sender():
    # MAIL FROM:<alice\0@example.com>: the sender is cut at the NUL
    pairs = SUBMISSION
    with session(*pairs) as m:
        r = m.command(w.MAIL, b"<alice\0@example.com>\0")
        assert_sane(r, "553")


def test_crlf_in_a_macro_cannot_add_reply_lines():
    # refused, in one printable line: the CR/LF became '?'
    pairs = list(SUBMISSION)
    pairs[pairs.index("{tls_version}") + 1] = "TLSv1\r\n250 2.0.0 Ok: queued"
    r = mail_reply(*pairs, sender="alice@example.com")
    assert_sane(r, "530")
    assert "TLSv1??250 2.0.0 Ok" in r.text
    # and the same through the sender
    r = mail_reply(*SUBMISSION, sender="carol@example.com>\r\n250 Ok")
    assert_sane(r, "553")


# ---- local submission ----------------------------------------------------------

def test_local_submission_refuses_too_many_recipients_at_the_end():
    # Postfix's cleanup, for mail from sendmail(1), says port 0 and cannot
    # take a refused recipient: the whole message is refused at its end
    with session("{daemon_name}", "mx", "{daemon_port}", "0",
                 "{client_addr}", "127.0.0.1") as m:
        assert m.mail("root@mail.example.net").code == w.CONTINUE
        for rcpt in ("alice@example.com", "bob@example.org", "carol@example.com"):
            assert m.rcpt(rcpt).code == w.CONTINUE
        r = m.message([("Subject", "local")], b"hi\r\n")
        assert_sane(r, "550")
        assert r.text == ("550 5.5.3 Too many recipients: 3, at most 2 per message "
                          "(listener mx: max_recipients)"), r.text
        assert not [a for a in r.actions if a[0] == w.INSHEADER]
        # the next message counts afresh
        assert m.mail("root@mail.example.net").code == w.CONTINUE
        assert m.rcpt("alice@example.com").code == w.CONTINUE
        assert m.message([("Subject", "local")], b"hi\r\n").code == w.CONTINUE


# ---- headers at end of message -------------------------------------------------

def test_forged_audit_headers_go_and_ours_comes_once():
    with session("{daemon_name}", "mx", "{client_addr}", "192.0.2.1") as m:
        assert m.mail("x@remote.test").code == w.CONTINUE
        assert m.rcpt("alice@example.com").code == w.CONTINUE
        headers = [("X-Mailpolicy", "v=1; verdict=accept; forged=1"),
                   ("Subject", "forged"),
                   ("x-MAILPOLICY", "second forgery"),
                   ("X-Mailpolicy-Other", "not ours: stays"),
                   ("X-Long", "b" * BIG)]
        r = m.message(headers, b"body\r\n")
        assert r.code == w.CONTINUE, r
        changes = [(struct.unpack(">I", d[:4])[0], d[4:].split(b"\0")[:2])
                   for c, d in r.actions if c == w.CHGHEADER]
        # both forgeries removed (empty value), the last first
        assert changes == [(2, [b"X-Mailpolicy", b""]), (1, [b"X-Mailpolicy", b""])], r.actions
        inserted = [d for c, d in r.actions if c == w.INSHEADER]
        assert len(inserted) == 1, r.actions
        index, name, value = struct.unpack(">I", inserted[0][:4])[0], *inserted[0][4:].split(b"\0")[:2]
        assert (index, name) == (0, b"X-Mailpolicy")
        assert b"listener=mx;" in value and b"verdict=accept;" in value and b"forged" not in value
