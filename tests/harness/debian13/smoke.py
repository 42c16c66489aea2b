#!/usr/bin/python3
"""Smoke test of a running Debian 13 stack, with real clients from the host.

Run `run-stack start` first; this reads the ports from `run-stack env` (same
environment, so D13_PORT_BASE etc. apply) and checks what a user would see:
IMAP(S) login + APPEND + GETQUOTAROOT, POP3(S) RETR + DELE, LMTP delivery,
and swaks through each SMTP listener with the mail arriving over LMTP.
Exit 0 when every check passed; prints one line per check.
"""

import imaplib
import os
import poplib
import smtplib
import ssl
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = {"alice@example.com": "alice-secret", "bob@example.org": "bob-secret"}


def stack_env():
    out = subprocess.run([os.path.join(HERE, "run-stack"), "env"], check=True,
                         capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


ENV = stack_env()
PORT = {k[:-5].lower(): int(v) for k, v in ENV.items() if k.endswith("_PORT")}
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
results = []


def check(name, fn):
    try:
        detail = fn()
        results.append(True)
        print("ok   %s%s" % (name, ": " + detail if detail else ""))
    except Exception as e:  # noqa: BLE001 - report any failure as a failed check
        results.append(False)
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))


def imap(user, tls=False):
    m = (imaplib.IMAP4_SSL("127.0.0.1", PORT["imaps"], ssl_context=TLS) if tls
         else imaplib.IMAP4("127.0.0.1", PORT["imap"]))
    m.login(user, USERS[user])
    return m


def wait_subject(user, subject, timeout=10):
    """True once a message with this subject is in user's INBOX (mail goes via the queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = imap(user)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
        m.logout()
        if typ == "OK" and data[0].split():
            return True
        time.sleep(0.2)
    raise AssertionError("no message %r for %s within %ss" % (subject, user, timeout))


def t_imap(tls):
    def run():
        m = imap("alice@example.com", tls)
        typ, data = m.append("INBOX", None, None,
                             b"From: a@example.com\r\nSubject: append\r\n\r\nhello\r\n")
        assert typ == "OK", data
        typ, data = m.getquotaroot("INBOX")
        assert typ == "OK", data
        roots, quotas = data
        assert b'"User quota"' in roots[0], roots
        assert b"STORAGE" in quotas[0], quotas
        m.logout()
        return "%s / %s" % (roots[0].decode(), quotas[0].decode())
    return run


def t_lmtp():
    subject = "lmtp-" + uuid.uuid4().hex[:8]
    with smtplib.LMTP("127.0.0.1", PORT["lmtp"]) as c:
        refused = c.sendmail("x@example.net", ["bob@example.org"],
                             "From: x@example.net\r\nSubject: %s\r\n\r\nbody\r\n" % subject)
        assert not refused, refused
    wait_subject("bob@example.org", subject)


def t_pop3(tls):
    def run():
        t_lmtp()
        p = (poplib.POP3_SSL("127.0.0.1", PORT["pop3s"], context=TLS) if tls
             else poplib.POP3("127.0.0.1", PORT["pop3"]))
        p.user("bob@example.org")
        p.pass_(USERS["bob@example.org"])
        count, _ = p.stat()
        assert count >= 1
        p.retr(count)
        p.dele(count)
        p.quit()
        p = (poplib.POP3_SSL("127.0.0.1", PORT["pop3s"], context=TLS) if tls
             else poplib.POP3("127.0.0.1", PORT["pop3"]))
        p.user("bob@example.org")
        p.pass_(USERS["bob@example.org"])
        after, _ = p.stat()
        p.quit()
        assert after == count - 1, (count, after)
        return "%d -> %d messages" % (count, after)
    return run


def swaks(*args):
    return subprocess.run(["swaks", "--server"] + list(args), capture_output=True, text=True)


def t_smtp(listener, port_key, tls_args, auth):
    def run():
        subject = "%s-%s" % (listener, uuid.uuid4().hex[:8])
        args = ["127.0.0.1:%d" % PORT[port_key]] + tls_args
        sender = "x@example.net"
        if auth:
            sender = "alice@example.com"
            args += ["--auth", "PLAIN", "--auth-user", sender, "--auth-password", USERS[sender]]
        args += ["--from", sender, "--to", "bob@example.org", "--header", "Subject: " + subject]
        r = swaks(*args)
        assert r.returncode == 0, r.stdout[-600:]
        if auth:
            assert "235 2.7.0" in r.stdout, r.stdout[-600:]
        wait_subject("bob@example.org", subject)
    return run


def t_refused(port_key, tls_args, expect):
    def run():
        r = swaks("127.0.0.1:%d" % PORT[port_key], *tls_args, "--from", "alice@example.com",
                  "--to", "bob@example.org")
        out = r.stdout + r.stderr
        assert expect in out, out[-600:]
        return expect
    return run


check("imap login+append+getquotaroot", t_imap(False))
check("imaps login+append+getquotaroot", t_imap(True))
check("lmtp delivery", t_lmtp)
check("pop3 retr+dele", t_pop3(False))
check("pop3s retr+dele", t_pop3(True))
check("smtp mx -> lmtp", t_smtp("mx", "mx", [], False))
check("smtp submission starttls+auth", t_smtp("submission", "submission", ["-tls"], True))
check("smtp submission26 starttls+auth", t_smtp("submission26", "submission26", ["-tls"], True))
check("smtp submissions tls+auth", t_smtp("submissions", "submissions", ["--tlsc"], True))
check("mx offers no AUTH", t_refused("mx", ["--auth", "PLAIN", "--auth-user", "a",
                                           "--auth-password", "b"], "Host did not advertise authentication"))
check("submission requires STARTTLS", t_refused("submission", [], "530 5.7.0"))
print("%d passed, %d failed" % (results.count(True), results.count(False)))
sys.exit(0 if all(results) else 1)
