"""folder_quota and delivery (issue 9): a folder limit never bounces incoming
mail.  LMTP delivery into a folder whose folder root is full (Sieve
`fileinto`, `lmtp_save_to_detail_mailbox`) lands in INBOX instead, with a log
line; only the user's own quota refuses delivery, as stock does (552 5.2.2,
or 452 4.2.2 with quota_full_tempfail).

Dovecot runs here with `+detail` delivery and the Sieve plugin in LMTP (the
module's fixture restarts it so, and back to the stack's defaults after).
"""

import os
import smtplib
import subprocess
import tempfile

import pytest

from mailstack import clients
from mailstack.dovecot_conf import MAIL_UID
from mailstack.layout import Account

from test_folder_quota_util import (
    append_ok, create, getquota, imap, is_24, log_lines, message, subjects)

pytestmark = pytest.mark.plugin("folder_quota")

K = 1024

DELIVERY_23 = """
recipient_delimiter = +
protocol lmtp {
  mail_plugins = $mail_plugins sieve
  lmtp_save_to_detail_mailbox = yes
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
"""

DELIVERY_24 = """
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
protocol lmtp {
  mail_plugins {
    sieve = yes
  }
}
sieve_script personal {
  sieve_script_driver = file
  sieve_script_path = ~/sieve
  sieve_script_active_path = ~/.dovecot.sieve
}
"""

TEMPFAIL_23 = "quota_full_tempfail = yes\n"
TEMPFAIL_24 = "quota_full_tempfail = yes\n"

POLICY = """
folder_quota {
  folder Junk {
    messages = 2
  }
  folder Lists {
    messages = 1
  }
  folder Spam {
    messages = 2
    when_full = expunge_oldest
  }
  folder INBOX {
    messages = 1
  }
}
"""


def restart_dovecot(stack, extra):
    stack.start(["dovecot"], dovecot_extra=extra)


@pytest.fixture(scope="module")
def delivery(stack):
    extra = DELIVERY_24 if is_24(stack) else DELIVERY_23
    restart_dovecot(stack, extra)
    stack.delivery_extra = extra
    yield stack
    restart_dovecot(stack, "")


@pytest.fixture
def policy(delivery):
    delivery.reset(policy_text=POLICY)
    return delivery


def deliver(stack, rcpt, subject, size=600):
    """One LMTP delivery; returns (code, text) of the reply to the data."""
    conn = clients.lmtp(stack)
    try:
        conn.sendmail("sender@example.net", [rcpt], message(size, subject))
        return 250, "ok"
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        return code, text.decode(errors="replace")
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    finally:
        try:
            conn.quit()
        except smtplib.SMTPException:
            pass


def deliver_ok(stack, rcpt, subject, size=600):
    code, text = deliver(stack, rcpt, subject, size)
    assert code == 250, "delivery to %s refused: %s %s" % (rcpt, code, text)


def lda(stack, who, mailbox, subject):
    """dovecot-lda -d WHO -m MAILBOX with a message on stdin (a temporary
    file); returns the CompletedProcess."""
    argv = stack.platform.cmd(["/usr/lib/dovecot/dovecot-lda", "-c", stack.dovecot_conf(),
                               "-d", stack.account(who).address, "-m", mailbox,
                               "-f", "sender@example.net"])
    with tempfile.TemporaryFile() as src:
        src.write(message(600, subject))
        src.seek(0)
        return subprocess.run(argv, stdin=src, capture_output=True, timeout=60)


def sieve_script(stack, who, script):
    """Install the account's active Sieve script (~/.dovecot.sieve)."""
    home = stack.mail_home(who)
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, ".dovecot.sieve")
    with open(path, "w") as f:
        f.write(script)
    for p in (home, path):
        os.chown(p, MAIL_UID, MAIL_UID)


def test_detail_delivery_into_a_full_folder_lands_in_inbox(policy):
    c = imap(policy, "alice")
    create(c, "Junk")
    c.logout()
    offsets = policy.log_offsets()
    deliver_ok(policy, "alice+Junk@example.com", "j1")
    deliver_ok(policy, "alice+Junk@example.com", "j2")
    deliver_ok(policy, "alice+Junk@example.com", "j3: Junk is full")
    c = imap(policy, "alice")
    assert subjects(c, "Junk") == ["j1", "j2"]
    assert subjects(c, "INBOX") == ["j3: Junk is full"]
    c.logout()
    logs = log_lines(policy, offsets)
    assert "delivery into Junk refused by its folder limit" in logs, logs
    assert "goes to INBOX instead" in logs, logs


def test_lda_into_a_full_folder_lands_in_inbox(policy):
    c = imap(policy, "alice")
    create(c, "Junk")
    c.logout()
    offsets = policy.log_offsets()
    for i in range(3):
        proc = lda(policy, "alice", "Junk", "lda %d" % i)
        assert proc.returncode == 0, (proc.returncode, proc.stderr)
    c = imap(policy, "alice")
    assert subjects(c, "Junk") == ["lda 0", "lda 1"]
    assert subjects(c, "INBOX") == ["lda 2"]
    c.logout()
    assert "delivery into Junk refused by its folder limit" in log_lines(policy, offsets)


def test_sieve_fileinto_a_full_folder_lands_in_inbox(policy):
    sieve_script(policy, "alice", 'require "fileinto";\nfileinto "Lists";\n')
    c = imap(policy, "alice")
    create(c, "Lists")
    c.logout()
    deliver_ok(policy, "alice@example.com", "l1")
    deliver_ok(policy, "alice@example.com", "l2: Lists is full")
    c = imap(policy, "alice")
    assert subjects(c, "Lists") == ["l1"]
    assert subjects(c, "INBOX") == ["l2: Lists is full"]
    c.logout()


def test_delivery_makes_room_in_an_expunge_oldest_folder(policy):
    sieve_script(policy, "alice", 'require "fileinto";\nfileinto "Spam";\n')
    c = imap(policy, "alice")
    create(c, "Spam")
    c.logout()
    for i in range(4):
        deliver_ok(policy, "alice@example.com", "s%d" % i)
    c = imap(policy, "alice")
    assert subjects(c, "Spam") == ["s2", "s3"]
    assert subjects(c, "INBOX") == []
    c.logout()


def test_a_full_inbox_folder_limit_never_refuses_delivery(policy):
    c = imap(policy, "alice")
    append_ok(c, "INBOX", message(300, "fills INBOX's folder limit"))
    c.logout()
    for i in range(3):
        deliver_ok(policy, "alice@example.com", "delivered %d" % i)
    c = imap(policy, "alice")
    assert len(subjects(c, "INBOX")) == 4
    # over IMAP the limit still holds
    assert getquota(c, "Folder INBOX") == {"MESSAGE": (4, 1)}
    c.logout()


def user_quota(stack, size):
    if is_24(stack):
        # no grace: the limit itself refuses delivery
        return {"userdb_quota_storage_size": size, "userdb_quota_storage_grace": "0"}
    return {"userdb_quota_rule": "*:storage=%s" % size, "userdb_quota_grace": "0"}


def test_only_the_user_quota_refuses_delivery(policy):
    alice = Account("alice@example.com", "alice-secret", user_quota(policy, "4K"))
    policy.reset(policy_text=POLICY, accounts=[alice])
    c = imap(policy, "alice")
    create(c, "Junk")
    c.logout()
    deliver_ok(policy, "alice+Junk@example.com", "fits", size=3 * K)
    code, text = deliver(policy, "alice+Junk@example.com", "user quota full", size=2 * K)
    assert code == 552 and "5.2.2" in text, (code, text)
    code, text = deliver(policy, "alice@example.com", "user quota full", size=2 * K)
    assert code == 552 and "5.2.2" in text, (code, text)


def test_quota_full_tempfail_makes_it_452(policy):
    extra = policy.delivery_extra + (TEMPFAIL_24 if is_24(policy) else TEMPFAIL_23)
    restart_dovecot(policy, extra)
    try:
        alice = Account("alice@example.com", "alice-secret", user_quota(policy, "4K"))
        policy.reset(policy_text=POLICY, accounts=[alice])
        deliver_ok(policy, "alice@example.com", "fits", size=3 * K)
        code, text = deliver(policy, "alice@example.com", "user quota full", size=2 * K)
        assert code == 452 and "4.2.2" in text, (code, text)
        # a full folder still is no reason: the mail lands in INBOX
        code, text = deliver(policy, "alice+Junk@example.com", "small", size=300)
        assert code == 250, (code, text)
    finally:
        restart_dovecot(policy, policy.delivery_extra)
