"""The stock stack over POP3: STAT, RETR, DELE, QUIT, and the message gone."""

import poplib

import pytest

from mailstack import clients


def _deliver(stack, who, n=1):
    conn = clients.imap(stack, who)
    for i in range(n):
        clients.append(conn, "INBOX", clients.message(
            "sender@example.net", stack.account(who).address, subject="pop %d" % i))
    conn.logout()
    assert stack.message_count(who) == n


@pytest.mark.parametrize("tls", [False, True], ids=["pop3", "pop3s"])
def test_stat_retr_dele_quit(stack, tls):
    _deliver(stack, "bob", 2)
    conn = clients.pop3(stack, "bob", tls=tls)
    count, size = conn.stat()
    assert count == 2 and size > 0
    resp, lines, octets = conn.retr(1)
    assert resp.startswith(b"+OK")
    assert b"Subject: pop 0" in lines
    assert conn.dele(1).startswith(b"+OK")
    assert conn.quit().startswith(b"+OK")

    # The DELE took effect at QUIT: one message left, seen from POP3 and IMAP.
    conn = clients.pop3(stack, "bob", tls=tls)
    assert conn.stat()[0] == 1
    resp, lines, octets = conn.retr(1)
    assert b"Subject: pop 1" in lines
    conn.quit()
    assert stack.message_count("bob") == 1


def test_dele_without_quit_keeps_the_message(stack):
    _deliver(stack, "bob")
    conn = clients.pop3(stack, "bob")
    conn.dele(1)
    conn.rset()
    conn.quit()
    assert stack.message_count("bob") == 1


def test_uidl_is_stable(stack):
    _deliver(stack, "dave", 2)
    conn = clients.pop3(stack, "dave")
    first = conn.uidl()[1]
    conn.quit()
    conn = clients.pop3(stack, "dave")
    assert conn.uidl()[1] == first
    conn.quit()


def test_bad_password_is_refused(stack):
    conn = clients.pop3(stack, login=False, source=clients.failing_source())
    conn.user("bob@example.org")
    with pytest.raises(poplib.error_proto, match="ERR"):
        conn.pass_("wrong")
    conn.close()
