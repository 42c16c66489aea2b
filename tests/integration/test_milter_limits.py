"""mailpolicy-milter's outbound limits (issue 12) and the rest of issue 10 on
the stack's real Postfix, with real STARTTLS and SASL AUTH through Dovecot.

What a client sees is asserted: the reply to each message, the mail in the
recipient's Maildir, `postqueue -p` for held mail; what an operator sees:
the milter's log, the alert command's output, the counters in Redis. Two
milters sharing one Redis stand for two MTAs: Postfix gives port 587 to one
and port 26 (the same `submission` listener) to the other, through a
main.cf expression on each smtpd's syslog_name, so every message passes
exactly one of them.
"""

import email
import glob
import os
import shutil
import socket
import subprocess
import time

import pytest

from mailstack import clients

pytestmark = pytest.mark.milter

MILTER = """
milter {
  socket = inet:1@127.0.0.1
  unknown_listener = tempfail
  audit_header = X-Mailpolicy
%(milter)s
}
"""


def policy(submission, milter="", extra="", submissions=None):
    """A policy whose submission listener (587 and 26) has the keys in
    submission, and submissions (465) those in submissions (default: the
    same); mx takes inbound mail."""
    return """
listener mx {
  ports = 25
  auth = forbid
}
listener submission {
  ports = 587 26
  auth = require
  tls = require
  sender = login
%(keys)s
}
listener submissions {
  ports = 465
  auth = require
  tls = require
  sender = login
%(keys465)s
}
%(extra)s
""" % {"keys": submission, "extra": extra,
       "keys465": submission if submissions is None else submissions} + \
        MILTER % {"milter": milter}


REDIS = "  rate_store = redis://127.0.0.1:6379/0\n  rate_store_failure = tempfail"


@pytest.fixture(scope="module", autouse=True)
def limits_stack(stack):
    stack.start(["redis", "milter"], policy_text=policy(""))
    yield stack
    stack.stop(["milter", "redis"])


def use(stack, text):
    stack.reset(policy_text=text)


def login_session(stack, listener, who):
    return clients.smtp(stack, listener, account=who)


def addr(stack, who):
    return stack.account(who).address


def send(conn, sender, rcpts, body=None):
    """MAIL, RCPTs, DATA: the first reply that is not a success, or DATA's;
    refused recipients (5xx) are skipped as a client would."""
    code, text = conn.mail(sender)
    if code != 250:
        conn.rset()
        return code, text
    accepted = 0
    for r in rcpts:
        code, text = conn.rcpt(r)
        if code == 250:
            accepted += 1
        elif code < 500:
            conn.rset()
            return code, text
    if accepted == 0:
        conn.rset()
        return code, text
    body = body or b"From: <%s>\r\nSubject: t\r\n\r\nhello\r\n" % sender.encode()
    code, text = conn.data(body)
    if code != 250:
        conn.rset()
    return code, text


def send_as(stack, listener, who, rcpts=("bob@example.org",), body=None):
    conn = login_session(stack, listener, who)
    try:
        return send(conn, addr(stack, who), list(rcpts), body)
    finally:
        conn.quit()


def maildir(stack, address):
    local, domain = address.split("@")
    out = []
    for f in sorted(glob.glob(stack.paths.h("mail", domain, local, "Maildir", "new", "*"))):
        with open(f, "rb") as fp:
            out.append(email.message_from_bytes(fp.read()))
    return out


class RedisMonitor:
    """Redis MONITOR on a connection of its own: every command Redis runs,
    with who sent it ("lua" for the commands a script runs inside Redis)."""

    def __init__(self, stack):
        self.stack = stack
        self.sock = socket.create_connection(("127.0.0.1", stack.ports["redis"]), timeout=10)
        self.sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        self.f = self.sock.makefile("rb")
        assert self.f.readline() == b"+OK\r\n"

    def client_commands(self):
        """The commands clients sent (not scripts) until now, as
        [(client, command name)], read up to a marker this sends."""
        self.stack.redis("ECHO", "monitor-marker")
        out = []
        while True:
            line = self.f.readline().decode(errors="replace").rstrip("\r\n")
            if not line:
                raise AssertionError("MONITOR stream ended")
            # +1701471234.123456 [0 127.0.0.1:54321] "EVALSHA" "..."
            who = line.split("[", 1)[1].split("]", 1)[0].split(" ", 1)[1]
            name = line.split("] ", 1)[1].split(" ", 1)[0].strip('"').upper()
            if name == "ECHO" and "monitor-marker" in line:
                return out
            if who != "lua":
                out.append((who, name))

    def close(self):
        self.f.close()
        self.sock.close()


# ---- windows and recipients (memory store) ----

def test_two_windows_and_recipients(stack):
    use(stack, policy("  rate_login = 3/1m 4/1h\n  rate_login_recipients = 5/1h"))
    # 2 + 2 recipients: 4 of 5
    assert send_as(stack, "submission", "alice", ["bob@example.org", "dave@example.org"])[0] == 250
    assert send_as(stack, "submission", "alice", ["bob@example.org", "carol@example.com"])[0] == 250
    # 2 more do not fit: refused whole, and not counted
    code, text = send_as(stack, "submission", "alice", ["bob@example.org", "dave@example.org"])
    assert code == 450
    assert text.startswith(b"4.7.1 rate limit reached, try again in ")
    assert text.endswith(b"(listener submission: rate_login_recipients = 5/1h)")
    # one does: the fifth recipient, the third message of the minute
    assert send_as(stack, "submission", "alice", ["dave@example.org"])[0] == 250
    code, text = send_as(stack, "submission", "alice", ["carol@example.com"])
    assert code == 450 and b"rate_login = 3/1m" in text
    # more recipients than the limit at once: refused for good
    code, text = send_as(stack, "submission", "carol",
                         ["bob@example.org", "dave@example.org", "ceo@example.org",
                          "alice@example.com", "bob+a@example.org", "bob+b@example.org"])
    assert code == 550 and b"5.7.1 rate limit: the message alone exceeds it" in text
    assert stack.wait_for_messages("bob", 2) == 2
    assert stack.wait_for_messages("dave", 2) == 2
    assert stack.wait_for_messages("carol", 1) == 1
    assert stack.message_count("alice") == 0


def test_only_accepted_recipients_count(stack):
    use(stack, policy("  rate_login_recipients = 3/1h"))
    conn = login_session(stack, "submission", "alice")
    # nobody@ is refused by Postfix (550 5.1.1): it costs nothing
    assert conn.mail(addr(stack, "alice"))[0] == 250
    assert conn.rcpt("bob@example.org")[0] == 250
    assert conn.rcpt("nobody@example.org")[0] == 550
    assert conn.rcpt("dave@example.org")[0] == 250
    assert conn.data(b"Subject: two\r\n\r\nx\r\n")[0] == 250
    assert send(conn, addr(stack, "alice"), ["ceo@example.org"])[0] == 250
    code, text = send(conn, addr(stack, "alice"), ["ceo@example.org"])
    assert code == 450 and b"rate_login_recipients = 3/1h" in text
    conn.quit()
    assert stack.wait_for_messages("ceo", 1) == 1


def test_login_cap_holds_across_587_26_and_465(stack):
    use(stack, policy("  rate_login = 2/1h"))
    assert send_as(stack, "submission", "alice")[0] == 250
    assert send_as(stack, "submissions", "alice")[0] == 250
    code, text = send_as(stack, "submission26", "alice")
    assert code == 450 and b"(listener submission: rate_login = 2/1h)" in text
    code, text = send_as(stack, "submissions", "alice")
    assert code == 450 and b"(listener submissions: rate_login = 2/1h)" in text
    assert send_as(stack, "submissions", "carol")[0] == 250


def test_domain_cap_and_rate_map(stack):
    rates = stack.paths.h("etc", "rates.map")
    with open(rates, "w") as f:
        f.write("# exceptions a panel manages\n"
                "newsletter@example.com  rate_login=50/1h\n"
                "@example.org            rate_domain=2/1h\n")
    text = policy("  rate_login = 1/1h\n  rate_domain = 3/1h\n  rate_map = %s"
                  % stack.paths.i("etc", "rates.map"),
                  submissions="  rate_login = 2/1h\n  rate_domain = 3/1h")
    use(stack, text)
    # example.org's entry: 2 for the whole domain
    assert send_as(stack, "submission", "bob", ["alice@example.com"])[0] == 250
    assert send_as(stack, "submission", "dave", ["alice@example.com"])[0] == 250
    code, reply = send_as(stack, "submission", "ceo", ["alice@example.com"])
    assert code == 450 and b"rate_domain = 2/1h" in reply
    # example.com: the listener's 3 for the domain, 1 per login
    assert send_as(stack, "submission", "alice")[0] == 250
    code, reply = send_as(stack, "submission", "alice")
    assert code == 450 and b"rate_login = 1/1h" in reply
    assert send_as(stack, "submission", "carol")[0] == 250
    stack.wait_for_log(r"rate limit tripped: listener=submission rule=rate_domain "
                       r"key=domain/1h/example.org limit=2/1h count=2 login=ceo@example.org "
                       r"source=rate_map:@example.org", ["milter"])
    # 465 has no rate_map: example.org's count is shared, its cap is 3
    # (and dave's own count too, under 465's 2/1h)
    assert send_as(stack, "submissions", "ceo", ["alice@example.com"])[0] == 250
    code, reply = send_as(stack, "submissions", "dave", ["alice@example.com"])
    assert code == 450 and b"(listener submissions: rate_domain = 3/1h)" in reply


# ---- over_limit = hold ----

def test_hold_is_visible_in_postqueue(stack):
    use(stack, policy("  rate_login = 1/1h\n  over_limit = hold"))
    assert send_as(stack, "submission", "alice", ["bob@example.org"])[0] == 250
    # over the limit: accepted (the client sees success) into the hold queue
    code, text = send_as(stack, "submission", "alice", ["bob@example.org"],
                         body=b"Subject: held\r\n\r\nx\r\n")
    assert code == 250
    queue_id = text.split()[-1].decode()
    assert stack.wait_for_messages("bob", 1) == 1
    queue = stack.queue()
    # postqueue -p marks a held message with "!" after its queue id
    assert queue_id + "!" in queue, queue
    assert "alice@example.com" in queue and "bob@example.org" in queue
    stack.wait_for_log(r"%s: hold: listener=submission login=alice@example.com "
                       r"from=<alice@example.com> rule=rate_login: rate limit reached"
                       % queue_id, ["milter"])
    # Postfix 3.10 logs the quarantine reason; 3.7 drops it and logs a generic
    # text (mailpolicy-milter(8), Over the limit)
    version = stack.cmd(["postconf", "-c", stack.postfix_dir(), "-h", "mail_version"]).stdout.strip()
    major_minor = tuple(int(x) for x in version.split(".")[:2])
    reason = (r"mailpolicy: rate limit reached \(listener submission: rate_login = 1/1h\)"
              if major_minor >= (3, 10) else r"milter triggers HOLD action")
    stack.wait_for_log(r"%s: milter-hold: END-OF-MESSAGE from \S+: %s;" % (queue_id, reason),
                       ["postfix"])
    # held mail counts nowhere: the next one is held too
    assert send_as(stack, "submission", "alice", ["bob@example.org"])[0] == 250
    assert stack.queue().count("!") == 2
    # the operator releases them: delivered, with the verdict in the header
    stack.cmd(["postsuper", "-c", stack.postfix_dir(), "-H", "ALL"])
    stack.cmd(["postqueue", "-c", stack.postfix_dir(), "-f"])
    assert stack.wait_for_messages("bob", 3, timeout=20) == 3
    held = [m for m in maildir(stack, "bob@example.org") if m["Subject"] == "held"][0]
    assert "verdict=hold; rule=rate_login" in held["X-Mailpolicy"]


# ---- header From ----

def test_header_from_must_match_the_login(stack):
    use(stack, policy("  header_from = match_sender"))
    ok = (b"From: \"Alice Smith\" <alice+news@example.com>\r\n"
          b"Subject: mine\r\n\r\nhello\r\n")
    assert send_as(stack, "submission", "alice", body=ok)[0] == 250
    for frm in (b"Bob <bob@example.org>", b"\"alice@example.com\" <bob@example.org>",
                b"alice@example.com, bob@example.org", b"=?utf-8?q?Alice?= <ceo@example.org>"):
        code, text = send_as(stack, "submission", "alice",
                             body=b"From: " + frm + b"\r\nSubject: forged\r\n\r\nx\r\n")
        assert code == 553, (frm, code, text)
        assert text.startswith(b"5.7.1 From header address <")
        assert b"not owned by alice@example.com (listener submission: " \
               b"header_from = match_sender" in text
    # without a From header, Postfix's cleanup adds one from the envelope
    # sender (which passed the sender check) before the milter sees the
    # headers: it passes
    assert send_as(stack, "submissions", "alice",
                   body=b"Subject: no from\r\n\r\nx\r\n")[0] == 250
    stack.wait_for_messages("bob", 2)
    got = {m["Subject"]: m["From"] for m in maildir(stack, "bob@example.org")}
    assert got == {"mine": "\"Alice Smith\" <alice+news@example.com>",
                   "no from": "alice@example.com"}



def test_header_from_missing_from_a_remote_client(stack):
    """mailpolicy-milter(8), Header From: Postfix's cleanup adds a From
    header with the envelope sender to a message without one before the
    milter sees the headers, also for a client outside
    local_header_rewrite_clients (192.0.2.7 here, by XCLIENT; the stack's
    setting is permit_inet_interfaces): such a message passes."""
    use(stack, policy("  header_from = match_sender"))
    conn = clients.smtp(stack, "submission")
    a = stack.account("alice")
    code, text = conn.docmd("XCLIENT", "ADDR=192.0.2.7 LOGIN=%s" % a.address)
    assert code == 220, (code, text)
    conn.ehlo()
    code, text = send(conn, a.address, ["bob@example.org"], b"Subject: no from\r\n\r\nx\r\n")
    conn.quit()
    assert code == 250, (code, text)
    stack.wait_for_messages("bob", 1)
    m = maildir(stack, "bob@example.org")[0]
    assert m["From"] == "alice@example.com"
    assert "[192.0.2.7]" in " ".join(m.get_all("Received")) and "rule=none" in m["X-Mailpolicy"]

# ---- add_audit_header = no ----

def test_no_audit_header_but_forged_ones_removed(stack):
    use(stack, policy("  add_audit_header = no"))
    body = (b"From: alice@example.com\r\nX-Mailpolicy: v=1; verdict=accept; forged=yes\r\n"
            b"Subject: out\r\n\r\nx\r\n")
    assert send_as(stack, "submission", "alice", body=body)[0] == 250
    conn = clients.smtp(stack, "mx")
    assert send(conn, "x@remote.test", ["bob@example.org"],
                b"X-Mailpolicy: forged\r\nSubject: in\r\n\r\nx\r\n")[0] == 250
    conn.quit()
    stack.wait_for_messages("bob", 2)
    got = {m["Subject"]: m.get_all("X-Mailpolicy") for m in maildir(stack, "bob@example.org")}
    assert got["out"] is None
    assert len(got["in"]) == 1 and "listener=mx" in got["in"][0] and "forged" not in got["in"][0]


# ---- rate_client_ipv6_prefix (XCLIENT gives the milter an IPv6 client) ----

def test_ipv6_clients_count_by_network(stack):
    text = policy("").replace(
        "listener mx {\n  ports = 25\n  auth = forbid\n",
        "listener mx {\n  ports = 25\n  auth = forbid\n  rate_client_ip = 2/1h\n"
        "  rate_client_ipv6_prefix = 48\n")
    use(stack, text)
    # Postfix takes an IPv6 XCLIENT address only with IPv6 on (its
    # listeners stay on 127.0.0.1)
    stack.configure(postfix={"inet_protocols": "all"})

    def from_client(address):
        conn = clients.smtp(stack, "mx")
        code, reply = conn.docmd("XCLIENT", "ADDR=IPv6:%s" % address)
        assert code == 220, reply
        conn.ehlo()
        try:
            return send(conn, "x@remote.test", ["bob@example.org"])
        finally:
            conn.quit()

    assert from_client("2001:db8:1:1::1")[0] == 250
    assert from_client("2001:db8:1:ff::2")[0] == 250
    code, reply = from_client("2001:db8:1:2::3")
    assert code == 450 and b"rate_client_ip = 2/1h" in reply
    assert from_client("2001:db8:2::1")[0] == 250
    stack.wait_for_log(r"key=mx/ip/1h/2001:db8:1::/48 limit=2/1h", ["milter"])


# ---- sender = map on real Postfix ----

def test_sender_map(stack):
    with open(stack.paths.h("etc", "senders.map"), "w") as f:
        f.write("alice@example.com alice@example.com sales@example.com @example.net\n")
    text = policy("").replace(
        "listener submission {\n  ports = 587 26\n  auth = require\n  tls = require\n"
        "  sender = login\n",
        "listener submission {\n  ports = 587 26\n  auth = require\n  tls = require\n"
        "  sender = map\n  sender_map = %s\n" % stack.paths.i("etc", "senders.map"))
    use(stack, text)
    conn = login_session(stack, "submission", "alice")
    for sender, want in (("sales@example.com", 250), ("sales+x@example.com", 250),
                         ("anyone@example.net", 250), ("carol@example.com", 553)):
        code, reply = conn.mail(sender)
        assert code == want, (sender, reply)
        conn.rset()
    conn.quit()
    conn = login_session(stack, "submission", "carol")
    code, reply = conn.mail("carol@example.com")
    assert code == 553 and b"sender = map: the login has no sender_map entry" in reply
    conn.quit()


# ---- two milters, one Redis ----

def two_milters(stack, text):
    """Milters a (port 587) and b (port 26) with the same policy on the stack's
    Redis; mail on 465 goes to a as well."""
    a = stack.start_milter("a", policy_text=text)
    b = stack.start_milter("b", policy_text=text)
    stack.configure(postfix={"smtpd_milters": "${{$syslog_name} == {postfix/submission26} ? "
                             "{%s} : {%s}}" % (b["socket"], a["socket"])})
    return a, b


def test_domain_cap_through_two_milters_on_one_redis(stack):
    text = policy("  rate_login = 5/1m 10/1h 100/1d\n  rate_login_recipients = 20/1h 200/1d\n"
                  "  rate_domain = 4/1h 40/1d\n  rate_domain_recipients = 50/1h",
                  milter=REDIS)
    use(stack, text)
    two_milters(stack, text)
    # warm up both milters' Redis connections (connect, SCRIPT LOAD)
    assert send_as(stack, "submission", "alice")[0] == 250
    assert send_as(stack, "submission26", "alice")[0] == 250
    monitor = RedisMonitor(stack)
    # example.org: 4 an hour whichever MTA takes the mail
    assert send_as(stack, "submission", "bob", ["alice@example.com"])[0] == 250
    assert send_as(stack, "submission26", "dave", ["alice@example.com"])[0] == 250
    assert send_as(stack, "submission", "dave", ["alice@example.com"])[0] == 250
    assert send_as(stack, "submission26", "bob", ["alice@example.com"])[0] == 250
    code, reply = send_as(stack, "submission26", "ceo", ["alice@example.com"])
    assert code == 450 and b"(listener submission: rate_domain = 4/1h)" in reply
    code, reply = send_as(stack, "submission", "ceo", ["alice@example.com"])
    assert code == 450 and b"rate_domain = 4/1h" in reply
    # one round trip per message, whatever the keys and windows (here 9
    # counters a message): 6 messages, 6 EVALSHA from the two milters, no
    # other command (the script's own HMGET/HMSET/PEXPIRE run inside Redis)
    sent = monitor.client_commands()
    monitor.close()
    assert [name for _, name in sent] == ["EVALSHA"] * 6, sent
    assert len({who for who, _ in sent}) == 2, sent
    keys = stack.redis("KEYS", "mprate:domain*")
    assert "mprate:domain/1h/example.org" in keys and "mprate:domain/1d/example.org" in keys
    stack.wait_for_log(r"tempfail: listener=submission login=ceo@example.org .*"
                       r"rule=rate_domain", ["milter-b"])
    stack.wait_for_log(r"tempfail: listener=submission login=ceo@example.org .*"
                       r"rule=rate_domain", ["milter-a"])
    assert stack.wait_for_messages("alice", 4) == 4


def test_alert_runs_once_for_two_milters(stack):
    out = stack.paths.h("run", "alerts.txt")
    script = stack.paths.h("etc", "alert.sh")
    with open(out, "w"):
        pass
    os.chown(out, *stack.milter_ids())  # the command runs as the milter's user
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho \"$*\" >> %s\n" % stack.paths.i("run", "alerts.txt"))
    os.chmod(script, 0o755)
    text = policy("  rate_domain = 2/1h", milter=REDIS + "\n  alert_command = %s panel"
                  % stack.paths.i("etc", "alert.sh"))
    use(stack, text)
    two_milters(stack, text)
    assert send_as(stack, "submission", "bob", ["alice@example.com"])[0] == 250
    assert send_as(stack, "submission26", "dave", ["alice@example.com"])[0] == 250
    # milter b trips the domain and runs the command ...
    assert send_as(stack, "submission26", "ceo", ["alice@example.com"])[0] == 450
    stack.wait_for_log(r"alert_command \S+ \(pid \d+\) done", ["milter-b"])
    # ... milter a trips it too, and finds the alert sent
    assert send_as(stack, "submission", "ceo", ["alice@example.com"])[0] == 450
    stack.wait_for_log(r"alert_command not run for domain/1h/example.org: it ran for this "
                       r"key in this window already", ["milter-a"])
    with open(out) as f:
        lines = f.read().splitlines()
    assert lines == ["panel submission rate_domain example.org 2/1h 2 ceo@example.org"]


# ---- Redis: AUTH from redis_password_file, unix:// ----

class UnixRedis:
    """A redis-server of this test, on a Unix socket only, with a password."""

    def __init__(self, stack, password):
        self.path = stack.paths.h("run", "redis-auth.sock")
        self.inner = stack.paths.i("run", "redis-auth.sock")
        self.dir = stack.paths.h("run", "redis-auth")
        self.password = password
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.path, "--unixsocketperm", "700",
             "--requirepass", password, "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("redis-server on %s did not start" % self.path)
            time.sleep(0.02)
        os.chown(self.path, *stack.milter_ids())  # the milter's user may connect

    def command(self, *args):
        """AUTH, then args: the second reply's first line."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.path)
            data = b""
            for cmd in (("AUTH", self.password), args):
                data += b"*%d\r\n" % len(cmd) + b"".join(
                    b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd)
            s.sendall(data)
            f = s.makefile("rb")
            assert f.readline() == b"+OK\r\n"
            return f.readline().rstrip(b"\r\n").decode()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def test_unix_socket_store_with_password_file(stack):
    redis = UnixRedis(stack, "s3cret unix")
    try:
        pw = stack.paths.h("etc", "redis.pass")
        with open(pw, "w") as f:
            f.write("s3cret unix\n")
        os.chown(pw, *stack.milter_ids())  # the milter's user (the packaged unit's)
        os.chmod(pw, 0o600)
        milter = ("  rate_store = unix://%s\n  redis_password_file = %s\n"
                  "  rate_store_failure = tempfail" % (redis.inner, stack.paths.i("etc", "redis.pass")))
        text = policy("  rate_login = 2/1h", milter=milter)
        use(stack, text)
        assert send_as(stack, "submission", "alice")[0] == 250
        assert send_as(stack, "submission", "alice")[0] == 250
        assert send_as(stack, "submission", "alice")[0] == 450
        assert redis.command("EXISTS", "mprate:login/1h/alice@example.com") == ":1"
        # a wrong password: the store cannot answer, rate_store_failure says
        with open(pw, "w") as f:
            f.write("wrong\n")
        stack.reload_milter(policy_text=text)
        code, reply = send_as(stack, "submission", "carol")
        assert code == 451 and b"rate_store_failure = tempfail" in reply
        stack.wait_for_log(r"rate store failed \([^)]*(AUTH|auth|password)", ["milter"])
        # a password file others can read is refused: the old policy stays
        with open(pw, "w") as f:
            f.write("s3cret unix\n")
        os.chmod(pw, 0o644)
        line = stack.reload_milter(policy_text=text, expect_failure=True)
        assert "redis.pass: the redis_password_file is open to other users (mode 0644)" in line
        # and the milter will not start with it
        proc = subprocess.run(stack.platform.cmd([stack.paths.i("bin", "mailpolicy-milter"), "-n",
                                                  "-c", stack.paths.i("etc", "mailpolicy.conf")]),
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 1
        assert "is open to other users (mode 0644); it holds a secret: chmod o-rwx" in proc.stderr
        os.chmod(pw, 0o600)
        stack.reload_milter(policy_text=text)
        assert send_as(stack, "submission", "carol")[0] == 250
    finally:
        redis.stop()


def raw_redis(port, *commands):
    """Several commands on one connection (AUTH first): their first reply lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        data = b""
        for cmd in commands:
            data += b"*%d\r\n" % len(cmd) + b"".join(
                b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd)
        s.sendall(data)
        f = s.makefile("rb")
        return [f.readline().rstrip(b"\r\n").decode() for _ in commands]


def test_redis_url_password(stack):
    port = stack.ports["redis"]
    text = policy("  rate_login = 1/1h", milter="  rate_store = redis://:p%40ss@127.0.0.1:6379/0\n"
                  "  rate_store_failure = tempfail")
    use(stack, text)
    stack.redis("CONFIG", "SET", "requirepass", "p@ss")
    try:
        # a new connection must AUTH (the milter's first one is made now)
        assert send_as(stack, "submission", "alice")[0] == 250
        assert send_as(stack, "submission", "alice")[0] == 450
        assert raw_redis(port, ("AUTH", "p@ss"), ("EXISTS", "mprate:login/1h/alice@example.com")) \
            == ["+OK", ":1"]
    finally:
        assert raw_redis(port, ("AUTH", "p@ss"), ("CONFIG", "SET", "requirepass", "")) \
            == ["+OK", "+OK"]
