"""pop3_retention with what real installations run next to it: sdbox and mdbox
as well as maildir, pop3_uidl_format and pop3_save_uidl, the stock quota plugin
(a purge frees quota at once) and lazy_expunge. Each restarts Dovecot with its
settings and puts the stack's defaults back afterwards."""

import re

import pytest

from test_pop3_retention_support import (
    DAY, KW_DEFERRED, KW_RETRIEVED, POLICY, deliver, imap_flags, leave_on_server,
    pop3_listing, retrieve, status, status_by_uid, sweep, swept_uids, uidl_map,
    wait_pop3_sessions_done)
from mailstack import clients

pytestmark = pytest.mark.plugin("pop3_retention")


def _dialect(stack):
    return stack.platform.dovecot_dialect


@pytest.fixture
def dovecot_with(stack):
    """dovecot_with({"2.3": text, "2.4": text}): restart Dovecot with these
    settings appended; the defaults come back after the test."""
    def restart(extra):
        stack.start(["dovecot"], dovecot_extra=extra[_dialect(stack)])
        stack.reset(policy_text=POLICY)
    yield restart
    stack.start(["dovecot"], dovecot_extra="")


FORMATS = {
    "mdbox": {"2.3": "mail_location = mdbox:~/mdbox\n",
              "2.4": "mail_driver = mdbox\nmail_path = ~/mdbox\n"},
    "sdbox": {"2.3": "mail_location = sdbox:~/sdbox\n",
              "2.4": "mail_driver = sdbox\nmail_path = ~/sdbox\n"},
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_dbox_formats(stack, dovecot_with, fmt):
    dovecot_with(FORMATS[fmt])
    deliver(stack, "alice", ["one", "two", "three", "four"])
    first = leave_on_server(stack, "alice")
    assert len(first) == 4
    uidls = retrieve(stack, "alice", [], dele=[2])
    assert sorted(pop3_listing(stack, "alice")) == sorted(u for n, u in uidls.items() if n != 2)
    flags = imap_flags(stack, "alice")
    assert KW_RETRIEVED in flags[1] and KW_DEFERRED in flags[2]

    st = status_by_uid(stack, "alice")
    assert [st[u]["state"] for u in (1, 2, 3, 4)] == ["retrieved", "deferred", "retrieved", "retrieved"]
    assert [r["uidl"] for r in status(stack, "alice")] == [uidls[n] for n in (1, 2, 3, 4)]
    rows, _ = sweep(stack, "alice", as_of=st[2]["expires"])
    assert swept_uids(rows) == [2]
    rows, _ = sweep(stack, "alice", as_of=st[1]["retrieved"] + 30 * DAY)
    assert swept_uids(rows) == [1, 3, 4]
    assert imap_flags(stack, "alice") == {}


def test_pop3_uidl_format_and_pop3_save_uidl(stack, dovecot_with):
    guid_format = {"2.3": "pop3_uidl_format = %g\n", "2.4": "pop3_uidl_format = %{guid}\n"}
    save = "pop3_save_uidl = yes\n"
    dovecot_with({k: v + save for k, v in guid_format.items()})
    deliver(stack, "alice", ["one", "two"])
    conn = clients.pop3(stack, "alice")
    saved = uidl_map(conn)          # pop3_save_uidl stores these
    assert conn.quit().startswith(b"+OK")
    wait_pop3_sessions_done(stack)
    guids = stack.doveadm("-f", "tab", "fetch", "-u", "alice@example.com", "guid",
                          "mailbox", "INBOX").stdout.split("\n")[1:3]
    assert [saved[1], saved[2]] == guids
    assert [r["uidl"] for r in status(stack, "alice")] == [saved[1], saved[2]]

    # Another format now: clients keep seeing the saved UIDLs, and so
    # does status; a new message gets the new format.
    stack.start(["dovecot"], dovecot_extra=save)
    deliver(stack, "alice", ["three"])
    conn = clients.pop3(stack, "alice")
    now = uidl_map(conn)
    conn.retr(3)
    assert conn.quit().startswith(b"+OK")
    wait_pop3_sessions_done(stack)
    assert now[1] == saved[1] and now[2] == saved[2]
    assert re.fullmatch("[0-9a-fA-F]{16}", now[3]), now     # the default format
    rows = status(stack, "alice")
    assert [r["uidl"] for r in rows] == [now[1], now[2], now[3]]
    assert rows[2]["state"] == "retrieved"


def _quota(stack, who):
    proc = stack.doveadm("-f", "tab", "quota", "get", "-u", stack.account(who).address)
    lines = proc.stdout.strip().split("\n")
    assert lines[0].split("\t")[:3] == ["Quota name", "Type", "Value"], lines
    return {f[1]: int(f[2]) for f in (ln.split("\t") for ln in lines[1:])}


def test_a_purge_frees_quota_at_once(stack):
    stack.reset(policy_text=POLICY)
    deliver(stack, "bob", ["one", "two", "three"], size=20000)
    retrieve(stack, "bob", [1, 2])
    before = _quota(stack, "bob")
    assert before["MESSAGE"] == 3
    rows, totals = sweep(stack, "bob", as_of="+7d")
    assert swept_uids(rows) == [1, 2]
    after = _quota(stack, "bob")
    assert after["MESSAGE"] == 1
    # STORAGE is in kilobytes: two 20 KB messages left it
    assert before["STORAGE"] - after["STORAGE"] >= 2 * 19


LAZY = {
    "2.3": "protocol pop3 {\n  mail_plugins = $mail_plugins lazy_expunge\n}\n"
           "protocol doveadm {\n  mail_plugins = $mail_plugins lazy_expunge\n}\n"
           "plugin {\n  lazy_expunge = EXPUNGED\n}\n",
    "2.4": "protocol pop3 {\n  mail_plugins {\n    lazy_expunge = yes\n  }\n}\n"
           "protocol doveadm {\n  mail_plugins {\n    lazy_expunge = yes\n  }\n}\n"
           "lazy_expunge_mailbox = EXPUNGED\n",
}


def test_with_lazy_expunge_loaded(stack, dovecot_with):
    dovecot_with(LAZY)
    stack.reset(policy_text=POLICY.replace("keep_after_retrieval = 30d",
                                           "keep_after_retrieval = 0"))
    deliver(stack, "alice", ["one", "two", "three"])
    # keep 0: the end of the session purges; lazy_expunge keeps a copy
    retrieve(stack, "alice", [1], dele=[2])
    assert sorted(imap_flags(stack, "alice")) == [2, 3]
    assert len(imap_flags(stack, "alice", "EXPUNGED")) == 1
    # a kept DELE is not an expunge: nothing went to EXPUNGED for it
    st = status_by_uid(stack, "alice")
    assert st[2]["state"] == "deferred"
    rows, _ = sweep(stack, "alice", as_of=st[2]["expires"])
    assert swept_uids(rows) == [2]
    assert len(imap_flags(stack, "alice", "EXPUNGED")) == 2
    assert sorted(imap_flags(stack, "alice")) == [3]
