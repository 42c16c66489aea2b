"""folder_quota `when_full = expunge_oldest`: room is made only for mail that
is then saved.

The contract (DESIGN.md, folder_quota; folder-quota-expunge.c): a save makes
room by expunging the target folder's oldest mail only when the save then
goes through; when any other root (a folder root that refuses, or the user's
own quota) would still refuse it, nothing is expunged.  A COPY, MOVE or
MULTIAPPEND that is refused leaves every folder as it was: the client was
told NO, so no message may be gone; and a COPY within the folder copies the
messages it names before their originals make room for the copies.  dsync
(replication, doveadm backup/sync) copies what the other side has, as stock
quota lets it: a folder limit neither refuses nor expunges there.
"""

import glob
import os
import shutil

import pytest

from mailstack.dovecot_conf import MAIL_UID
from test_folder_quota_util import (
    RawImap, append_ok, create, getquota, imap, literal, message, select,
    subjects, uid_command, uids)

pytestmark = pytest.mark.plugin("folder_quota")

K = 1024

NESTED = """
folder_quota {
  folder Mail {
    storage = 10K
    scope = subtree
  }
  folder Mail/Junk {
    messages = 2
    when_full = expunge_oldest
  }
}
"""

TRASH = """
folder_quota {
  folder Trash {
    messages = 3
    when_full = expunge_oldest
  }
}
"""


def nested_full(stack, parent):
    """Mail/Junk full by its count (2 of 2, 1K each), the Mail subtree full
    by its size (10K of 10K), and a 2K message in INBOX.  With parent, the
    folder Mail itself exists; without, only the folders below it do (the
    roots then come in another order)."""
    stack.reset(policy_text=NESTED)
    c = imap(stack, "alice")
    create(c, *((["Mail"] if parent else []) + ["Mail/Junk", "Mail/Other"]))
    for i in range(4):
        append_ok(c, "Mail/Other", message(2 * K, "o%d" % i))
    append_ok(c, "Mail/Junk", message(K, "j0"))
    append_ok(c, "Mail/Junk", message(K, "j1"))
    append_ok(c, "INBOX", message(2 * K, "new"))
    assert getquota(c, "Folder Mail") == {"STORAGE": (10, 10)}
    return c


def filled(stack, policy_text, folder, count, size, prefix, userdb=None):
    """A session of alice's after a reset to policy_text (and userdb), with
    folder created and holding count messages of size bytes, subjects
    PREFIX0, PREFIX1, ..."""
    stack.reset(policy_text=policy_text)
    if userdb is not None:
        stack.set_userdb("alice", userdb)
    c = imap(stack, "alice")
    create(c, folder)
    for i in range(count):
        append_ok(c, folder, message(size, "%s%d" % (prefix, i)))
    return c


def uid_in(c, box, command, uid_set, dest):
    """UID COMMAND uid_set dest with box selected; (typ, text)."""
    select(c, box)
    typ, txt = uid_command(c, command, uid_set, dest)
    c.unselect()
    return typ, txt


@pytest.mark.parametrize("parent", [True, False], ids=["parent", "no-parent"])
@pytest.mark.parametrize("command", ["MOVE", "COPY"])
def test_nested_roots_a_refusing_parent_means_nothing_is_expunged(stack, command, parent):
    # Making room in Mail/Junk (one message out) does not make room in the
    # Mail subtree (2K in, 1K out), whose rule refuses: the save is
    # refused, as the same APPEND is, and Mail/Junk keeps both messages.
    c = nested_full(stack, parent)
    typ, txt = uid_in(c, "INBOX", command, "1", "Mail/Junk")
    assert typ == "NO" and "[OVERQUOTA]" in txt, "%s: %s %s" % (command, typ, txt)
    assert subjects(c, "Mail/Junk") == ["j0", "j1"]
    assert subjects(c, "INBOX") == ["new"]
    assert getquota(c, "Folder Mail") == {"STORAGE": (10, 10)}
    c.logout()


def test_copy_to_a_full_trash_refused_by_the_user_quota_expunges_nothing(stack):
    # Trash makes room by one message (600 bytes out) but the copy adds 2000
    # bytes to the user's 4K quota (3800 used): the user's quota refuses the
    # COPY, and Trash keeps its mail.
    c = filled(stack, TRASH, "Trash", 3, 600, "t",
               userdb=stack.quota_fields(storage="4K"))
    append_ok(c, "INBOX", message(2000, "big"))
    typ, txt = uid_in(c, "INBOX", "COPY", "1", "Trash")
    assert typ == "NO" and "[OVERQUOTA]" in txt, "COPY: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["t0", "t1", "t2"]
    c.logout()


def test_copy_within_a_full_trash_loses_nothing(stack):
    # The message copied is Trash's oldest: it is copied first, then the
    # original goes to make room for the copy.
    c = filled(stack, TRASH, "Trash", 3, 600, "t")
    first = uids(c, "Trash")[0]
    typ, txt = uid_in(c, "Trash", "COPY", str(first), "Trash")
    assert typ == "OK", "COPY: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["t1", "t2", "t0"]
    assert getquota(c, "Folder Trash") == {"MESSAGE": (3, 3)}
    c.logout()


def test_copy_of_several_within_a_full_trash_loses_nothing(stack):
    c = filled(stack, TRASH, "Trash", 3, 600, "t")
    typ, txt = uid_in(c, "Trash", "COPY", "1:2", "Trash")
    assert typ == "OK", "COPY: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["t2", "t0", "t1"]
    assert getquota(c, "Folder Trash") == {"MESSAGE": (3, 3)}
    c.logout()


def test_move_of_more_than_the_folder_holds_is_refused_and_loses_nothing(stack):
    # Five messages cannot fit a Trash of three even once it is empty: the
    # MOVE is refused, and neither Trash nor INBOX loses a message.
    c = filled(stack, TRASH, "Trash", 3, 600, "t")
    for i in range(5):
        append_ok(c, "INBOX", message(600, "i%d" % i))
    typ, txt = uid_in(c, "INBOX", "MOVE", "1:5", "Trash")
    assert typ == "NO" and "[OVERQUOTA]" in txt, "MOVE: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["t0", "t1", "t2"]
    assert subjects(c, "INBOX") == ["i%d" % i for i in range(5)]
    # three fit, by all of Trash's old mail
    typ, txt = uid_in(c, "INBOX", "MOVE", "1:3", "Trash")
    assert typ == "OK", "MOVE: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["i0", "i1", "i2"]
    assert subjects(c, "INBOX") == ["i3", "i4"]
    c.logout()


JUNK = """
folder_quota {
  folder Junk {
    storage = 10K
    when_full = expunge_oldest
  }
}
"""


def test_multiappend_refused_by_a_later_message_expunges_nothing(stack):
    # The first message fits once Junk's oldest goes; the second is larger
    # than the whole limit: the MULTIAPPEND is refused and stores nothing,
    # so nothing may have been expunged for the first.
    c = filled(stack, JUNK, "Junk", 5, 2 * K, "j")
    c.logout()
    raw = RawImap(stack, "alice")
    msgs = [message(K, "fits"), message(10 * K + 1, "too big")]
    typ, txt, _ = raw.command(b"APPEND Junk " + b" ".join(literal(m) for m in msgs))
    raw.close()
    assert typ == "NO" and "[OVERQUOTA]" in txt, "MULTIAPPEND: %s %s" % (typ, txt)
    c = imap(stack, "alice")
    assert subjects(c, "Junk") == ["j%d" % i for i in range(5)]
    c.logout()


def test_copy_of_two_refused_at_the_second_expunges_nothing(stack):
    # UID COPY 1:2 into a full Trash: the first fits once Trash's oldest
    # goes, the second is refused by the user's quota: the COPY is refused
    # and copies nothing, so nothing may have been expunged.
    c = filled(stack, TRASH, "Trash", 3, 600, "t",
               userdb=stack.quota_fields(storage="8K"))
    append_ok(c, "INBOX", message(600, "small"))
    append_ok(c, "INBOX", message(5000, "big"))
    typ, txt = uid_in(c, "INBOX", "COPY", "1:2", "Trash")
    assert typ == "NO" and "[OVERQUOTA]" in txt, "COPY: %s %s" % (typ, txt)
    assert subjects(c, "Trash") == ["t0", "t1", "t2"]
    c.logout()


def test_multiappend_of_two_into_a_full_folder_makes_room_once(stack):
    # Junk is full (10K of 10K); j0 (2K) going makes room for both 1K
    # messages of one MULTIAPPEND: it is stored whole, and only j0 goes.
    c = filled(stack, JUNK, "Junk", 5, 2 * K, "j")
    c.logout()
    raw = RawImap(stack, "alice")
    msgs = [message(K, "a"), message(K, "b")]
    typ, txt, _ = raw.command(b"APPEND Junk " + b" ".join(literal(m) for m in msgs))
    raw.close()
    assert typ == "OK", "MULTIAPPEND: %s %s" % (typ, txt)
    c = imap(stack, "alice")
    assert subjects(c, "Junk") == ["j1", "j2", "j3", "j4", "a", "b"]
    assert getquota(c, "Folder Junk") == {"STORAGE": (10, 10)}
    c.logout()


# alice's only: carol's Mail/Junk is the import source
NESTED_INNER_REFUSES = """
folder_quota user alice@example.com {
  folder Mail {
    storage = 10K
    scope = subtree
    when_full = expunge_oldest
  }
  folder Mail/Junk {
    storage = 3K
  }
}
"""


def test_doveadm_import_refused_by_one_root_expunges_nothing_for_another(stack):
    # Into Mail/Junk (3K of 3K, limit 3K) from another mail location: a 4K
    # message is larger than Mail/Junk's whole limit, so it is refused,
    # even though the Mail subtree (8K of 10K, expunge_oldest) could make
    # room for it by expunging j0 and j1.  doveadm import goes on after a
    # refused copy and commits: nothing may have been expunged for it.
    stack.reset(policy_text=NESTED_INNER_REFUSES)
    c = imap(stack, "alice")
    create(c, "Mail", "Mail/Junk", "Mail/Other")
    for i in range(3):
        append_ok(c, "Mail/Junk", message(K, "j%d" % i))
    append_ok(c, "Mail/Other", message(5 * K, "o0"))
    c.logout()
    stack.doveadm("mailbox", "create", "-u", "carol@example.com", "Mail/Junk")
    stack.doveadm_save("carol", message(4 * K, "imported"), mailbox="Mail/Junk")
    home = stack.doveadm("user", "-f", "home", "carol@example.com").stdout.strip()
    assert home.startswith("/"), home
    # the source is read as plain Maildir++: its separator is "."
    proc = stack.doveadm("import", "-u", "alice@example.com", "maildir:%s/Maildir" % home,
                         "", "mailbox", "Mail.Junk", "all", check=False)
    assert proc.returncode != 0, proc.stdout
    assert "Quota exceeded in folder Mail/Junk " in proc.stderr, proc.stderr
    c = imap(stack, "alice")
    assert subjects(c, "Mail/Junk") == ["j0", "j1", "j2"]
    assert getquota(c, "Folder Mail") == {"STORAGE": (8, 10)}
    c.logout()


@pytest.mark.parametrize("when_full", ["refuse", "expunge_oldest"])
def test_dsync_replicates_and_never_enforces(stack, when_full):
    # `doveadm backup -R` makes alice's mail what the source has; dsync
    # copies a message it finds in another local folder (m0 in INBOX) into
    # Trash.  As the quota plugin ignores quota for dsync, a folder limit
    # must neither refuse that copy nor expunge for it: a replica that
    # enforced it would differ from its source, and a two-way sync would
    # carry the expunge back.
    stack.reset(policy_text="""
folder_quota {
  folder Trash {
    messages = 2
    when_full = %s
  }
}
""" % when_full)
    c = imap(stack, "alice")
    create(c, "Trash")
    append_ok(c, "INBOX", message(600, "m0"))
    append_ok(c, "Trash", message(600, "t0"))
    append_ok(c, "Trash", message(600, "t1"))
    c.logout()
    # the source: alice's Maildir with m0's file also in Trash (a maildir
    # message's GUID is its file name, so dsync finds it in INBOX)
    home = stack.paths.h("mail", "example.com", "alice", "Maildir")
    src = stack.paths.h("mail", "example.com", "alice-source")
    shutil.copytree(home, src, symlinks=True)
    inbox = glob.glob(os.path.join(src, "cur", "*")) + glob.glob(os.path.join(src, "new", "*"))
    assert len(inbox) == 1, inbox
    shutil.copy2(inbox[0], os.path.join(src, ".Trash", "cur", os.path.basename(inbox[0])))
    for root, dirs, files in os.walk(src):
        for name in dirs + files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_UID)
    os.chown(src, MAIL_UID, MAIL_UID)
    proc = stack.doveadm("backup", "-R", "-u", "alice@example.com",
                         "maildir:" + stack.paths.i("mail", "example.com", "alice-source"),
                         check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Quota exceeded" not in proc.stderr, proc.stderr
    c = imap(stack, "alice")
    assert subjects(c, "Trash") == ["t0", "t1", "m0"]
    assert subjects(c, "INBOX") == ["m0"]
    c.logout()
