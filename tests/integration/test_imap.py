"""The stock stack over IMAP: login on both ports, APPEND then FETCH, refusals."""

import imaplib

import pytest

from mailstack import clients


@pytest.mark.parametrize("tls,starttls", [(False, False), (False, True), (True, False)],
                         ids=["imap", "imap-starttls", "imaps"])
def test_login_and_select(stack, tls, starttls):
    conn = clients.imap(stack, "alice", tls=tls, starttls=starttls)
    typ, data = conn.select("INBOX")
    assert typ == "OK" and data == [b"0"]
    assert conn.logout()[0] == "BYE"


def test_bad_password_is_refused(stack):
    conn = clients.imap(stack, login=False, source=clients.failing_source())
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        conn.login("alice@example.com", "wrong")
    conn.logout()


def test_append_then_fetch(stack):
    msg = clients.message("bob@example.org", "alice@example.com", subject="appended")
    conn = clients.imap(stack, "alice")
    typ, data = conn.append("INBOX", r"(\Seen)", None, msg)
    assert typ == "OK" and b"APPENDUID" in data[0]
    conn.select("INBOX")
    typ, data = conn.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)")
    assert typ == "OK"
    meta, header = data[0]
    assert b"\\Seen" in meta and b"RFC822.SIZE %d" % len(msg.replace(b"\n", b"\r\n")) in meta
    assert header.strip() == b"Subject: appended"
    conn.logout()
    assert stack.message_count("alice") == 1


def test_folders_and_quota_root(stack):
    """Folders with `/` as separator; the stock quota plugin answers GETQUOTAROOT."""
    conn = clients.imap(stack, "carol")
    assert conn.create("Projects/apollo")[0] == "OK"
    typ, data = conn.append("Projects/apollo", None, None,
                            clients.message("a@example.net", "carol@example.com"))
    assert typ == "OK" and b"APPENDUID" in data[0]
    typ, data = conn.getquotaroot("Projects/apollo")
    assert typ == "OK"
    roots, quotas = data
    assert b'"User quota"' in roots[0]
    assert b"STORAGE" in quotas[0]
    typ, listing = conn.list('""', "Projects/*")
    assert any(b'"/" Projects/apollo' in line for line in listing)
    conn.logout()
    assert stack.message_count("carol", "Projects/apollo") == 1


def test_a_full_quota_refuses_append(stack):
    """The stock quota plugin, per user: over the limit APPEND gets NO [OVERQUOTA]."""
    stack.set_userdb("alice", stack.quota_fields(storage="10K"))
    conn = clients.imap(stack, "alice")
    big = clients.message("a@example.net", "alice@example.com", size=20000)
    typ, data = conn.append("INBOX", None, None, big)
    assert typ == "NO" and b"OVERQUOTA" in data[0]
    clients.append(conn, "INBOX", clients.message("a@example.net", "alice@example.com"))
    conn.logout()
    assert stack.message_count("alice") == 1
