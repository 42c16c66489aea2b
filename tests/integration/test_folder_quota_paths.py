"""folder_quota on every way mail enters a folder, one after the other on the
same folder, with GETQUOTA and GETQUOTAROOT read after each from one
long-lived IMAP session (and STATUS from it) so that a usage cached across
commands, or not seen after another process's change, would show.

IMAP APPEND, MULTIAPPEND, CATENATE, COPY, MOVE, UID MOVE; LMTP with +detail
and with Sieve fileinto; dovecot-lda -m; doveadm save, move and import.
Into a full `when_full = expunge_oldest` folder each makes room by its
oldest; into a full folder that refuses, IMAP and doveadm are refused and
delivery lands in INBOX.  Dovecot runs with +detail delivery and Sieve in
LMTP/LDA for this module.
"""

import pytest

from test_folder_quota_util import (
    RawImap, append, append_ok, create, getquota, imap, literal, message,
    quotaroot, select, status, subjects, uid_command)

pytestmark = pytest.mark.plugin("folder_quota")

DELIVERY = {"recipient_delimiter": "+", "lmtp_save_to_detail_mailbox": True, "sieve": True}

# carol's Src is the doveadm import source; only Trash is governed
POLICY = """
folder_quota {
  folder Trash {
    messages = 3
    when_full = %s
  }
}
"""

SIZE = 500


@pytest.fixture(scope="module")
def delivery(stack):
    with stack.scoped(dovecot=DELIVERY):
        yield stack


class Walk:
    """The paths, in order, each with what it should leave in Trash."""

    def __init__(self, stack, expunge):
        self.stack = stack
        self.expunge = expunge
        self.live = imap(stack, "alice")      # never logs out before the end
        self.trash = []                          # expected subjects, oldest first
        self.inbox = []

    def check(self, what):
        c = imap(self.stack, "alice")
        assert subjects(c, "Trash") == self.trash, what
        assert subjects(c, "INBOX") == self.inbox, what
        c.logout()
        n = len(self.trash)
        assert status(self.live, "Trash", "MESSAGES")["MESSAGES"] == n, what
        assert getquota(self.live, "Folder Trash") == {"MESSAGE": (n, 3)}, what
        roots, quotas = quotaroot(self.live, "Trash")
        assert "Folder Trash" in roots, (what, roots)
        assert quotas["Folder Trash"] == {"MESSAGE": (n, 3)}, what

    def saved(self, *names, into_inbox=False):
        """names went into Trash (or, refused there, into INBOX)."""
        for name in names:
            if self.expunge:
                self.trash.append(name)
                if len(self.trash) > 3:
                    self.trash.pop(0)
            elif into_inbox:
                self.inbox.append(name)


def doveadm_saved(proc, expunge):
    """A doveadm save/move/import into Trash: done when the folder makes room,
    else refused because of Trash's limit (not failed for another reason)."""
    if expunge:
        assert proc.returncode == 0, (proc.returncode, proc.stderr)
    else:
        assert proc.returncode != 0, proc.stdout
        assert "Quota exceeded in folder Trash " in proc.stderr, proc.stderr


def deliver(stack, rcpt, subject):
    code, text = stack.lmtp_send([rcpt], message(SIZE, subject))[rcpt]
    assert code == 250, (rcpt, code, text)


@pytest.mark.parametrize("when_full", ["expunge_oldest", "refuse"])
def test_every_way_in_keeps_the_limit_and_the_report(delivery, when_full):
    stack = delivery
    stack.reset(policy_text=POLICY % when_full)
    expunge = when_full == "expunge_oldest"
    walk = Walk(stack, expunge)
    c = walk.live
    create(c, "Trash")
    for i in range(3):
        append_ok(c, "Trash", message(SIZE, "t%d" % i))
    walk.trash = ["t0", "t1", "t2"]
    walk.check("filled")

    def imap_saved(typ, txt, what, *names):
        if expunge:
            assert typ == "OK", "%s: %s %s" % (what, typ, txt)
            walk.saved(*names)
        else:
            assert typ == "NO" and "[OVERQUOTA]" in txt, "%s: %s %s" % (what, typ, txt)
        walk.check(what)

    typ, txt = append(c, "Trash", message(SIZE, "append"))
    imap_saved(typ, txt, "APPEND", "append")

    raw = RawImap(stack, "alice")
    typ, txt, _ = raw.command(b"APPEND Trash " + literal(message(SIZE, "multi0")) +
                              b" " + literal(message(SIZE, "multi1")))
    imap_saved(typ, txt, "MULTIAPPEND", "multi0", "multi1")
    typ, txt, _ = raw.command(b"APPEND Trash CATENATE (TEXT " +
                              literal(message(SIZE, "catenate")) + b")")
    imap_saved(typ, txt, "CATENATE", "catenate")
    raw.close()

    # COPY, MOVE, UID MOVE from INBOX
    for name in ("copy", "move", "uidmove"):
        append_ok(c, "INBOX", message(SIZE, name))
    walk.inbox = ["copy", "move", "uidmove"]
    walk.check("INBOX filled")
    select(c, "INBOX")
    typ, data = c.copy("1", '"Trash"')
    typ_txt = " ".join(d.decode() if isinstance(d, bytes) else str(d) for d in data)
    c.unselect()
    imap_saved(typ, typ_txt, "COPY", "copy")
    select(c, "INBOX")
    typ, data = c._simple_command("MOVE", "2", '"Trash"')
    typ_txt = " ".join(d.decode() if isinstance(d, bytes) else str(d) for d in data or [])
    c.unselect()
    if expunge:
        walk.inbox.remove("move")
    imap_saved(typ, typ_txt, "MOVE", "move")
    select(c, "INBOX")
    uid = c.uid("SEARCH", None, "SUBJECT", "uidmove")[1][0].decode()
    typ, txt = uid_command(c, "MOVE", uid, "Trash")
    c.unselect()
    if expunge:
        walk.inbox.remove("uidmove")
    imap_saved(typ, txt, "UID MOVE", "uidmove")

    # delivery: +detail, Sieve fileinto, dovecot-lda -m
    deliver(stack, "alice+Trash@example.com", "detail")
    walk.saved("detail", into_inbox=True)
    walk.check("LMTP +detail")
    stack.set_sieve("alice", 'require "fileinto";\nfileinto "Trash";\n')
    deliver(stack, "alice@example.com", "sieve")
    walk.saved("sieve", into_inbox=True)
    walk.check("LMTP Sieve fileinto")
    stack.set_sieve("alice", None)
    proc = stack.deliver_lda("alice", message(SIZE, "lda"), mailbox="Trash",
                             sender="sender@example.net", check=False)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    walk.saved("lda", into_inbox=True)
    walk.check("dovecot-lda -m")

    # doveadm save, move, import
    proc = stack.doveadm("save", "-u", "alice@example.com", "-m", "Trash",
                         input=message(SIZE, "dsave"), check=False)
    doveadm_saved(proc, expunge)
    walk.saved("dsave")
    walk.check("doveadm save")
    append_ok(c, "INBOX", message(SIZE, "dmove"))
    walk.inbox.append("dmove")
    proc = stack.doveadm("move", "-u", "alice@example.com", "Trash",
                         "mailbox", "INBOX", "subject", "dmove", check=False)
    doveadm_saved(proc, expunge)
    if expunge:
        walk.inbox.remove("dmove")
    walk.saved("dmove")
    walk.check("doveadm move")
    stack.doveadm("mailbox", "create", "-u", "carol@example.com", "Trash")
    stack.doveadm_save("carol", message(SIZE, "dimport"), mailbox="Trash")
    home = stack.doveadm("user", "-f", "home", "carol@example.com").stdout.strip()
    assert home.startswith("/"), home
    # carol's Trash is governed too, but holds one message; the source is
    # read as plain Maildir++
    proc = stack.doveadm("import", "-u", "alice@example.com", "maildir:%s/Maildir" % home,
                         "", "mailbox", "Trash", "all", check=False)
    doveadm_saved(proc, expunge)
    walk.saved("dimport")
    walk.check("doveadm import")
    c.logout()
