"""mailpolicy-milter on the real Postfix (and Dovecot SASL) of the stack.

Each test installs a policy (the milter restarts with it), drives a listener
with smtplib or swaks (real STARTTLS and AUTH, or XCLIENT where only the
macros matter) and asserts what the client sees: the reply code, enhanced
code and text, and the message in the recipient's Maildir with its audit
header. Listener labels are the harness's {daemon_name}s (mx, submission,
submissions), so each listener is found by name.
"""

import email
import glob
import hmac
import hashlib
import os
import re
import signal
import smtplib
import ssl
import subprocess
import threading
import time

import pytest

from mailstack import clients, probe, procs

pytestmark = pytest.mark.milter

BASE = """
listener mx {
  ports = 25
  auth = forbid
  max_recipients = 2
}
listener submission {
  ports = 587 26
  auth = require
  tls = require
  min_tls = TLSv1.2
  sender = login
  max_message_size = 20K
}
listener submissions {
  ports = 465
  auth = require
  tls = require
  sender = login
}
milter {
  socket = inet:1@127.0.0.1
  unknown_listener = tempfail
  audit_header = X-Mailpolicy
%(milter)s
}
"""


def policy(milter="", **listener_extra):
    text = BASE % {"milter": milter}
    for label, extra in listener_extra.items():
        text = text.replace("listener %s {\n" % label, "listener %s {\n%s\n" % (label, extra), 1)
    return text


@pytest.fixture(scope="module", autouse=True)
def milter_stack(stack):
    """The stack with Redis and the milter; both removed again at the end."""
    stack.start(["redis", "milter"], policy_text=policy())
    yield stack
    stack.stop(["milter", "redis"])


def use(stack, text, redis=False):
    stack.reset(policy_text=text)
    if stack.state.get("policy_text") != text:
        raise AssertionError("policy not installed")


def login_session(stack, listener, who, context=None):
    conn = clients.smtp(stack, listener, starttls=False)
    if listener != "submissions":
        conn.starttls(context=context or clients.client_tls_context())
        conn.ehlo()
    a = stack.account(who)
    conn.login(a.address, a.password)
    return conn


def xclient(stack, listener, **attrs):
    """An SMTP session whose client attributes come from XCLIENT."""
    conn = clients.smtp(stack, listener, starttls=False)
    args = " ".join("%s=%s" % (k.upper(), v) for k, v in attrs.items())
    code, text = conn.docmd("XCLIENT", args)
    assert code == 220, (code, text)
    conn.ehlo()
    return conn


def maildir_messages(stack, address):
    local, domain = address.split("@")
    files = sorted(glob.glob(stack.paths.h("mail", domain, local, "Maildir", "new", "*")))
    out = []
    for f in files:
        with open(f, "rb") as fp:
            out.append(email.message_from_bytes(fp.read()))
    return out


def audit(msg):
    values = msg.get_all("X-Mailpolicy") or []
    assert len(values) == 1, values
    value = values[0].replace("\r", "").replace("\n", "")
    return value, dict(p.split("=", 1) for p in value.split("; "))


def milter_log(stack):
    """What the default milter logged since the current test began."""
    return stack.log_since(stack.test_offsets or {}).get("milter", "")


def wait_log(stack, text, timeout=10.0):
    deadline = time.monotonic() + timeout
    while text not in milter_log(stack):
        if time.monotonic() > deadline:
            raise AssertionError("milter log never said %r:\n%s" % (text, milter_log(stack)[-3000:]))
        time.sleep(0.05)


def send_data(conn, sender, rcpts, body=b"Subject: t\r\n\r\nhello\r\n", mail_options=()):
    code, text = conn.mail(sender, list(mail_options))
    if code != 250:
        return code, text
    for r in rcpts:
        code, text = conn.rcpt(r)
        if code != 250:
            return code, text
    return conn.data(body)


# ---- listeners, auth, TLS ----

def test_submission_without_auth_is_refused_at_mail(stack):
    use(stack, policy())
    conn = clients.smtp(stack, "submission")
    code, text = conn.mail("alice@example.com")
    assert code == 530
    assert text.startswith(b"5.7.0 Authentication required (listener submission: auth = require)")
    conn.quit()


def test_authenticated_mail_on_mx_is_refused(stack):
    use(stack, policy())
    conn = xclient(stack, "mx", login="alice@example.com")
    code, text = conn.mail("alice@example.com")
    assert code == 550 and b"5.7.1" in text and b"auth = forbid" in text
    conn.quit()
    # without a login the mx takes mail for local users
    conn = clients.smtp(stack, "mx")
    assert send_data(conn, "x@remote.test", ["bob@example.org"])[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    _, fields = audit(maildir_messages(stack, "bob@example.org")[0])
    assert fields["listener"] == "mx" and fields["login"] == "-"
    assert fields["verdict"] == "accept" and fields["mode"] == "enforce"


@pytest.mark.parametrize("listener", ["submission", "submission26", "submissions"])
def test_real_auth_and_sender_binding(stack, listener):
    use(stack, policy())
    conn = login_session(stack, listener, "alice")
    code, text = conn.mail("carol@example.com")
    assert code == 553
    assert b"5.7.1 sender <carol@example.com> not owned by alice@example.com" in text
    conn.rset()
    assert send_data(conn, "alice+news@example.com", ["bob@example.org"])[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    _, fields = audit(maildir_messages(stack, "bob@example.org")[0])
    expect = "submission" if listener.startswith("submission") and listener != "submissions" \
        else "submissions"
    assert fields["listener"] == expect
    assert fields["login"] == "alice@example.com"
    assert fields["tls"].startswith("TLSv1.")


@pytest.mark.parametrize("sender, postfix_reads", [
    # a group around another address, then an unclosed comment
    ("alice+x:bob@evil.example;(@example.com", "bob@evil.example"),
    # an unclosed comment hides the real domain
    ("alice+x@evil.example(@example.com", "alice+x@evil.example"),
])
def test_sender_binding_judges_the_address_postfix_uses(stack, sender, postfix_reads):
    # Postfix reads MAIL FROM as an RFC 822 address and queues the address
    # it finds there (postfix_reads), whatever text is around it; the
    # milter saw that text and took its last "@example.com" for alice's
    # domain
    use(stack, policy())
    conn = login_session(stack, "submission", "alice")
    code, text = conn.docmd("MAIL", "FROM:<%s>" % sender)
    if code == 250:
        code2, _ = conn.rcpt("bob@example.org")
        if code2 == 250:
            conn.data(b"Subject: t\r\n\r\nhello\r\n")
            stack.wait_for_messages("bob")
            msg = maildir_messages(stack, "bob@example.org")[0]
            raise AssertionError("alice sent as %s (Postfix reads %s): MAIL answered %d %r"
                                 % (msg["Return-Path"], postfix_reads, code, text))
    assert code == 553, (code, text)
    assert text.startswith(b"5.7.1 sender <") and b"not owned by alice@example.com" in text, text
    conn.rset()
    # alice's own address, plus-addressed, still goes
    assert send_data(conn, "alice+news@example.com", ["bob@example.org"])[0] == 250
    conn.quit()


def test_reply_text_keeps_a_percent_sign(stack):
    # the milter's reply text is a format for the MTA (Postfix turns "%%"
    # into "%" and drops a single "%"): the client must read the address
    # it sent, as it sent it
    use(stack, policy())
    conn = login_session(stack, "submission", "alice")
    code, text = conn.mail("carol%relay@example.com")
    assert code == 553, (code, text)
    assert b"5.7.1 sender <carol%relay@example.com> not owned by alice@example.com" in text, text
    conn.quit()


def test_tls_version_floor(stack):
    use(stack, policy().replace("min_tls = TLSv1.2", "min_tls = TLSv1.3"))
    old = clients.client_tls_context()
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    conn = login_session(stack, "submission", "alice", context=old)
    code, text = conn.mail("alice@example.com")
    assert code == 530 and b"TLS version TLSv1.2 is below the minimum TLSv1.3" in text
    conn.quit()
    conn = login_session(stack, "submission", "alice")
    assert conn.mail("alice@example.com")[0] == 250
    conn.quit()


def test_unknown_listener_by_port(stack):
    # labels that match no {daemon_name}: the port decides, and the harness's
    # high ports are in no listener, so unknown_listener applies
    text = policy().replace("listener mx {", "listener other {")
    use(stack, text)
    conn = clients.smtp(stack, "mx")
    code, msg = conn.mail("x@remote.test")
    assert code == 451 and b"4.3.0 no mail policy for this port" in msg
    conn.quit()
    # XCLIENT cannot move the session to another port, but unknown_listener
    # = accept lets it through
    use(stack, text.replace("unknown_listener = tempfail", "unknown_listener = accept"))
    conn = clients.smtp(stack, "mx")
    assert conn.mail("x@remote.test")[0] == 250
    conn.quit()


def test_auth_mechanisms_with_real_sasl(stack):
    """mailpolicy-milter(8), REPLIES: auth_mechanisms refuses a login made
    with another mechanism, 534 5.7.9, with Postfix's real {auth_type}."""
    use(stack, policy(submission="  auth_mechanisms = LOGIN"))
    a = stack.account("alice")
    for mech, expect in (("PLAIN", 534), ("LOGIN", 250)):
        conn = clients.smtp(stack, "submission")
        conn.user, conn.password = a.address, a.password
        conn.auth(mech, getattr(conn, "auth_" + mech.lower()))
        code, text = conn.mail(a.address)
        assert code == expect, (mech, code, text)
        if expect == 534:
            assert text == (b"5.7.9 authentication mechanism PLAIN not allowed "
                            b"(listener submission: auth_mechanisms)"), text
        conn.quit()


def test_allowed_clients_with_real_client_address(stack):
    """allowed_clients: 550 5.7.1 at MAIL for a client outside the list,
    named with its address; a client inside it is served."""
    use(stack, policy(mx="  allowed_clients = 127.0.0.1/32"))
    conn = clients.smtp(stack, "mx", source="127.0.0.2")
    code, text = conn.mail("x@remote.test")
    assert code == 550 and text == b"5.7.1 client 127.0.0.2 not allowed on listener mx (allowed_clients)", text
    conn.quit()
    conn = clients.smtp(stack, "mx", source="127.0.0.1")
    assert send_data(conn, "x@remote.test", ["bob@example.org"])[0] == 250
    conn.quit()


# ---- recipients and size ----

def test_max_recipients(stack):
    use(stack, policy())
    conn = clients.smtp(stack, "mx")
    assert conn.mail("x@remote.test")[0] == 250
    assert conn.rcpt("alice@example.com")[0] == 250
    assert conn.rcpt("bob@example.org")[0] == 250
    code, text = conn.rcpt("carol@example.com")
    assert code == 452 and text.startswith(b"4.5.3 Too many recipients")
    assert conn.data(b"Subject: r\r\n\r\nhi\r\n")[0] == 250
    conn.quit()
    stack.wait_for_messages("alice")
    stack.wait_for_messages("bob")
    assert stack.message_count("carol") == 0


def test_message_size(stack):
    use(stack, policy())
    conn = login_session(stack, "submission", "alice")
    # SIZE= at MAIL
    code, text = conn.mail("alice@example.com", ["SIZE=30000"])
    assert code == 552 and b"5.3.4 message size 30000 exceeds the limit of 20480" in text
    conn.rset()
    # the real size at the end of the message (no SIZE given)
    big = b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * 300
    code, text = send_data(conn, "alice@example.com", ["bob@example.org"], body=big)
    assert code == 552 and b"5.3.4" in text
    small = b"Subject: small\r\n\r\n" + (b"x" * 76 + b"\r\n") * 200
    assert send_data(conn, "alice@example.com", ["bob@example.org"], body=small)[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    assert maildir_messages(stack, "bob@example.org")[0]["Subject"] == "small"


# ---- rates ----

def rate_run(stack, n, listener="submission", who="alice"):
    codes = []
    conn = login_session(stack, listener, who)
    for _ in range(n):
        code, text = send_data(conn, stack.account(who).address, ["bob@example.org"])
        codes.append((code, text))
        if code != 250:
            conn.rset()
    conn.quit()
    return codes


def test_rate_login_memory(stack):
    use(stack, policy(submission="  rate_login = 3/1h"))
    codes = rate_run(stack, 6)
    assert [c for c, _ in codes] == [250, 250, 250, 450, 450, 450]
    assert codes[3][1].startswith(b"4.7.1 rate limit reached")
    assert b"rate_login = 3/1h" in codes[3][1]
    # only accepted mail counted: 3 delivered
    stack.wait_for_messages("bob", 3)
    # one log line when the key tripped, not one per refusal
    wait_log(stack, "rate limit tripped")
    assert milter_log(stack).count("rate limit tripped: listener=submission rule=rate_login "
                                   "key=login/1h/alice@example.com") == 1
    # another login has its own count
    assert [c for c, _ in rate_run(stack, 1, who="carol")] == [250]


def test_rate_in_redis_survives_a_milter_restart(stack):
    text = policy(submission="  rate_login = 3/1h",
                  milter="  rate_store = redis://127.0.0.1:6379/0")
    use(stack, text)
    assert [c for c, _ in rate_run(stack, 2)] == [250, 250]
    key = "mprate:login/1h/alice@example.com"
    assert probe.redis_command(stack.ports["redis"], "EXISTS", key) == ":1"
    # a new milter process: the counts are in Redis, not in the process
    stack.start(["milter"])
    assert [c for c, _ in rate_run(stack, 2)] == [250, 450]


def test_redis_stopped_and_restarted(stack):
    text = policy(submission="  rate_login = 100/1h",
                  milter="  rate_store = redis://127.0.0.1:6379/0\n  rate_store_failure = tempfail")
    use(stack, text)
    assert [c for c, _ in rate_run(stack, 1)] == [250]
    stack.stop(["redis"])
    try:
        codes = rate_run(stack, 1)
        assert codes[0][0] == 451 and b"rate_store_failure = tempfail" in codes[0][1]
    finally:
        stack.start(["redis"])
    # the store reconnects on its own (it retries a failed connect after 1 s)
    deadline = time.monotonic() + 15
    while True:
        code = rate_run(stack, 1)[0][0]
        if code == 250 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert code == 250


def test_redis_down_with_accept(stack):
    text = policy(submission="  rate_login = 1/1h",
                  milter="  rate_store = redis://127.0.0.1:6379/0\n  rate_store_failure = accept")
    use(stack, text)
    stack.stop(["redis"])
    try:
        # the store cannot answer: accept, even past the limit
        assert [c for c, _ in rate_run(stack, 2)] == [250, 250]
    finally:
        stack.start(["redis"])


def stats_lines(stack):
    return [l.split("stats: ", 1)[1] for l in milter_log(stack).split("\n") if "stats: sessions=" in l]


def flush_stats(stack):
    """SIGUSR2: the milter writes its stats line now; returns every stats
    line logged since the test began, the new one last."""
    before = len(stats_lines(stack))
    os.kill(stack.state["pids"]["milter"], signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while len(stats_lines(stack)) == before:
        if time.monotonic() > deadline:
            raise AssertionError("no stats line after SIGUSR2:\n" + milter_log(stack)[-2000:])
        time.sleep(0.05)
    return stats_lines(stack)


def test_stats_line_on_sigusr2(stack):
    """mailpolicy-milter(8), LOGGING: "stats: sessions=N verdicts:
    LISTENER/RULE/VERDICT=N ... top_limited: LOGIN=N ...", counts since the
    previous line, written on SIGUSR2."""
    use(stack, policy(submission="  rate_login = 1/1h\n  over_limit = reject"))
    start = len(flush_stats(stack))  # counts from here on
    conn = login_session(stack, "submission", "alice")
    assert send_data(conn, "carol@example.com", ["bob@example.org"])[0] == 553
    conn.rset()
    assert send_data(conn, "alice@example.com", ["bob@example.org"])[0] == 250
    assert send_data(conn, "alice@example.com", ["bob@example.org"])[0] == 550
    conn.quit()

    def totals(lines):
        total = {}
        for line in lines:
            for k, v in re.findall(r" (\S+)=(\d+)", " " + line):
                total[k] = total.get(k, 0) + int(v)
        return total

    # A session counts when Postfix closes its milter connection, which
    # comes after the client's QUIT: flush until it has.
    lines = flush_stats(stack)[start:]  # the 5-minute line may split them
    deadline = time.monotonic() + 10
    while totals(lines).get("sessions", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = flush_stats(stack)[start:]
    for line in lines:
        assert re.fullmatch(r"sessions=\d+ verdicts:( none|( [^ /]+/[a-z_]+/(reject|tempfail|hold)=\d+)+)"
                            r" top_limited:( none|( \S+=\d+)+)", line), line
    total = totals(lines)
    assert total.get("sessions", 0) >= 1, lines
    assert total.get("submission/sender/reject") == 1
    assert total.get("submission/rate_login/reject") == 1
    # only rate-limit refusals make a login "limited"
    assert total.get("alice@example.com") == 1, lines
    # counts since the previous line: another flush starts from nothing
    assert flush_stats(stack)[-1] == "sessions=0 verdicts: none top_limited: none"


# ---- report mode, audit header, HMAC ----

def use_hmac_key(stack, content, milter=""):
    """The policy with hmac_key_file naming a key file of these bytes,
    readable by the milter's user only (as the packaged unit runs it), and
    more milter lines."""
    key_file = stack.paths.h("etc", "audit.key")
    with open(key_file, "wb") as f:
        f.write(content)
    os.chown(key_file, *stack.milter_ids())
    os.chmod(key_file, 0o600)
    use(stack, policy(milter="%s  hmac_key_file = %s" % (milter, stack.paths.i("etc", "audit.key"))))

def test_report_mode_header_and_hmac(stack, tmp_path):
    key = b"audit-key-\x01\x02-for-tests"
    use_hmac_key(stack, key + b"\n", milter="  mode = report\n")
    conn = login_session(stack, "submission", "alice")
    forged = (b"X-Mailpolicy: v=1; verdict=accept; forged=yes\r\n"
              b"x-mailpolicy: second forgery\r\n"
              b"Subject: report\r\n\r\nhello\r\n")
    # the wrong sender: report mode accepts, and says what enforce would do
    assert send_data(conn, "carol@example.com", ["bob@example.org"], body=forged)[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    msg = maildir_messages(stack, "bob@example.org")[0]
    value, fields = audit(msg)
    assert "forged" not in value and "second forgery" not in str(msg)
    assert fields["verdict"] == "reject" and fields["rule"] == "sender"
    assert fields["mode"] == "report" and fields["login"] == "alice@example.com"
    signed, mac = value.rsplit("; hmac=", 1)
    assert mac == hmac.new(key, signed.encode(), hashlib.sha256).hexdigest()
    wait_log(stack, "report: would reject")


@pytest.mark.parametrize("content, key", [
    (b"k3y\x00bytes\n", b"k3y\x00bytes"),
    (b"k3y\x00bytes\r\n", b"k3y\x00bytes"),
    # a random key (openssl rand 32 > audit.key) may end in CR: a key byte
    # like any other when no newline follows it
    (b"k3y\x00bytes\r", b"k3y\x00bytes\r"),
    (b"k3y\x00bytes\r\r\n", b"k3y\x00bytes\r"),
])
def test_hmac_key_is_the_file_less_one_newline(stack, content, key):
    use_hmac_key(stack, content)
    conn = clients.smtp(stack, "mx")
    assert send_data(conn, "x@remote.test", ["bob@example.org"])[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    value, _ = audit(maildir_messages(stack, "bob@example.org")[0])
    signed, mac = value.rsplit("; hmac=", 1)
    assert mac == hmac.new(key, signed.encode(), hashlib.sha256).hexdigest(), content


def man_page_hmac_recipe():
    """The verification command of mailpolicy-milter(8), "Verifying the
    HMAC", as a reader copies it from the rendered page."""
    page = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "mailpolicy-milter.8")
    with open(page) as f:
        text = f.read()
    block = text.split(".SS Verifying the HMAC", 1)[1].split(".nf\n", 1)[1].split("\n.fi", 1)[0]
    return block.replace("\\e", "\\")


def test_hmac_recipe_of_the_man_page(stack, tmp_path):
    """The recipe verifies a real audit header saved from the delivered
    message (folded as Postfix stores it), and refuses one changed byte."""
    key = b"recipe-key\n"
    use_hmac_key(stack, key)
    conn = login_session(stack, "submission", "alice")
    assert send_data(conn, "alice@example.com", ["bob@example.org"])[0] == 250
    conn.quit()
    stack.wait_for_messages("bob")
    raw = maildir_messages(stack, "bob@example.org")[0]["X-Mailpolicy"]
    value = str(raw).strip()  # the value as the message file holds it (Postfix does not fold it)
    recipe = man_page_hmac_recipe().replace("/etc/mailpolicy/audit.key", str(tmp_path / "audit.key"))
    assert recipe.startswith("python3 -c '") and recipe.endswith(" value.txt " + str(tmp_path / "audit.key")), recipe
    with open(tmp_path / "audit.key", "wb") as f:
        f.write(key)
    for content, verdict in ((value, "OK"), (value.replace("listener=submission", "listener=submissioN"), "BAD")):
        with open(tmp_path / "value.txt", "w") as f:
            f.write(content + "\n")
        out = subprocess.run(["sh", "-c", recipe], cwd=tmp_path, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout == verdict + "\n", (content, out.stdout, out.stderr)
    # "or, for a printable key, printf %s "$SIGNED" | openssl dgst ... and compare"
    signed, mac = value.rsplit("; hmac=", 1)
    out = subprocess.run(["sh", "-c", 'printf %s "$SIGNED" | openssl dgst -sha256 -hmac "$(cat audit.key)"'],
                         cwd=tmp_path, env=dict(os.environ, SIGNED=signed), capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split()[-1] == mac, (out.stdout, out.stderr)


# ---- reload ----

def test_reload_keeps_old_policy_on_broken_file(stack):
    use(stack, policy())
    path = stack.paths.h("etc", "mailpolicy.conf")
    with open(path) as f:
        good = f.read()
    pid = stack.state["pids"]["milter"]
    with open(path, "w") as f:
        f.write(good.replace("sender = login", "sender = nonsense"))
    os.kill(pid, signal.SIGUSR1)
    wait_log(stack, "policy reload failed: ")
    failed = milter_log(stack).split("policy reload failed: ")[-1].splitlines()[0]
    assert "mailpolicy.conf:" in failed and failed.endswith("(keeping generation 1)")
    conn = login_session(stack, "submission", "alice")
    assert conn.mail("carol@example.com")[0] == 553
    conn.quit()
    # a good file takes effect on the next SIGUSR1
    with open(path, "w") as f:
        f.write(good.replace("sender = login\n  max_message_size", "sender = any\n  max_message_size"))
    os.kill(pid, signal.SIGUSR1)
    wait_log(stack, "(generation 2)")
    conn = login_session(stack, "submission", "alice")
    assert conn.mail("carol@example.com")[0] == 250
    conn.quit()


# ---- crash under load ----

def test_kill_9_under_load_loses_no_message(stack):
    use(stack, policy())
    results = []            # (session started after the milter died, code, text)
    lock = threading.Lock()
    killed = threading.Event()
    before_kill, sessions = 8, 15

    def sender(n):
        for i in range(sessions):
            if i == before_kill:
                # this sender's last sessions start only once the milter is dead
                killed.wait(timeout=120)
            after = killed.is_set()
            conn = None
            try:
                conn = clients.smtp(stack, "mx")
                code, text = send_data(conn, "x@remote.test", ["bob@example.org"],
                                       body=b"Subject: load %d-%d\r\n\r\nx\r\n" % (n, i))
                conn.quit()
            except smtplib.SMTPServerDisconnected as e:
                code, text = None, str(e).encode()
            except smtplib.SMTPResponseException as e:
                # DATA refused (451 while the milter is down): a reply
                code, text = e.smtp_code, e.smtp_error
                if conn is not None:
                    conn.close()
            with lock:
                results.append((after, code, text))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    pid = stack.state["pids"]["milter"]
    try:
        # kill it while the senders are at work: once some mail went through
        deadline = time.monotonic() + 60
        while len(results) < before_kill:
            assert time.monotonic() < deadline, "no %d sessions done in 60 s: %r" % (
                before_kill, results)
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        while procs.alive(pid):
            assert time.monotonic() < deadline, "the milter outlived SIGKILL"
            time.sleep(0.01)
    finally:
        killed.set()
    for t in threads:
        t.join()
    # deliveries first: restarting the milter restarts Postfix, and an LMTP
    # delivery cut off after Dovecot stored the message would come twice
    stack.wait_queue_empty(timeout=30)
    stack.start(["milter"])
    codes = [c for _, c, _ in results]
    accepted = codes.count(250)
    assert len(results) == 4 * sessions, results
    # every message got a reply: accepted, or refused with a temporary error
    # (milter_default_action = tempfail), never dropped without an answer
    assert all(c == 250 or (c is not None and 400 <= c < 500) for c in codes), results
    # the sessions done before the kill went through the live milter ...
    assert codes[:before_kill] == [250] * before_kill, results
    # ... and every session begun after it was refused for now, not let through
    late = [(c, t) for after, c, t in results if after]
    assert len(late) >= 4 * (sessions - before_kill), results
    assert all(400 <= c < 500 for c, _ in late), late
    stack.wait_queue_empty(timeout=30)
    assert stack.wait_for_messages("bob", accepted, timeout=30) == accepted
    assert stack.message_count("bob") == accepted
