"""folder_quota `when_full = expunge_oldest` (issue 9): a save that would pass
the folder's limit first expunges that folder's oldest messages (by save
date) until it fits, never more and never another folder's mail, so that
moving mail to a full Trash never fails and Junk keeps itself to size.

Messages saved within the same second have the same save date; the older
UID goes first then, so the order below is the order of saving.
"""

import pytest

from test_folder_quota_util import (
    append, append_ok, append_refused, count, create, getquota, imap,
    log_lines, message, select, subjects, uid_command)

pytestmark = pytest.mark.plugin("folder_quota")

K = 1024

POLICY = """
folder_quota {
  folder Trash {
    messages = 3
    when_full = expunge_oldest
  }
  folder Junk {
    storage = 10K
    when_full = expunge_oldest
  }
  folder Archive {
    storage = 6K
    scope = subtree
    when_full = expunge_oldest
  }
}
"""


@pytest.fixture
def policy(stack):
    stack.reset(policy_text=POLICY)
    return stack


def test_append_to_a_full_trash_expunges_the_oldest_only(policy):
    offsets = policy.log_offsets()
    c = imap(policy, "alice")
    create(c, "Trash", "Keep")
    append_ok(c, "Keep", message(200, "keep"))
    for i in range(3):
        append_ok(c, "Trash", message(200, "t%d" % i))
    append_ok(c, "Trash", message(200, "t3"))
    assert subjects(c, "Trash") == ["t1", "t2", "t3"]
    append_ok(c, "Trash", message(200, "t4"))
    assert subjects(c, "Trash") == ["t2", "t3", "t4"]
    assert subjects(c, "Keep") == ["keep"]
    assert getquota(c, "Folder Trash") == {"MESSAGE": (3, 3)}
    c.logout()
    logs = log_lines(policy, offsets)
    assert logs.count("expunged its 1 oldest message") == 2, logs


def test_storage_limit_expunges_just_enough(policy):
    c = imap(policy, "alice")
    create(c, "Junk")
    for i in range(5):
        append_ok(c, "Junk", message(2 * K, "j%d" % i))
    # 10K full; 4K more needs exactly the two oldest 2K messages gone
    append_ok(c, "Junk", message(4 * K, "big"))
    assert subjects(c, "Junk") == ["j2", "j3", "j4", "big"]
    assert getquota(c, "Folder Junk") == {"STORAGE": (10, 10)}
    # 1 byte more needs one message gone, the oldest: j2
    append_ok(c, "Junk", message(1, "tiny"))
    assert count(c, "Junk") == 4
    assert subjects(c, "Junk")[:3] == ["j3", "j4", "big"]
    c.logout()


def test_a_message_larger_than_the_limit_expunges_nothing(policy):
    c = imap(policy, "alice")
    create(c, "Junk")
    for i in range(3):
        append_ok(c, "Junk", message(2 * K, "j%d" % i))
    append_refused(c, "Junk", message(10 * K + 1, "too big for the folder"))
    assert subjects(c, "Junk") == ["j0", "j1", "j2"]
    c.logout()


def test_move_and_copy_to_a_full_trash_never_fail(policy):
    c = imap(policy, "alice")
    create(c, "Trash", "Keep")
    append_ok(c, "Keep", message(200, "keep"))
    for i in range(3):
        append_ok(c, "Trash", message(200, "old%d" % i))
    for i in range(5):
        append_ok(c, "INBOX", message(200, "in%d" % i))
    select(c, "INBOX")
    typ, txt = uid_command(c, "MOVE", "1:3", "Trash")
    assert typ == "OK", "MOVE of 3 into a full Trash: %s" % txt
    typ, txt = uid_command(c, "COPY", "4", "Trash")
    assert typ == "OK", "COPY into a full Trash: %s" % txt
    c.unselect()
    assert subjects(c, "Trash") == ["in1", "in2", "in3"]
    assert subjects(c, "INBOX") == ["in3", "in4"]
    assert subjects(c, "Keep") == ["keep"]
    assert getquota(c, "Folder Trash") == {"MESSAGE": (3, 3)}
    c.logout()


def test_subtree_expunges_only_the_target_folder(policy):
    c = imap(policy, "alice")
    create(c, "Archive", "Archive/a", "Archive/b")
    for i in range(3):
        append_ok(c, "Archive/a", message(2 * K, "a%d" % i))
    # Archive/b holds nothing to expunge: the save is refused, and the
    # mail of Archive/a stays
    append_refused(c, "Archive/b", message(1 * K, "b0"), "Archive")
    assert subjects(c, "Archive/a") == ["a0", "a1", "a2"]
    # into Archive/a itself: its own oldest goes
    append_ok(c, "Archive/a", message(1 * K, "a3"))
    assert subjects(c, "Archive/a") == ["a1", "a2", "a3"]
    c.logout()


def test_when_the_user_quota_refuses_nothing_is_expunged(stack):
    stack.reset(policy_text=POLICY)
    stack.set_userdb("alice", stack.quota_fields(storage="3K"))
    c = imap(stack, "alice")
    create(c, "Trash")
    for i in range(3):
        append_ok(c, "Trash", message(900, "t%d" % i))
    # the folder makes room by expunging one message; for 2K more the
    # user's quota (2700 of 3072 bytes used) would need more than that one
    # gives back: refused, and nothing expunged
    typ, txt = append(c, "Trash", message(2 * K, "refused by the user quota"))
    assert typ == "NO" and "[OVERQUOTA]" in txt, txt
    assert subjects(c, "Trash") == ["t0", "t1", "t2"]
    # 1K more: the one message expunged for the folder is room enough for
    # the user's quota too
    append_ok(c, "Trash", message(1 * K, "fits once t0 is gone"))
    assert subjects(c, "Trash") == ["t1", "t2", "fits once t0 is gone"]
    c.logout()
