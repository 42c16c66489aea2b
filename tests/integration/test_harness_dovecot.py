"""The harness's Dovecot helpers on the session stack, on both dialects: options
per test (mail formats, namespaces, plugins per protocol, quota roots and rules,
POP3 UIDLs, LMTP +detail, Sieve), userdb fields, delivery helpers, doveadm
tables and log waits. Each test asserts what a client sees."""

import os
import re

import pytest

from mailstack import MAILDIR_PLUS_PLUS, HarnessError, clients


def _msg(to="alice@example.com", subject="test", size=None):
    return clients.message("sender@example.net", to, subject=subject, size=size)


def _append(stack, who, mailbox="INBOX", n=1, size=None):
    conn = clients.imap(stack, who)
    for i in range(n):
        clients.append(conn, mailbox, _msg(stack.account(who).address, "m%d" % i, size))
    conn.logout()


@pytest.mark.parametrize("fmt,directory", [("maildir", "Maildir"), ("sdbox", "sdbox"),
                                           ("mdbox", "mdbox")])
def test_mail_format(stack, fmt, directory):
    stack.configure(dovecot={"mail_format": fmt})
    _append(stack, "alice", n=2)
    assert stack.message_count("alice") == 2
    home = stack.mail_home("alice")
    assert os.path.isdir(os.path.join(home, directory))
    for other in {"Maildir", "sdbox", "mdbox"} - {directory}:
        assert not os.path.exists(os.path.join(home, other))


def test_maildir_plus_plus_namespace(stack):
    """Separator . and prefix INBOX.: what a Courier-era client sees."""
    stack.configure(dovecot=dict(MAILDIR_PLUS_PLUS, autocreate=["Archive"]))
    conn = clients.imap(stack, "carol")
    assert conn.create("INBOX.Projects.apollo")[0] == "OK"
    clients.append(conn, "INBOX.Projects.apollo", _msg("carol@example.com"))
    typ, listing = conn.list('""', "*")
    names = b"\n".join(listing)
    assert b'"." INBOX.Archive' in names
    assert b'"." INBOX.Projects.apollo' in names
    conn.logout()
    assert stack.message_count("carol", "INBOX.Projects.apollo") == 1


def test_a_global_stock_plugin_reaches_imap_and_pop3(stack):
    """lazy_expunge in every process (the 2.3 trap: a top-level mail_plugins written
    after the protocol blocks never reached imap or pop3)."""
    stack.configure(dovecot={"lazy_expunge": "Expunged"})
    _append(stack, "bob", n=2)
    conn = clients.imap(stack, "bob")
    conn.select("INBOX")
    conn.store("1", "+FLAGS", "\\Deleted")
    assert conn.expunge()[0] == "OK"
    conn.logout()
    pop = clients.pop3(stack, "bob")
    pop.dele(1)
    pop.quit()
    assert stack.message_count("bob") == 0
    assert stack.message_count("bob", "Expunged") == 2


def test_a_stock_plugin_for_one_protocol_only(stack):
    stack.configure(dovecot={"lazy_expunge": "Expunged", "plugins": {"pop3": ["lazy_expunge"]}})
    _append(stack, "bob", n=2)
    conn = clients.imap(stack, "bob")
    conn.select("INBOX")
    conn.store("1", "+FLAGS", "\\Deleted")
    conn.expunge()
    conn.logout()
    assert stack.message_count("bob", "Expunged") == 0  # imap does not load it
    pop = clients.pop3(stack, "bob")
    pop.dele(1)
    pop.quit()
    assert stack.message_count("bob", "Expunged") == 1  # pop3 does


def test_plugins_in_the_wrong_place_are_refused(stack):
    with pytest.raises(HarnessError, match="only under protocol imap"):
        stack.configure(dovecot={"plugins": {"*": ["imap_quota"]}})
    with pytest.raises(HarnessError, match="unknown Dovecot option"):
        stack.configure(dovecot={"mail_fromat": "sdbox"})
    with pytest.raises(HarnessError, match="not installed"):
        stack.configure(dovecot={"plugins": {"imap": ["no_such_thing"]}})
    clients.imap(stack, "alice").logout()  # the stack still runs


@pytest.mark.parametrize("tempfail,reply", [(False, (552, "5.2.2")), (True, (452, "4.2.2"))],
                         ids=["quota-full-refuses", "quota-full-tempfail"])
def test_quota_full_delivery(stack, tempfail, reply):
    stack.configure(dovecot={"quota_full_tempfail": tempfail})
    _append(stack, "dave", size=8000)
    stack.set_userdb("dave", stack.quota_fields(storage="1K"))
    result = stack.lmtp_send("dave@example.org", _msg("dave@example.org"))
    code, text = result["dave@example.org"]
    assert (code, text.split()[0].decode()) == reply, text
    lda = stack.deliver_lda("dave", _msg("dave@example.org"), check=False)
    assert lda.returncode == (75 if tempfail else 77), lda.stderr
    assert "Quota exceeded" in lda.stderr, lda.stderr
    assert stack.message_count("dave") == 1


def test_quota_roots_and_mailbox_rules(stack):
    stack.configure(dovecot={"autocreate": ["Trash"], "quota": [
        {"name": "User quota", "storage": "20K", "mailboxes": {"Trash": {"ignore": True}}},
        {"name": "Messages", "messages": 2}]})
    rows = {(r["Quota name"], r["Type"]): r["Limit"]
            for r in stack.doveadm_rows("quota", "get", "-u", "carol@example.com")}
    assert rows[("User quota", "STORAGE")] == "20"
    assert rows[("Messages", "MESSAGE")] == "2" and rows[("Messages", "STORAGE")] == "-"
    conn = clients.imap(stack, "carol")
    big = _msg("carol@example.com", size=30000)
    assert conn.append("INBOX", None, None, big)[0] == "NO"
    clients.append(conn, "Trash", big)  # Trash is ignored by the user quota
    typ, data = conn.getquotaroot("INBOX")
    assert data[0][0] == b'INBOX "User quota" Messages'
    conn.logout()


@pytest.mark.parametrize("backend", ["count", "maildir"])
def test_quota_backends(stack, backend):
    stack.configure(dovecot={"quota": [{"name": "User quota", "backend": backend,
                                        "storage": "20K"}]})
    conn = clients.imap(stack, "bob")
    assert conn.append("INBOX", None, None, _msg("bob@example.org", size=30000))[0] == "NO"
    clients.append(conn, "INBOX", _msg("bob@example.org", size=5000))
    conn.logout()
    row = [r for r in stack.doveadm_rows("quota", "get", "-u", "bob@example.org")
           if r["Type"] == "STORAGE"][0]
    assert row["Limit"] == "20" and 5 <= int(row["Value"]) <= 6


def test_userdb_fields_reach_dovecot_as_written(stack):
    postfix, dovecot = stack.state["pids"]["postfix"], stack.state["pids"]["dovecot"]
    fields = {"pop3_retention_on_dele": "defer 7d", "odd_value": "50% 'quoted' \\ {x}",
              "folder_quota_rule": "Archive:storage=10G:messages=0"}
    stack.set_userdb("alice", fields)
    seen = stack.userdb("alice")
    for key, value in fields.items():
        assert seen[key] == value
    assert "pop3_retention_on_dele" not in stack.userdb("carol")
    # Only userdb fields changed: no server restarted.
    assert stack.state["pids"]["postfix"] == postfix and stack.state["pids"]["dovecot"] == dovecot
    stack.set_userdb("alice", {"odd_value": None})
    assert "odd_value" not in stack.userdb("alice") and "folder_quota_rule" in stack.userdb("alice")
    assert stack.account("alice").extra == {"pop3_retention_on_dele": "defer 7d",
                                            "folder_quota_rule": "Archive:storage=10G:messages=0"}


def test_a_users_quota_from_userdb(stack):
    stack.set_userdb("bob", stack.quota_fields(storage="2M"))
    limit = [r["Limit"] for r in stack.doveadm_rows("quota", "get", "-u", "bob@example.org")
             if r["Type"] == "STORAGE"]
    assert limit == ["2048"]


@pytest.mark.parametrize("save", [False, True], ids=["uidl-follows-format", "uidl-saved"])
def test_pop3_uidl_format_and_save(stack, save):
    stack.configure(dovecot={"pop3_uidl_format": "%08Xu%08Xv", "pop3_save_uidl": save})
    _append(stack, "dave")
    pop = clients.pop3(stack, "dave")
    first = pop.uidl()[1][0].split()[1].decode()
    pop.quit()
    assert re.match(r"^00000001[0-9a-f]{8}$", first), first
    stack.configure(dovecot={"pop3_uidl_format": "%u"})
    pop = clients.pop3(stack, "dave")
    second = pop.uidl()[1][0].split()[1].decode()
    pop.quit()
    assert second == (first if save else "1")


def test_lmtp_detail_mailbox_over_postfix(stack, send):
    """user+detail@ through Postfix (recipient_delimiter +) into the mailbox detail."""
    assert send(stack, "mx", "alice+Projects@example.com") == {}
    stack.wait_for_messages("alice", 1)  # without the option: INBOX
    stack.configure(dovecot={"lmtp_save_to_detail_mailbox": True, "lda_mailbox_autocreate": True})
    assert send(stack, "mx", "alice+Projects@example.com") == {}
    stack.wait_for_messages("alice", 1, mailbox="Projects")
    assert stack.message_count("alice") == 1


def test_sieve_fileinto_over_lmtp_and_lda(stack):
    stack.configure(dovecot={"sieve": True})
    stack.set_sieve("carol", 'require ["fileinto", "mailbox"];\nfileinto :create "Filed";\n')
    assert stack.lmtp_send("carol@example.com", _msg("carol@example.com"))["carol@example.com"][0] == 250
    stack.deliver_lda("carol", _msg("carol@example.com"))
    assert stack.message_count("carol", "Filed") == 2 and stack.message_count("carol") == 0
    with pytest.raises(HarnessError, match="does not compile"):
        stack.set_sieve("carol", 'fileinto "Filed";\n')  # fileinto without require


def test_lda_and_doveadm_save_into_a_mailbox(stack):
    conn = clients.imap(stack, "ceo")
    conn.create("Board")
    conn.logout()
    stack.deliver_lda("ceo", _msg("ceo@example.org"), mailbox="Board")
    stack.doveadm_save("ceo", _msg("ceo@example.org"), mailbox="Board")
    assert stack.message_count("ceo", "Board") == 2
    with pytest.raises(HarnessError, match="doveadm"):
        stack.doveadm_save("ceo", _msg("ceo@example.org"), mailbox="No such box")


def test_lmtp_send_gives_each_recipient_its_reply(stack):
    result = stack.lmtp_send(["alice@example.com", "nobody@example.com", "bob@example.org"], _msg())
    assert result["alice@example.com"][0] == 250 and result["bob@example.org"][0] == 250
    assert result["nobody@example.com"][0] == 550
    assert stack.message_count("alice") == 1 and stack.message_count("bob") == 1


def test_doveadm_rows(stack):
    _append(stack, "alice", n=3)
    conn = clients.imap(stack, "alice")
    conn.create("Archive")
    conn.logout()
    rows = stack.doveadm_rows("mailbox", "status", "-u", "alice@example.com", "messages", "*")
    assert {r["mailbox"]: r["messages"] for r in rows}["INBOX"] == "3"
    assert {r["mailbox"] for r in rows} >= {"INBOX", "Archive"}
    with pytest.raises(HarnessError, match="doveadm"):
        stack.doveadm_rows("mailbox", "status", "-u", "nobody@example.com", "messages", "INBOX")


def test_wait_for_log(stack):
    clients.imap(stack, "alice").logout()
    m = stack.wait_for_log(r"imap\((alice@example.com)\).*Logged out", ["dovecot"])
    assert m.group(1) == "alice@example.com"
    with pytest.raises(HarnessError, match="no line matching"):
        stack.wait_for_log(r"never written by anyone", ["dovecot"], timeout=0.3)
