"""pop3_retention never expunges, moves or hides mail its policy does not
name: folder names that lead out of the user's own mail, and hostile values.

Real Dovecot with the plugin, real poplib/imaplib clients; what is asserted is
what users see (the messages still there, and where).
"""

import os

import pytest

from mailstack import clients

from test_pop3_retention_support import (
    DAY, KW_RETRIEVED, POLICY, deliver, imap_flags, log_lines, retrieve, sweep,
    swept_uids)

pytestmark = pytest.mark.plugin("pop3_retention")

# A public namespace every user reads and writes (no ACLs), as providers
# set up for team folders.
PUBLIC_23 = """
namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:%s
  subscriptions = no
}
"""
PUBLIC_24 = """
namespace public {
  type = public
  separator = /
  prefix = Public/
  mail_driver = maildir
  mail_path = %s
  subscriptions = no
}
"""


@pytest.fixture
def public(stack):
    """The test policy and a public namespace Public/ with a folder Team."""
    root = stack.paths.h("mail", "public")
    os.makedirs(root, exist_ok=True)
    os.chown(root, 8, 8)
    inner = stack.paths.i("mail", "public")
    stack.configure(policy_text=POLICY,
                    dovecot={"extra": {"2.3": PUBLIC_23 % inner, "2.4": PUBLIC_24 % inner}})
    stack.doveadm("mailbox", "create", "-u", stack.account("ceo").address, "Public/Team")
    return stack


def test_move_never_leaves_the_personal_namespace(public):
    """on_retrieve = move names a folder of the user's own mail (DESIGN.md):
    a name that Dovecot would resolve into the public namespace neither
    moves the user's mail there nor lets the user's retention purge what
    others keep there."""
    stack = public
    # The CEO (keep_after_retrieval = never) downloads a message and files
    # a copy in the team folder with IMAP: the copy keeps $POP3Retrieved.
    deliver(stack, "ceo", ["board minutes"])
    retrieve(stack, "ceo", [1])
    conn = clients.imap(stack, "ceo")
    try:
        typ, data = conn.select("INBOX")
        assert typ == "OK", data
        typ, data = conn.uid("COPY", "1", "Public/Team")
        assert typ == "OK", data
    finally:
        conn.logout()
    team = imap_flags(stack, "ceo", "Public/Team")
    assert len(team) == 1 and KW_RETRIEVED in list(team.values())[0], team

    # alice's panel lets her name the folder for downloaded mail.
    stack.set_userdb("alice", {"pop3_retention_on_retrieve": "move Public/Team",
                               "pop3_retention_keep_after_retrieval": "1d"})
    deliver(stack, "alice", ["alice's own"])
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1])

    # alice's mail stayed hers: not moved into the folder every user reads
    assert len(imap_flags(stack, "ceo", "Public/Team")) == 1
    flags = imap_flags(stack, "alice")
    assert list(flags) == [1] and KW_RETRIEVED in flags[1], flags
    errors = log_lines(stack, offsets, "Public/Team")
    assert any("alice@example.com" in e and "personal namespace" in e
               for e in errors), errors

    # alice's retention (1d) does not reach the CEO's copy (kept for ever)
    rows, totals = sweep(stack, "alice", as_of="+2d")
    assert [(r["mailbox"], r["uid"]) for r in rows] == [("INBOX", 1)], rows
    assert len(imap_flags(stack, "ceo", "Public/Team")) == 1
    assert stack.message_count("alice") == 0
