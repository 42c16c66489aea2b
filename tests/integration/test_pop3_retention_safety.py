"""pop3_retention never expunges, moves or hides mail its policy does not
name: folder names that lead out of the user's own mail, and hostile values.

Real Dovecot with the plugin, real poplib/imaplib clients; what is asserted is
what users see (the messages still there, and where).
"""

import os
import poplib
import time

import pytest

from mailstack import clients

from test_pop3_retention_support import (
    DAY, KW_DEFERRED, KW_HIDDEN, KW_RETRIEVED, POLICY, deliver, imap_flags,
    log_lines, pop3_listing, retrieve, status, status_by_uid, sweep, uidl_map,
    wait_pop3_sessions_done)

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


# The harness writes no line break into a userdb value (its files are
# line-based); SQL and LDAP userdbs return them as stored. This stands for
# CR LF in set_userdb() and is put into the user files afterwards.
CRLF = "@@CRLF@@"
# Far longer values make Dovecot itself fail the lookup before a plugin
# sees them (2.3: "auth-worker: Worker is buggy"; 2.4's auth panics in
# var_expand on a 64 KiB %{literal()}).
LONG = 4000


def _crlf_in_userdb(stack, who):
    """Turn CRLF in the user files into a real CR LF, as a SQL or LDAP
    userdb would return it, and wait until Dovecot returns it."""
    if stack.dialect == "2.3":
        rel, raw = ("etc", "dovecot", "userdb.dict"), "\\r\\n"    # JSON escapes
    else:
        rel, raw = ("etc", "dovecot", "users"), "\\x0d\\x0a"      # inside %{literal()}
    path = stack.paths.h(*rel)
    with open(path) as f:
        text = f.read()
    assert CRLF in text, path
    st = os.stat(path)
    with open(path, "w") as f:
        f.write(text.replace(CRLF, raw))
    # a new mtime of its own: Dovecot's passwd-file looks at most once a second
    os.utime(path, (st.st_atime, st.st_mtime + 2))
    deadline = time.monotonic() + 10
    while "\r" not in stack.doveadm("user", stack.account(who).address).stdout:
        assert time.monotonic() < deadline, "Dovecot does not return the CR LF"
        time.sleep(0.2)


def test_hostile_userdb_values_are_logged_tamed(stack):
    """A userdb value with CR/LF, or 4000 bytes long, is refused (the file's value
    stands) and logged as one bounded line: it cannot forge log lines."""
    stack.configure(policy_text=POLICY)
    forged = "pop3(ceo@example.org): Info: forged by alice"
    stack.set_userdb("alice", {
        "pop3_retention_keep_after_retrieval": "0" + CRLF + forged,
        "pop3_retention_on_dele": "defer " + "9" * LONG + "d",
    })
    _crlf_in_userdb(stack, "alice")
    deliver(stack, "alice", ["one"])
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1])
    text = stack.log_since(offsets)["dovecot"]
    lines = text.split("\n")
    refused = [ln for ln in lines if "Ignoring the userdb field" in ln]
    assert len(refused) == 2, refused
    # the forged text stays inside alice's warning line
    assert [ln for ln in lines if "forged by alice" in ln] == [
        ln for ln in refused if "keep_after_retrieval" in ln], lines
    assert "\r" not in text
    # the long value is not copied whole into the log
    assert max(len(ln) for ln in refused) < 2048
    # the file's values stand: kept 30 days, not purged at once
    st = status(stack, "alice")
    assert [r["state"] for r in st] == ["retrieved"], st
    assert st[0]["expires"] == st[0]["retrieved"] + 30 * DAY


def test_a_dele_while_the_policy_cannot_be_loaded_deletes_nothing(stack):
    """alice's policy defers a DELE by 7 days (an undo window). When the file
    is broken at her QUIT, nobody knows what her DELE should do: it is not
    applied, QUIT answers -ERR [SYS/TEMP] (RFC 1939: "some deleted messages
    not removed"), the message stays and POP3 lists it again. Once the file
    is fixed, the same DELE is deferred as the policy says."""
    stack.configure(policy_text=POLICY)
    deliver(stack, "alice", ["one", "two"])
    stack.configure(policy_text=POLICY.replace("defer 7d", "sometimes"))
    offsets = stack.log_offsets()

    conn = clients.pop3(stack, "alice")
    uidls = uidl_map(conn)
    resp, lines, _ = conn.retr(1)
    assert resp.startswith(b"+OK") and lines, resp
    assert conn.dele(1).startswith(b"+OK")
    assert conn.dele(2).startswith(b"+OK")
    with pytest.raises(poplib.error_proto) as quit_err:
        conn.quit()
    conn.close()
    wait_pop3_sessions_done(stack)
    assert quit_err.value.args[0].startswith(b"-ERR [SYS/TEMP] "), quit_err.value
    errors = log_lines(stack, offsets, "pop3_retention: Cannot load the policy")
    assert errors and "%s:3:" % stack.policy_path() in errors[0], errors

    # nothing deleted, nothing hidden
    assert stack.message_count("alice") == 2
    assert pop3_listing(stack, "alice") == sorted(uidls.values())
    assert not any(f & {KW_HIDDEN, KW_DEFERRED} for f in imap_flags(stack, "alice").values())

    stack.configure(policy_text=POLICY)
    retrieve(stack, "alice", [], dele=[1])
    assert stack.message_count("alice") == 2
    assert pop3_listing(stack, "alice") == [uidls[2]]
    assert status_by_uid(stack, "alice")[1]["state"] == "deferred"


def test_move_into_a_folder_that_refuses_mail_loses_nothing(stack):
    """on_retrieve = move when the folder takes no mail (here its Maildir is
    read-only; stock Dovecot does not check the user's quota on a move
    within the user's mail): nothing moves, nothing is lost, the messages
    stay retrieved in INBOX under the same retention, and the failure is
    logged."""
    stack.configure(policy_text=POLICY + "pop3_retention user alice@example.com {\n"
                    "  on_retrieve = move Archive/POP3\n}\n")
    deliver(stack, "alice", ["one", "two", "three"])
    stack.doveadm("mailbox", "create", "-u", "alice@example.com", "Archive/POP3")
    folder = os.path.join(stack.mail_home("alice"), "Maildir", ".Archive.POP3")
    for sub in ("tmp", "new", "cur"):
        os.chmod(os.path.join(folder, sub), 0o555)
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1, 3])

    flags = imap_flags(stack, "alice")
    assert sorted(flags) == [1, 2, 3]
    assert KW_RETRIEVED in flags[1] and KW_RETRIEVED in flags[3]
    assert stack.message_count("alice", "Archive/POP3") == 0
    errors = log_lines(stack, offsets, "Cannot move UID")
    assert errors and "alice@example.com" in errors[0], errors
    st = status_by_uid(stack, "alice")
    assert [st[u]["state"] for u in (1, 2, 3)] == ["retrieved", "new", "retrieved"]
    assert st[1]["expires"] == st[1]["retrieved"] + 30 * DAY


def test_an_empty_mailpolicy_config_is_no_policy_not_the_default_file(stack):
    """A userdb (or an expansion such as %{userdb:policy_file}) that gives
    mailpolicy_config an empty value names no file: the user is inert and
    the sweep fails, as with any unusable path. It is not the packaged
    default file, whose retention may be anything (here: keep 0)."""
    stack.configure(policy_text=POLICY)
    default = saved = None
    made_dir = False
    if stack.dialect == "2.4":
        # the packaged default, inside the Debian 13 tree (never the host's
        # /etc); the package test installs one there: set it aside
        default = os.path.join(stack.platform.root, "etc", "mailpolicy", "mailpolicy.conf")
        if os.path.exists(default):
            saved = default + ".mailpolicy-test-saved"
            os.rename(default, saved)
        elif not os.path.isdir(os.path.dirname(default)):
            os.makedirs(os.path.dirname(default))
            made_dir = True
        with open(default, "w") as f:
            f.write("pop3_retention {\n  keep_after_retrieval = 0\n}\n")
    try:
        stack.set_userdb("alice", {"mailpolicy_config": ""})
        deliver(stack, "alice", ["one"])
        offsets = stack.log_offsets()
        retrieve(stack, "alice", [1])
        assert stack.message_count("alice") == 1
        errors = log_lines(stack, offsets, "pop3_retention: Cannot load the policy")
        assert errors and "mailpolicy_config" in errors[0], errors
        # far past any retention: a sweep that loaded some policy would expunge
        proc = stack.doveadm("pop3-retention", "sweep", "--as-of", "+3650d",
                             "-u", "alice@example.com", check=False)
        assert proc.returncode != 0, proc
        assert "mailpolicy_config" in proc.stderr, proc.stderr
        assert stack.message_count("alice") == 1
    finally:
        if default is not None:
            os.unlink(default)
            if saved is not None:
                os.rename(saved, default)
            elif made_dir:
                os.rmdir(os.path.dirname(default))


def test_two_sessions_at_once_keep_what_one_of_them_deleted(stack):
    """Two POP3 sessions of one user at once (pop3_lock_session = no, the
    default): both RETR a message, one DELEs it and QUITs first, then the
    other QUITs. The DELE is deferred as the policy says; neither session's
    on_retrieve = move takes the kept DELE out of INBOX, and nothing else
    moves or goes."""
    stack.configure(policy_text=POLICY)
    stack.set_userdb("alice", {"pop3_retention_on_retrieve": "move Archive/POP3"})
    deliver(stack, "alice", ["one", "two"])
    first = clients.pop3(stack, "alice")
    second = clients.pop3(stack, "alice")
    uidls = uidl_map(first)
    for conn in (first, second):
        resp, lines, _ = conn.retr(1)
        assert resp.startswith(b"+OK") and lines, resp
    assert second.dele(1).startswith(b"+OK")
    assert second.quit().startswith(b"+OK")
    assert first.quit().startswith(b"+OK")
    wait_pop3_sessions_done(stack)

    assert sorted(imap_flags(stack, "alice")) == [1, 2]
    assert stack.message_count("alice", "Archive/POP3") == 0
    st = status_by_uid(stack, "alice")
    assert [st[1]["state"], st[2]["state"]] == ["deferred", "new"]
    assert st[1]["expires"] > st[1]["retrieved"] + 7 * DAY - 5
    assert pop3_listing(stack, "alice") == [uidls[2]]


def test_a_recreated_mailbox_carries_no_old_times(stack):
    """The INBOX's UIDVALIDITY changes (dovecot-uidlist and the index lost, as
    when a mailbox is rebuilt or restored): the keywords in the file names
    survive, the times do not. The retrieved message is re-stamped "now",
    the others stay new, nothing expires earlier than before."""
    stack.configure(policy_text=POLICY)
    deliver(stack, "alice", ["one", "two", "three"])
    retrieve(stack, "alice", [2])
    before = status_by_uid(stack, "alice")
    validity = before[2]["uidl"][8:]
    while int(time.time()) <= before[2]["retrieved"]:
        time.sleep(0.1)
    stack.kick_all()
    maildir = os.path.join(stack.mail_home("alice"), "Maildir")
    for f in os.listdir(maildir):
        if f.startswith("dovecot.index") or f.startswith("dovecot-uidlist"):
            os.unlink(os.path.join(maildir, f))
    os.unlink(os.path.join(maildir, "dovecot-uidvalidity"))

    after = status(stack, "alice")
    assert len(after) == 3
    assert all(r["uidl"][8:] != validity for r in after), (validity, after)
    retrieved = [r for r in after if r["state"] == "retrieved"]
    assert len(retrieved) == 1 and retrieved[0]["retrieved"] > before[2]["retrieved"]
    assert sorted(r["state"] for r in after) == ["new", "new", "retrieved"]
    assert sweep(stack, "alice", as_of=before[2]["expires"])[0] == []
    assert stack.message_count("alice") == 3


@pytest.mark.parametrize("name", ["../../../../escape", "~root/escape", "INBOX/../escape"])
def test_a_move_folder_name_cannot_leave_the_mail_directory(stack, name):
    """A hostile on_retrieve = move name from the userdb: Dovecot refuses it
    (logged), nothing is created outside the user's mail, and the retrieved
    message stays in INBOX."""
    stack.configure(policy_text=POLICY)
    stack.set_userdb("alice", {"pop3_retention_on_retrieve": "move " + name})
    deliver(stack, "alice", ["one"])
    runtime = os.path.dirname(stack.paths.h("mail"))
    before = {os.path.join(d, f) for d, _, fs in os.walk(runtime) for f in fs + [""]}
    retrieve(stack, "alice", [1])
    created = {os.path.join(d, f) for d, _, fs in os.walk(runtime) for f in fs + [""]} - before
    assert not [p for p in created if "escape" in p and
                not p.startswith(stack.mail_home("alice") + os.sep)], created
    flags = imap_flags(stack, "alice")
    assert list(flags) == [1] and KW_RETRIEVED in flags[1], flags
