"""SMTP on each listener of the stock stack: what is accepted, what is refused and why.

mx stands for port 25, submission and submission26 for 587 and 26, submissions
for 465. Mail to example.com and example.org goes over LMTP into Dovecot;
every other domain is accepted only from authenticated users (and discarded).
"""

import smtplib
import subprocess

import pytest

from mailstack import clients

SUBMISSION_PORTS = ["submission", "submission26"]


def swaks(stack, *args):
    proc = subprocess.run(["swaks", "--server", "127.0.0.1", "--timeout", "10",
                           "--helo", "client.example.net"] + list(args),
                          capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def test_mx_delivers_local_mail_without_auth(stack, send):
    assert send(stack, "mx", "alice@example.com", subject="to the mx") == {}
    stack.wait_for_messages("alice")
    imap = clients.imap(stack, "alice")
    imap.select("INBOX", readonly=True)
    assert imap.search(None, "SUBJECT", "\"to the mx\"")[1] == [b"1"]
    imap.logout()


def test_mx_offers_starttls_but_no_auth(stack):
    conn = clients.smtp(stack, "mx")
    assert conn.has_extn("starttls")
    assert not conn.has_extn("auth")
    conn.starttls(context=clients.client_tls_context())
    conn.ehlo()
    assert not conn.has_extn("auth")
    conn.quit()


def test_mx_refuses_relay(stack):
    conn = clients.smtp(stack, "mx")
    conn.mail("someone@example.net")
    code, text = conn.rcpt("friend@elsewhere.example")
    assert code == 554 and b"Relay access denied" in text
    conn.quit()


def test_mx_refuses_unknown_local_user(stack):
    conn = clients.smtp(stack, "mx")
    conn.mail("someone@example.net")
    code, text = conn.rcpt("nobody@example.com")
    assert code == 550 and b"User unknown" in text
    conn.quit()


@pytest.mark.parametrize("listener", SUBMISSION_PORTS)
def test_submission_requires_starttls_before_auth(stack, listener):
    conn = clients.smtp(stack, listener, starttls=False)
    assert conn.has_extn("starttls") and not conn.has_extn("auth")
    code, text = conn.docmd("MAIL FROM:<alice@example.com>")
    assert code == 530 and b"STARTTLS" in text
    conn.starttls(context=clients.client_tls_context())
    conn.ehlo()
    assert "PLAIN" in conn.esmtp_features["auth"] and "LOGIN" in conn.esmtp_features["auth"]
    conn.quit()


@pytest.mark.parametrize("listener", SUBMISSION_PORTS)
def test_submission_refuses_mail_without_auth(stack, listener):
    conn = clients.smtp(stack, listener)
    conn.mail("alice@example.com")
    code, text = conn.rcpt("bob@example.org")
    assert code == 554 and b"Access denied" in text
    conn.quit()


@pytest.mark.parametrize("listener", SUBMISSION_PORTS + ["submissions"])
def test_authenticated_mail_is_accepted(stack, send, listener):
    """Local recipients are delivered; other domains are relayed (to discard: here)."""
    refused = send(stack, listener, ["bob@example.org", "friend@elsewhere.example"],
                   account="alice", subject="from %s" % listener)
    assert refused == {}
    stack.wait_for_messages("bob")
    stack.wait_queue_empty()


@pytest.mark.parametrize("listener", SUBMISSION_PORTS + ["submissions"])
def test_bad_password_is_refused(stack, listener):
    conn = clients.smtp(stack, listener, source=clients.failing_source())
    # One mechanism only: smtplib's login() would retry with LOGIN, and Dovecot
    # delays a second failure from the same address.
    conn.user, conn.password = "alice@example.com", "wrong"
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        conn.auth("PLAIN", conn.auth_plain)
    assert e.value.smtp_code == 535
    conn.quit()


def test_submissions_is_tls_from_the_first_byte(stack):
    conn = clients.smtp(stack, "submissions")
    assert conn.sock.version().startswith("TLSv1.")
    assert "PLAIN" in conn.esmtp_features["auth"]
    assert not conn.has_extn("starttls")
    conn.quit()


def test_swaks_submission_with_starttls_and_auth(stack):
    code, out = swaks(stack, "--port", str(stack.ports["submission"]), "--tls",
                      "--auth", "PLAIN", "--auth-user", "carol@example.com",
                      "--auth-password", "carol-secret",
                      "--from", "carol@example.com", "--to", "dave@example.org")
    assert code == 0, out
    assert "235 2.7.0 Authentication successful" in out
    stack.wait_for_messages("dave")


def test_swaks_xclient_on_mx(stack):
    """The milter tests stand in for remote clients with XCLIENT: the stack allows it
    from 127.0.0.1, and Postfix then records the client the test named."""
    code, out = swaks(stack, "--port", str(stack.ports["mx"]),
                      "--xclient-addr", "192.0.2.10", "--xclient-name", "client.example.net",
                      "--from", "someone@example.net", "--to", "alice@example.com")
    assert code == 0, out
    stack.wait_for_messages("alice")
    imap = clients.imap(stack, "alice")
    imap.select("INBOX", readonly=True)
    header = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (RECEIVED)])")[1][0][1]
    imap.logout()
    assert b"192.0.2.10" in header
