"""LMTP delivery into Dovecot, seen from IMAP."""

import smtplib

import pytest

from mailstack import clients


def test_lmtp_delivery_shows_up_in_imap(stack):
    conn = clients.lmtp(stack)
    msg = clients.message("sender@example.net", "alice@example.com", subject="via lmtp")
    refused = conn.sendmail("sender@example.net", ["alice@example.com", "bob@example.org"], msg)
    conn.quit()
    assert refused == {}
    imap = clients.imap(stack, "alice")
    imap.select("INBOX", readonly=True)
    typ, data = imap.search(None, "SUBJECT", "\"via lmtp\"")
    assert data == [b"1"]
    imap.logout()
    assert stack.message_count("bob") == 1


def test_lmtp_unknown_user_is_refused(stack):
    conn = clients.lmtp(stack)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        conn.sendmail("sender@example.net", ["nobody@example.com"],
                      clients.message("sender@example.net", "nobody@example.com"))
    code, text = e.value.recipients["nobody@example.com"]
    assert code == 550 and b"User doesn't exist" in text
    conn.quit()
