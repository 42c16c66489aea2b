"""pop3_retention with what real installations run next to it: sdbox and mdbox
as well as maildir, pop3_uidl_format and pop3_save_uidl, the stock quota plugin
(a purge frees quota at once), lazy_expunge, Dovecot's metrics, and the login
plugin for CAPA before login. Each test sets Dovecot up with stack.configure()
(the harness's options, the same on 2.3 and 2.4), which the harness undoes when
the test ends."""

import re

import pytest

from test_pop3_retention_support import (
    DAY, KW_DEFERRED, KW_RETRIEVED, POLICY, capa, deliver, imap_flags, leave_on_server,
    pop3_listing, retrieve, status, status_by_uid, sweep, swept_uids, uidl_map,
    wait_pop3_sessions_done)
from mailstack import clients

pytestmark = pytest.mark.plugin("pop3_retention")


@pytest.fixture
def dovecot_with(stack):
    """dovecot_with(**options): Dovecot with these harness options (undone when
    the test ends), the test policy installed."""
    def configure(**options):
        stack.configure(dovecot=options, policy_text=POLICY)
    return configure


@pytest.mark.parametrize("fmt", ["sdbox", "mdbox"])
def test_dbox_formats(stack, dovecot_with, fmt):
    dovecot_with(mail_format=fmt)
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
    dovecot_with(pop3_uidl_format="guid", pop3_save_uidl=True)
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
    stack.configure(dovecot={"pop3_uidl_format": None})
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
    stack.configure(policy_text=POLICY)
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


def test_with_lazy_expunge_loaded(stack, dovecot_with):
    dovecot_with(lazy_expunge="EXPUNGED")
    stack.configure(policy_text=POLICY.replace("keep_after_retrieval = 30d",
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


def _login_plugin(stack, policy_path):
    """Settings that load the login plugin into pop3-login (the harness does
    not write login_plugins itself)."""
    moddir = stack.paths.i("modules")
    return {
        "2.3": "login_plugin_dir = %s\n"
               "import_environment = $import_environment MAILPOLICY_CONFIG=%s\n"
               "protocol pop3 {\n  login_plugins = pop3_retention_login\n}\n"
               % (moddir, policy_path),
        "2.4": "login_plugin_dir = %s\n"
               "protocol pop3 {\n  login_plugins {\n    pop3_retention_login = yes\n  }\n}\n"
               % moddir,
    }


@pytest.mark.plugin("pop3_retention_login")
def test_capa_expire_before_login(stack, dovecot_with):
    dovecot_with(extra=_login_plugin(stack, stack.policy_path()))
    # the default block's value, USER: it varies per user after login
    assert capa(stack)["EXPIRE"] == ["30", "USER"]
    assert capa(stack, "bob")["EXPIRE"] == ["7"]
    # each connection is a new login process: a changed file shows at once
    stack.configure(policy_text=POLICY.replace("keep_after_retrieval = 30d",
                                         "keep_after_retrieval = never"))
    assert capa(stack)["EXPIRE"] == ["NEVER", "USER"]
    stack.configure(policy_text="# no pop3_retention block\n")
    assert "EXPIRE" not in capa(stack)
    stack.configure(policy_text=POLICY.replace("= 30d", "= 30x"))    # broken: stock
    assert "EXPIRE" not in capa(stack)
    assert "USER" in capa(stack)                              # the rest intact


METRIC = ("metric pop3_retention_purge {\n  filter = event=pop3_retention_purge\n"
          "  fields = messages bytes\n}\n")


def test_purges_are_events_dovecot_metrics_count(stack, dovecot_with):
    dovecot_with(extra=METRIC)
    stack.configure(policy_text=POLICY.replace("keep_after_retrieval = 30d",
                                               "keep_after_retrieval = 0"))
    deliver(stack, "alice", ["one", "two", "three"])
    sizes = sum(r["size"] for r in status(stack, "alice"))
    retrieve(stack, "alice", [1, 2])           # the session's purge: 2
    retrieve(stack, "alice", [1])              # another session: 1
    assert status(stack, "alice") == []
    proc = stack.doveadm("-f", "tab", "stats", "dump")
    lines = [ln.split("\t") for ln in proc.stdout.strip().split("\n")]
    assert lines[0][:4] == ["metric_name", "field", "count", "sum"], lines[0]
    got = {ln[1]: (int(ln[2]), int(ln[3])) for ln in lines[1:]
           if ln[0] == "pop3_retention_purge"}
    assert got["messages"] == (2, 3), got
    assert got["bytes"] == (2, sizes), (got, sizes)
