"""folder_quota and delivery (issue 9): a folder limit never bounces incoming
mail.  LMTP delivery into a folder whose folder root is full (Sieve
`fileinto`, `lmtp_save_to_detail_mailbox`) lands in INBOX instead, with a log
line; only the user's own quota refuses delivery, as stock does (552 5.2.2,
or 452 4.2.2 with quota_full_tempfail).

Dovecot runs here with `+detail` delivery and the Sieve plugin in LMTP (the
module's fixture restarts it so, and back to the stack's defaults after).
"""

import pytest

from test_folder_quota_util import (
    append_ok, create, getquota, imap, log_line, message, subjects)

pytestmark = pytest.mark.plugin("folder_quota")

K = 1024

# +detail delivery and Sieve in LMTP and LDA, for every test of the module
DELIVERY = {"recipient_delimiter": "+", "lmtp_save_to_detail_mailbox": True, "sieve": True}

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


@pytest.fixture(scope="module")
def delivery(stack):
    with stack.scoped(dovecot=DELIVERY):
        yield stack


@pytest.fixture
def policy(delivery):
    delivery.reset(policy_text=POLICY)
    return delivery


def deliver(stack, rcpt, subject, size=600):
    """One LMTP delivery; returns (code, text) of the recipient's reply."""
    code, text = stack.lmtp_send([rcpt], message(size, subject))[rcpt]
    return code, text.decode(errors="replace") if isinstance(text, bytes) else text


def deliver_ok(stack, rcpt, subject, size=600):
    code, text = deliver(stack, rcpt, subject, size)
    assert code == 250, "delivery to %s refused: %s %s" % (rcpt, code, text)


def lda(stack, who, mailbox, subject):
    """dovecot-lda -d WHO -m MAILBOX; returns the CompletedProcess."""
    return stack.deliver_lda(who, message(600, subject), mailbox=mailbox,
                             sender="sender@example.net", check=False)


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
    log_line(policy, offsets, "folder_quota: delivery into Junk refused by its folder limit",
             "goes to INBOX instead")


def test_lda_into_a_full_folder_lands_in_inbox(policy):
    c = imap(policy, "alice")
    create(c, "Junk")
    c.logout()
    offsets = policy.log_offsets()
    for i in range(3):
        proc = lda(policy, "alice", "Junk", "lda %d" % i)
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    c = imap(policy, "alice")
    assert subjects(c, "Junk") == ["lda 0", "lda 1"]
    assert subjects(c, "INBOX") == ["lda 2"]
    c.logout()
    log_line(policy, offsets, "folder_quota: delivery into Junk refused by its folder limit",
             "goes to INBOX instead")


def test_sieve_fileinto_a_full_folder_lands_in_inbox(policy):
    policy.set_sieve("alice", 'require "fileinto";\nfileinto "Lists";\n')
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
    policy.set_sieve("alice", 'require "fileinto";\nfileinto "Spam";\n')
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
    """alice's own quota of size, with no grace, so that the limit itself
    refuses delivery."""
    fields = stack.quota_fields(storage=size)
    fields["quota_storage_grace" if stack.platform.dovecot_dialect == "2.4"
           else "quota_grace"] = "0"
    return fields


def test_only_the_user_quota_refuses_delivery(policy):
    policy.set_userdb("alice", user_quota(policy, "4K"))
    c = imap(policy, "alice")
    create(c, "Junk")
    c.logout()
    deliver_ok(policy, "alice+Junk@example.com", "fits", size=3 * K)
    code, text = deliver(policy, "alice+Junk@example.com", "user quota full", size=2 * K)
    assert code == 552 and "5.2.2" in text, (code, text)
    code, text = deliver(policy, "alice@example.com", "user quota full", size=2 * K)
    assert code == 552 and "5.2.2" in text, (code, text)


def test_quota_full_tempfail_makes_it_452(policy):
    policy.configure(dovecot={"quota_full_tempfail": True})
    policy.set_userdb("alice", user_quota(policy, "4K"))
    deliver_ok(policy, "alice@example.com", "fits", size=3 * K)
    code, text = deliver(policy, "alice@example.com", "user quota full", size=2 * K)
    assert code == 452 and "4.2.2" in text, (code, text)
    # a full folder still is no reason: the mail lands in INBOX
    code, text = deliver(policy, "alice+Junk@example.com", "small", size=300)
    assert code == 250, (code, text)
