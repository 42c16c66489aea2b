"""folder_quota over IMAP (issue 9): limits per folder, enforced and reported
by Dovecot's quota plugin as roots "Folder <folder>" beside the user's own
"User quota", on the real Dovecot of the stack (2.3 or 2.4).

Sizes: every message is built to an exact size with CRLF line ends, which is
the size Dovecot counts (quota_vsizes); a limit of 10K is 10240 bytes.
"""

import re
import threading

import pytest

from mailstack.layout import Account

from test_folder_quota_util import (
    RawImap, append, append_ok, append_refused, assert_overquota, capabilities,
    count, create, getquota, getquota_missing, imap, literal, log_line, message,
    ok, quotaroot, select, status, subjects, uid_command)

pytestmark = pytest.mark.plugin("folder_quota")

K = 1024
USER_ROOT = "User quota"

POLICY = """
folder_quota {
  folder Box {
    storage = 10K
  }
  folder Counted {
    messages = 3
  }
  folder Archive {
    storage = 10K
    scope = subtree
  }
  folder "Projects/*" {
    messages = 2
  }
  folder "Lists/%" {
    messages = 1
  }
  folder Both {
    storage = 8K
    messages = 2
  }
}
"""


@pytest.fixture
def policy(stack):
    stack.reset(policy_text=POLICY)
    return stack


def test_append_storage_under_at_and_over_the_limit(policy):
    c = imap(policy, "alice")
    create(c, "Box")
    for i in range(4):
        append_ok(c, "Box", message(2 * K, "under %d" % i))
    # 5 x 2048 = 10240 bytes: exactly the limit, still accepted
    append_ok(c, "Box", message(2 * K, "at the limit"))
    assert getquota(c, "Folder Box") == {"STORAGE": (10, 10)}
    # one more byte of mail would pass it: the smallest message, and a huge one
    append_refused(c, "Box", message(1, "one byte more"))
    append_refused(c, "Box", message(100 * K, "far past"))
    assert count(c, "Box") == 5
    # the rest of the mailbox is governed by the user quota only
    append_ok(c, "INBOX", message(20 * K, "inbox is not limited"))
    c.logout()


def test_a_message_larger_than_the_whole_limit_is_refused_in_an_empty_folder(policy):
    c = imap(policy, "alice")
    create(c, "Box")
    append_refused(c, "Box", message(10 * K + 1, "one byte too big"))
    append_ok(c, "Box", message(10 * K, "exactly the limit"))
    assert count(c, "Box") == 1
    c.logout()


def test_message_limit_and_expunge_frees_at_once(policy):
    c = imap(policy, "alice")
    create(c, "Counted")
    assert getquota(c, "Folder Counted") == {"MESSAGE": (0, 3)}
    for i in range(3):
        append_ok(c, "Counted", message(100, "c%d" % i))
    append_refused(c, "Counted", message(100, "c3"))
    assert getquota(c, "Folder Counted") == {"MESSAGE": (3, 3)}
    # an expunge frees the room at once, for this session and a new one
    select(c, "Counted")
    ok(c.store("1", "+FLAGS", "(\\Deleted)"), "STORE")
    ok(c.expunge(), "EXPUNGE")
    c.unselect()
    other = imap(policy, "alice")
    assert getquota(other, "Folder Counted") == {"MESSAGE": (2, 3)}
    append_ok(other, "Counted", message(100, "c4"))
    append_refused(c, "Counted", message(100, "c5"))
    assert subjects(c, "Counted") == ["c1", "c2", "c4"]
    other.logout()
    c.logout()


def test_storage_and_message_limits_of_one_rule_both_hold(policy):
    c = imap(policy, "alice")
    create(c, "Both")
    append_ok(c, "Both", message(100, "a"))
    append_ok(c, "Both", message(100, "b"))
    append_refused(c, "Both", message(100, "third message"))
    assert getquota(c, "Folder Both") == {"STORAGE": (1, 8), "MESSAGE": (2, 2)}
    c.logout()
    policy.reset(policy_text=POLICY)
    c = imap(policy, "alice")
    create(c, "Both")
    append_ok(c, "Both", message(7 * K, "big"))
    append_refused(c, "Both", message(2 * K, "past the storage"))
    c.logout()


def test_getquotaroot_lists_the_user_root_and_the_folder_root(policy):
    c = imap(policy, "alice")
    create(c, "Box", "Plain")
    append_ok(c, "Box", message(3000, "a"))
    append_ok(c, "Plain", message(5000, "b"))
    roots, quotas = quotaroot(c, "Box")
    assert roots == [USER_ROOT, "Folder Box"]
    assert quotas["Folder Box"] == {"STORAGE": (3, 10)}
    # the user's root counts every folder: 8000 bytes, rounded up to 8 KiB
    assert quotas[USER_ROOT]["STORAGE"][0] == 8
    roots, quotas = quotaroot(c, "Plain")
    assert roots == [USER_ROOT]
    assert list(quotas) == [USER_ROOT]
    roots, quotas = quotaroot(c, "INBOX")
    assert roots == [USER_ROOT]
    getquota_missing(c, "Folder Plain")
    c.logout()

# GETQUOTAROOT as a client may send it, well formed or not.  On Dovecot 2.4
# folder_quota answers GETQUOTAROOT itself (imap_quota looks a root's
# settings up again per resource); the answers must be stock's, byte for byte.
GETQUOTAROOT_FORMS = [
    b"GETQUOTAROOT INBOX",
    b"GETQUOTAROOT inbox",
    b"GETQUOTAROOT Plain",
    b"GETQUOTAROOT {5+}\r\nPlain",
    b'GETQUOTAROOT "No such folder"',
    b'GETQUOTAROOT ""',
    b"GETQUOTAROOT",
    b"GETQUOTAROOT (INBOX)",
    b"GETQUOTAROOT INBOX extra",
    b'GETQUOTAROOT "unterminated',
]


def _transcript(stack, who):
    """The replies to GETQUOTAROOT_FORMS, with the timings Dovecot adds to a
    tagged reply ("(0.001 + 0.000 secs)") taken out."""
    raw = RawImap(stack, who)
    try:
        out = []
        for form in GETQUOTAROOT_FORMS:
            status, txt, untagged = raw.command(form)
            out.append((status, re.sub(r" \([0-9.]+( \+ [0-9.]+)* secs\)", "", txt),
                        untagged))
        return out
    finally:
        raw.close()


def test_getquotaroot_answers_as_stock_where_no_folder_root_is_concerned(policy):
    c = imap(policy, "alice")
    create(c, "Plain")
    append_ok(c, "Plain", message(5000, "b"))
    c.logout()
    c = imap(policy, "carol")
    append_ok(c, "INBOX", message(3000, "c"))
    c.logout()
    with_plugin = {who: _transcript(policy, who) for who in ("alice", "carol")}
    policy.configure(plugins=[])
    stock = {who: _transcript(policy, who) for who in ("alice", "carol")}
    for who in ("alice", "carol"):
        for form, ours, theirs in zip(GETQUOTAROOT_FORMS, with_plugin[who], stock[who]):
            assert ours == theirs, "%s: %r" % (who, form)
    # the transcripts are not all alike: the forms reach different answers
    statuses = [status for status, _, _ in stock["alice"]]
    assert "OK" in statuses and "BAD" in statuses, statuses


def test_getquotaroot_reports_a_folder_root_as_getquota_does(policy):
    """GETQUOTA still goes through imap_quota and the root's settings: each
    folder root's QUOTA line in GETQUOTAROOT must be the same bytes, at 0,
    under and at the limit, with one resource or two."""
    c = imap(policy, "alice")
    create(c, "Box", "Counted", "Both")
    raw = RawImap(policy, "alice")
    try:
        for step in range(3):
            for box, root in (("Box", "Folder Box"), ("Counted", "Folder Counted"),
                              ("Both", "Folder Both")):
                status, _, untagged = raw.command(b"GETQUOTAROOT " + box.encode())
                assert status == "OK"
                assert untagged[0] == b'* QUOTAROOT %s "User quota" "%s"\r\n' % (
                    box.encode(), root.encode())
                lines = [u for u in untagged if u.startswith(b'* QUOTA "%s"' % root.encode())]
                status, _, alone = raw.command(b'GETQUOTA "%s"' % root.encode())
                assert status == "OK" and len(lines) == 1 and alone == lines, (box, step)
            if step < 2:
                for box in ("Box", "Counted", "Both"):
                    append_ok(c, box, message(3 * K, "s%d" % step))
        # at the end: Counted holds 2 of 3, Both 6K of 8K, Box 6K of 10K
        _, _, untagged = raw.command(b"GETQUOTAROOT Both")
        assert untagged[-1] == b'* QUOTA "Folder Both" (STORAGE 6 8 MESSAGE 2 2)\r\n'
    finally:
        raw.close()
    c.logout()



def test_capabilities_advertise_rfc_9208_resources(policy):
    c = imap(policy, "alice")
    caps = capabilities(c)
    assert {"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"} <= caps, caps
    c.logout()


def test_status_deleted_and_deleted_storage(policy):
    c = imap(policy, "alice")
    create(c, "Plain")
    for i, size in enumerate((1000, 2000, 3000, 50)):
        append_ok(c, "Plain", message(size, "s%d" % i))
    assert status(c, "Plain", "DELETED DELETED-STORAGE") == {"DELETED": 0, "DELETED-STORAGE": 0}
    select(c, "Plain")
    ok(c.uid("STORE", "2:3", "+FLAGS", "(\\Deleted)"), "STORE")
    # (2000 + 3000) bytes = 4.88 KiB: DELETED-STORAGE is in units of 1024
    # octets, rounded up
    assert status(c, "Plain", "DELETED DELETED-STORAGE") == {"DELETED": 2, "DELETED-STORAGE": 5}
    c.unselect()
    # mixed with stock items, and alone, from another session
    other = imap(policy, "alice")
    assert status(other, "Plain", "MESSAGES DELETED UNSEEN") == {
        "MESSAGES": 4, "DELETED": 2, "UNSEEN": 4}
    assert status(other, "Plain", "DELETED-STORAGE") == {"DELETED-STORAGE": 5}
    # a bad item is still BAD, a missing mailbox still NO
    with pytest.raises(other.error, match="BAD"):
        other.status("Plain", "(DELETED BOGUS)")
    with pytest.raises(AssertionError, match="NO"):
        status(other, "Nonexistent", "DELETED")
    other.logout()
    c.logout()


def test_multiappend_that_would_pass_the_limit_stores_nothing(policy):
    c = imap(policy, "alice")
    create(c, "Counted")
    c.logout()
    raw = RawImap(policy, "alice")
    msgs = [message(200, "m%d" % i) for i in range(4)]
    typ, txt, _ = raw.command(b"APPEND Counted " + b" ".join(literal(m) for m in msgs[:2]))
    assert typ == "OK", txt
    typ, txt, _ = raw.command(b"APPEND Counted " + b" ".join(literal(m) for m in msgs[2:]))
    assert_overquota(typ, txt, "Counted", "MULTIAPPEND of 2 into a folder with room for 1")
    raw.close()
    c = imap(policy, "alice")
    assert subjects(c, "Counted") == ["m0", "m1"]
    c.logout()


def test_catenate_into_a_full_folder_is_refused(policy):
    c = imap(policy, "alice")
    create(c, "Counted")
    for i in range(2):
        append_ok(c, "Counted", message(100, "c%d" % i))
    c.logout()
    raw = RawImap(policy, "alice")
    part = message(120, "catenated")
    typ, txt, _ = raw.command(b"APPEND Counted CATENATE (TEXT " + literal(part) + b")")
    assert typ == "OK", txt
    typ, txt, _ = raw.command(b"APPEND Counted CATENATE (TEXT " + literal(part) + b")")
    assert_overquota(typ, txt, "Counted", "CATENATE into a full folder")
    raw.close()
    c = imap(policy, "alice")
    assert count(c, "Counted") == 3
    c.logout()


def test_copy_and_move_into_a_limited_folder(policy):
    c = imap(policy, "alice")
    create(c, "Projects/apollo", "Projects/gemini")
    for i in range(5):
        append_ok(c, "INBOX", message(500, "in%d" % i))
    select(c, "INBOX")
    typ, txt = uid_command(c, "COPY", "1", "Projects/apollo")
    assert typ == "OK", txt
    typ, txt = uid_command(c, "MOVE", "2", "Projects/apollo")
    assert typ == "OK", txt
    # the folder is full now: neither a COPY nor a MOVE gets in
    # (Dovecot 2.3 itself would let the MOVE through: no quota check on a
    # MOVE within one namespace)
    assert_overquota(*uid_command(c, "COPY", "3", "Projects/apollo"),
                     "Projects/apollo", "COPY into a full folder")
    assert_overquota(*uid_command(c, "MOVE", "3", "Projects/apollo"),
                     "Projects/apollo", "MOVE into a full folder")
    # a MOVE of two when there is room for one moves nothing
    typ, txt = uid_command(c, "MOVE", "3", "Projects/gemini")
    assert typ == "OK", txt
    assert_overquota(*uid_command(c, "MOVE", "4:5", "Projects/gemini"),
                     "Projects/gemini", "MOVE of 2 messages into a folder with room for 1")
    c.unselect()
    assert subjects(c, "INBOX") == ["in0", "in3", "in4"]
    assert subjects(c, "Projects/apollo") == ["in0", "in1"]
    assert subjects(c, "Projects/gemini") == ["in2"]
    # a MOVE out of a full folder always works
    select(c, "Projects/apollo")
    typ, txt = uid_command(c, "MOVE", "1:*", "INBOX")
    assert typ == "OK", txt
    c.unselect()
    assert count(c, "Projects/apollo") == 0
    assert getquota(c, "Folder Projects/apollo") == {"MESSAGE": (0, 2)}
    c.logout()


def test_move_within_one_subtree_root_needs_no_room(policy):
    c = imap(policy, "alice")
    create(c, "Archive", "Archive/2023", "Archive/2024")
    for i in range(5):
        append_ok(c, "Archive/2023", message(2 * K, "a%d" % i))
    assert getquota(c, "Folder Archive") == {"STORAGE": (10, 10)}
    append_refused(c, "Archive/2024", message(100), "Archive")
    select(c, "Archive/2023")
    typ, txt = uid_command(c, "MOVE", "1:2", "Archive/2024")
    assert typ == "OK", "a MOVE inside the subtree changes nothing: %s" % txt
    c.unselect()
    assert count(c, "Archive/2024") == 2
    assert getquota(c, "Folder Archive") == {"STORAGE": (10, 10)}
    c.logout()


def test_subtree_shares_one_limit_folder_scope_does_not(policy):
    c = imap(policy, "alice")
    create(c, "Archive", "Archive/2023", "Archive/2023/Q1", "Projects/apollo",
           "Projects/gemini")
    append_ok(c, "Archive", message(4 * K, "top"))
    append_ok(c, "Archive/2023", message(4 * K, "mid"))
    append_ok(c, "Archive/2023/Q1", message(2 * K, "deep"))
    for box in ("Archive", "Archive/2023", "Archive/2023/Q1"):
        roots, quotas = quotaroot(c, box)
        assert roots == [USER_ROOT, "Folder Archive"], roots
        assert quotas["Folder Archive"] == {"STORAGE": (10, 10)}
        append_refused(c, box, message(100), "Archive")
    # Projects/*: each project folder has its own root and limit
    for box in ("Projects/apollo", "Projects/gemini"):
        append_ok(c, box, message(100))
        append_ok(c, box, message(100))
        append_refused(c, box, message(100))
        roots, _ = quotaroot(c, box)
        assert roots == [USER_ROOT, "Folder " + box]
    c.logout()


def test_wildcard_percent_does_not_cross_the_separator(policy):
    c = imap(policy, "alice")
    create(c, "Lists/a", "Lists/a/deeper", "Lists")
    roots, _ = quotaroot(c, "Lists/a")
    assert roots == [USER_ROOT, "Folder Lists/a"]
    roots, _ = quotaroot(c, "Lists/a/deeper")
    assert roots == [USER_ROOT]
    roots, _ = quotaroot(c, "Lists")
    assert roots == [USER_ROOT]
    append_ok(c, "Lists/a", message(100))
    append_refused(c, "Lists/a", message(100))
    append_ok(c, "Lists/a/deeper", message(100))
    append_ok(c, "Lists/a/deeper", message(100))
    c.logout()


def test_inbox_rules_ignore_case(stack):
    stack.reset(policy_text="folder_quota {\n  folder inbox {\n    messages = 1\n  }\n}\n")
    c = imap(stack, "alice")
    append_ok(c, "INBOX", message(100))
    append_refused(c, "INBOX", message(100))
    roots, _ = quotaroot(c, "inbox")
    assert roots == [USER_ROOT, "Folder INBOX"]
    c.logout()


def test_user_and_folder_roots_together_the_lower_limit_wins(stack):
    stack.reset(policy_text=POLICY)
    stack.set_userdb("alice", stack.quota_fields(storage="12K"))
    c = imap(stack, "alice")
    create(c, "Box")
    # the folder's 10K is lower than the user's 12K: the folder refuses
    for i in range(5):
        append_ok(c, "Box", message(2 * K, "b%d" % i))
    append_refused(c, "Box", message(100))
    roots, quotas = quotaroot(c, "Box")
    assert quotas[USER_ROOT]["STORAGE"] == (10, 12)
    assert quotas["Folder Box"] == {"STORAGE": (10, 10)}
    # the user's quota is lower for the next 2K+: it refuses, with its own
    # words (not a folder's)
    append_ok(c, "INBOX", message(2 * K - 100, "fills the user quota"))
    typ, txt = append(c, "INBOX", message(1 * K, "past the user quota"))
    assert typ == "NO" and "[OVERQUOTA]" in txt, txt
    assert "in folder" not in txt, txt
    c.logout()


DOMAIN_POLICY = """
folder_quota {
  folder Box {
    messages = 5
  }
}
folder_quota domain example.org {
  folder Box {
    messages = 2
  }
}
folder_quota user ceo@example.org {
  folder Box {
    messages = 0
  }
}
"""


def test_domain_and_user_blocks(stack):
    stack.reset(policy_text=DOMAIN_POLICY)
    limits = {}
    for who in ("alice", "bob", "ceo"):
        c = imap(stack, who)
        create(c, "Box")
        _, quotas = quotaroot(c, "Box")
        limits[who] = quotas.get("Folder Box")
        c.logout()
    assert limits == {"alice": {"MESSAGE": (0, 5)}, "bob": {"MESSAGE": (0, 2)},
                      "ceo": None}
    c = imap(stack, "ceo")
    for i in range(7):
        append_ok(c, "Box", message(100))
    c.logout()


def test_userdb_overrides_change_and_add_rules(stack):
    fields = {"folder_quota_rule": "Box:messages=1",
              "folder_quota_rule2": "Extra/*:storage=1K:scope=subtree"}
    alice = Account("alice@example.com", "alice-secret", fields)
    stack.reset(policy_text=POLICY, accounts=[alice, Account("carol@example.com", "carol-secret")])
    c = imap(stack, "alice")
    create(c, "Box", "Extra/a", "Extra/a/b")
    append_ok(c, "Box", message(100))
    append_refused(c, "Box", message(100))
    assert getquota(c, "Folder Box") == {"STORAGE": (1, 10), "MESSAGE": (1, 1)}
    append_ok(c, "Extra/a/b", message(1 * K))
    roots, quotas = quotaroot(c, "Extra/a/b")
    assert roots == [USER_ROOT, "Folder Extra/a"]
    append_refused(c, "Extra/a", message(100), "Extra/a")
    c.logout()
    # another user keeps the file's rules
    c = imap(stack, "carol")
    create(c, "Box", "Extra/a")
    append_ok(c, "Box", message(100))
    append_ok(c, "Box", message(100))
    roots, _ = quotaroot(c, "Extra/a")
    assert roots == [USER_ROOT]
    c.logout()


def test_a_bad_userdb_override_is_logged_and_the_file_stands(stack):
    alice = Account("alice@example.com", "alice-secret",
                    {"folder_quota_rule": "Box:messages=lots"})
    stack.reset(policy_text=POLICY, accounts=[alice])
    offsets = stack.log_offsets()
    c = imap(stack, "alice")
    create(c, "Box")
    assert getquota(c, "Folder Box") == {"STORAGE": (0, 10)}
    c.logout()
    log_line(stack, offsets, "(alice@example.com)", "folder_quota: userdb field "
             "folder_quota_rule=Box:messages=lots ignored: ")


def test_rename_carries_the_usage_and_the_new_rules_apply(policy):
    c = imap(policy, "alice")
    create(c, "Projects/apollo")
    append_ok(c, "Projects/apollo", message(100, "p0"))
    append_ok(c, "Projects/apollo", message(100, "p1"))
    ok(c.rename("Projects/apollo", "Projects/zeus"), "RENAME")
    getquota_missing(c, "Folder Projects/apollo")
    assert getquota(c, "Folder Projects/zeus") == {"MESSAGE": (2, 2)}
    append_refused(c, "Projects/zeus", message(100))
    # out of the governed names: no folder limit any more
    ok(c.rename("Projects/zeus", "Done"), "RENAME")
    getquota_missing(c, "Folder Projects/zeus")
    roots, _ = quotaroot(c, "Done")
    assert roots == [USER_ROOT]
    append_ok(c, "Done", message(100))
    # into a governed name: its rule applies to the mail it brings
    ok(c.rename("Done", "Counted"), "RENAME")
    assert getquota(c, "Folder Counted") == {"MESSAGE": (3, 3)}
    append_refused(c, "Counted", message(100))
    c.logout()
    # a new session sees the same
    c = imap(policy, "alice")
    assert getquota(c, "Folder Counted") == {"MESSAGE": (3, 3)}
    c.logout()


def test_delete_drops_the_root_and_its_usage(policy):
    c = imap(policy, "alice")
    create(c, "Counted")
    for i in range(3):
        append_ok(c, "Counted", message(100))
    ok(c.delete("Counted"), "DELETE")
    getquota_missing(c, "Folder Counted")
    create(c, "Counted")
    assert getquota(c, "Folder Counted") == {"MESSAGE": (0, 3)}
    append_ok(c, "Counted", message(100))
    c.logout()


def test_a_folder_another_session_creates_is_governed(policy):
    c = imap(policy, "alice")
    other = imap(policy, "alice")
    create(other, "Projects/new")
    append_ok(other, "Projects/new", message(100))
    append_ok(other, "Projects/new", message(100))
    # c's session started before the folder existed
    append_refused(c, "Projects/new", message(100))
    assert getquota(c, "Folder Projects/new") == {"MESSAGE": (2, 2)}
    other.logout()
    c.logout()


def test_eight_parallel_appenders_pass_by_at_most_one_message_each(policy):
    """Each saver checks the folder's usage when its save begins, so parallel
    APPENDs can pass the limit by at most one message per saver."""
    savers, limit = 8, 2
    c = imap(policy, "alice")
    create(c, "Projects/race")
    c.logout()
    start = threading.Barrier(savers)
    results = [[] for _ in range(savers)]
    errors = []

    def saver(i):
        try:
            conn = imap(policy, "alice")
            start.wait(timeout=30)
            for n in range(4):
                results[i].append(append(conn, "Projects/race",
                                         message(300, "s%d-%d" % (i, n)))[0])
            conn.logout()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append("saver %d: %r" % (i, e))
    threads = [threading.Thread(target=saver, args=(i,)) for i in range(savers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    accepted = sum(r.count("OK") for r in results)
    assert all(r and set(r) <= {"OK", "NO"} for r in results), results
    c = imap(policy, "alice")
    stored = count(c, "Projects/race")
    c.logout()
    assert stored == accepted, (stored, results)
    assert limit <= stored <= limit + savers - 1, (stored, results)
    # once the savers are done, the folder refuses every new message
    c = imap(policy, "alice")
    append_refused(c, "Projects/race", message(300))
    c.logout()
