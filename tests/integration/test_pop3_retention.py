"""pop3_retention in POP3 sessions: what counts as a retrieval, what a DELE
does, what on_retrieve does, the purge at the end of a session, and CAPA.

Real Dovecot with the plugin, real poplib clients behaving like Thunderbird
("leave messages on server"), a deleting client, a TOP-only client and one
whose connection drops before QUIT. State is read back the way an admin and
a user would: IMAP FLAGS, POP3 listings, `doveadm pop3-retention status`.
"""

import time

import pytest

from test_pop3_retention_support import (
    DAY, KW_DEFERRED, KW_HIDDEN, KW_RETRIEVED, POLICY, capa, status,
    deliver, imap_flags, leave_on_server, log_lines, pop3_listing, retrieve,
    status_by_uid, sweep, swept_uids, top_only)

pytestmark = pytest.mark.plugin("pop3_retention")


@pytest.fixture
def policy(stack):
    """The test policy (default 30d / defer 7d / seen; example.org 7d /
    expunge; ceo never); undone when the test ends."""
    stack.configure(policy_text=POLICY)
    return stack


def test_leave_on_server_client_keeps_mail_and_first_retrieval(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three"])
    t0 = int(time.time())
    first = leave_on_server(stack, "alice")
    assert len(first) == 3

    st = status_by_uid(stack, "alice")
    assert sorted(st) == [1, 2, 3]
    for row in st.values():
        assert row["state"] == "retrieved"
        assert t0 <= row["retrieved"] <= int(time.time())
        assert row["expires"] == row["retrieved"] + 30 * DAY
    flags = imap_flags(stack, "alice")
    assert all({KW_RETRIEVED, "\\Seen"} <= f for f in flags.values()), flags

    # A later session retrieves only the new messages; the first retrieval
    # time of the old ones does not move, and nothing was deleted.
    while int(time.time()) <= max(r["retrieved"] for r in st.values()):
        time.sleep(0.1)
    deliver(stack, "alice", ["four", "five"])
    second = leave_on_server(stack, "alice", known=first)
    assert len(second) == 2 and not set(second) & set(first)
    st2 = status_by_uid(stack, "alice")
    assert sorted(st2) == [1, 2, 3, 4, 5]
    for uid in (1, 2, 3):
        assert st2[uid]["retrieved"] == st[uid]["retrieved"]
    for uid in (4, 5):
        assert st2[uid]["retrieved"] > st[1]["retrieved"]
    assert len(pop3_listing(stack, "alice")) == 5


def test_no_quit_and_top_do_not_count(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two"])
    retrieve(stack, "alice", [1, 2], quit=False)     # connection drops
    assert top_only(stack, "alice") == 2               # TOP, then QUIT
    retrieve(stack, "alice", [1], dele=[1, 2], quit=False)

    st = status_by_uid(stack, "alice")
    assert [r["state"] for r in st.values()] == ["new", "new"]
    assert all(r["retrieved"] == 0 and r["expires"] == 0 for r in st.values())
    assert not any(f & {KW_RETRIEVED, KW_HIDDEN} for f in imap_flags(stack, "alice").values())
    rows, totals = sweep(stack, "alice", as_of="+3650d")
    assert rows == [] and totals == {"alice@example.com": (0, 0)}
    assert stack.message_count("alice") == 2


def test_dele_deferred_is_gone_from_pop3_and_expunged_after_the_window(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three"])
    uidls = retrieve(stack, "alice", [1, 2], dele=[2, 3])

    # Gone from POP3 at once; IMAP still sees them with the keywords.
    assert pop3_listing(stack, "alice") == [uidls[1]]
    flags = imap_flags(stack, "alice")
    assert {KW_HIDDEN, KW_DEFERRED, KW_RETRIEVED} <= flags[2]
    assert {KW_HIDDEN, KW_DEFERRED} <= flags[3] and KW_RETRIEVED not in flags[3]
    st = status_by_uid(stack, "alice")
    assert [st[u]["state"] for u in (1, 2, 3)] == ["retrieved", "deferred", "deferred"]
    # DELE'd at the same QUIT: 7 days after it, whatever keep_after_retrieval
    dele_expiry = st[2]["expires"]
    assert st[3]["expires"] == dele_expiry
    assert dele_expiry == st[2]["retrieved"] + 7 * DAY

    rows, _ = sweep(stack, "alice", as_of=dele_expiry - 1)
    assert rows == []
    rows, totals = sweep(stack, "alice", as_of=dele_expiry)
    assert swept_uids(rows) == [2, 3]
    assert {r["reason"] for r in rows} == {"deferred"}
    assert [r["uidl"] for r in rows] == [uidls[2], uidls[3]]
    assert sorted(imap_flags(stack, "alice")) == [1]


def test_dele_expunge_of_a_domain_is_stock(policy):
    stack = policy
    deliver(stack, "bob", ["one", "two"])
    retrieve(stack, "bob", [1, 2], dele=[1])
    assert sorted(imap_flags(stack, "bob")) == [2]
    st = status_by_uid(stack, "bob")
    assert st[2]["state"] == "retrieved"
    assert st[2]["expires"] == st[2]["retrieved"] + 7 * DAY


def test_dele_hide_from_a_userdb_field(policy):
    stack = policy
    stack.set_userdb("alice", {"pop3_retention_on_dele": "hide"})
    deliver(stack, "alice", ["one", "two"])
    uidls = retrieve(stack, "alice", [1, 2], dele=[1])
    assert pop3_listing(stack, "alice") == [uidls[2]]
    flags = imap_flags(stack, "alice")
    assert KW_HIDDEN in flags[1] and KW_DEFERRED not in flags[1]
    st = status_by_uid(stack, "alice")
    assert st[1]["state"] == "hidden"
    # kept until keep_after_retrieval runs out, like any retrieved message
    assert st[1]["expires"] == st[1]["retrieved"] + 30 * DAY
    assert sweep(stack, "alice", as_of=st[1]["expires"] - 1)[0] == []
    rows, _ = sweep(stack, "alice", as_of=st[1]["expires"])
    assert [(r["uid"], r["reason"]) for r in rows] == [(1, "hidden"), (2, "retrieved")]


def test_user_block_keeps_for_ever(policy):
    stack = policy
    deliver(stack, "ceo", ["board"])
    retrieve(stack, "ceo", [1])
    st = status_by_uid(stack, "ceo")
    assert st[1]["state"] == "retrieved" and st[1]["retrieved"] > 0
    assert st[1]["expires"] == 0
    assert sweep(stack, "ceo", as_of="+36500d")[0] == []
    assert stack.message_count("ceo") == 1


def test_keep_zero_purges_at_the_end_of_the_session(policy):
    stack = policy
    stack.set_userdb("alice", {"pop3_retention_keep_after_retrieval": "0"})
    deliver(stack, "alice", ["one", "two", "three"])
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1, 3])
    # the QUIT stamped 1 and 3; the session's end expunged them at once
    assert sorted(imap_flags(stack, "alice")) == [2]
    lines = log_lines(stack, offsets, "pop3_retention: session: expunged")
    assert len(lines) == 1, lines
    assert "expunged 2 messages" in lines[0] and "from INBOX" in lines[0]
    assert "2 retrieved" in lines[0]
    # an unretrieved message is never expunged, even with keep 0
    assert status_by_uid(stack, "alice")[2]["state"] == "new"


def test_on_retrieve_none_sets_no_seen(policy):
    stack = policy
    stack.set_userdb("alice", {"pop3_retention_on_retrieve": "none"})
    deliver(stack, "alice", ["one"])
    retrieve(stack, "alice", [1])
    flags = imap_flags(stack, "alice")[1]
    assert KW_RETRIEVED in flags and "\\Seen" not in flags


def test_on_retrieve_move_keeps_the_retrieval_time(policy):
    stack = policy
    stack.configure(policy_text=POLICY + "pop3_retention user alice@example.com {\n"
                    "  on_retrieve = move Archive/POP3\n}\n")
    deliver(stack, "alice", ["one", "two", "three"])
    t0 = int(time.time())
    uidls = retrieve(stack, "alice", [1, 3])
    t1 = int(time.time())

    # After the QUIT the retrieved ones moved to a folder made for them.
    assert sorted(imap_flags(stack, "alice")) == [2]
    assert pop3_listing(stack, "alice") == [uidls[2]]
    moved = imap_flags(stack, "alice", "Archive/POP3")
    assert len(moved) == 2
    assert all(KW_RETRIEVED in f and "\\Seen" not in f for f in moved.values())

    # Retention applies there, counted from the retrieval: a sweep as of
    # the earliest possible expiry minus a second takes nothing, one as
    # of the latest possible one takes both.
    rows, _ = sweep(stack, "alice", as_of=t0 + 30 * DAY - 1, dry_run=True)
    assert rows == []
    rows, _ = sweep(stack, "alice", as_of=t1 + 30 * DAY)
    assert [(r["mailbox"], r["reason"]) for r in rows] == [("Archive/POP3", "retrieved")] * 2
    assert imap_flags(stack, "alice", "Archive/POP3") == {}
    assert sorted(imap_flags(stack, "alice")) == [2]


def test_userdb_fields_bad_value_is_logged_and_the_file_stands(policy):
    stack = policy
    stack.set_userdb("alice", {
        "pop3_retention_keep_after_retrieval": "forever",
        "pop3_retention_on_dele": " hide ",            # blanks around: trimmed
        "pop3_retention_max_retained_size": "-5",
    })
    offsets = stack.log_offsets()
    deliver(stack, "alice", ["one", "two"])
    retrieve(stack, "alice", [1, 2], dele=[2])
    warnings = log_lines(stack, offsets, "Ignoring the userdb field")
    assert any("pop3_retention_keep_after_retrieval=forever" in w
               and "alice@example.com" in w for w in warnings), warnings
    assert any("pop3_retention_max_retained_size=-5" in w for w in warnings), warnings
    st = status_by_uid(stack, "alice")
    # keep from the file (30d); the valid on_dele field applies
    assert st[1]["expires"] == st[1]["retrieved"] + 30 * DAY
    assert st[2]["state"] == "hidden"


def test_max_retained_size_after_a_session_goes_by_retrieval_time(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three", "four"], size=2000)
    sizes = {u: r["size"] for u, r in status_by_uid(stack, "alice").items()}
    # room for two of the four, not three
    cap = sizes[1] + sizes[2] + sizes[3] // 2
    stack.configure(policy_text=POLICY + "pop3_retention user alice@example.com {\n"
                    "  max_retained_size = %dB\n}\n" % cap)
    # the higher UIDs are retrieved first, in a session of their own
    retrieve(stack, "alice", [3, 4])
    first = status_by_uid(stack, "alice")[3]["retrieved"]
    while int(time.time()) <= first:
        time.sleep(0.1)
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1, 2])
    # over the cap after the second session: the earliest retrieved went
    assert sorted(imap_flags(stack, "alice")) == [1, 2]
    lines = log_lines(stack, offsets, "pop3_retention: session: expunged")
    assert len(lines) == 1 and "2 over max_retained_size" in lines[0], lines


@pytest.mark.parametrize("fields,expire", [
    ({}, ["30"]),
    ({"pop3_retention_keep_after_retrieval": "never"}, ["NEVER"]),
    ({"pop3_retention_keep_after_retrieval": "0"}, ["0"]),
    ({"pop3_retention_keep_after_retrieval": "36h"}, ["1"]),
], ids=["default-30d", "never", "zero", "36h"])
def test_capa_expire_after_login(policy, fields, expire):
    stack = policy
    stack.set_userdb("alice", fields)
    assert capa(stack, "alice")["EXPIRE"] == expire


def test_capa_expire_per_block(policy):
    assert capa(policy, "bob")["EXPIRE"] == ["7"]
    assert capa(policy, "ceo")["EXPIRE"] == ["NEVER"]


def test_capa_without_a_block_is_stock(stack):
    stack.configure(policy_text="# no pop3_retention block\n")
    assert "EXPIRE" not in capa(stack, "alice")


def test_an_override_applies_without_any_block(stack):
    stack.configure(policy_text="pop3_retention domain example.org {\n"
                    "  keep_after_retrieval = 7d\n}\n")
    stack.set_userdb("alice", {"pop3_retention_keep_after_retrieval": "14d"})
    deliver(stack, "alice", ["one"])
    retrieve(stack, "alice", [1])
    st = status_by_uid(stack, "alice")[1]
    assert st["state"] == "retrieved"
    assert st["expires"] == st["retrieved"] + 14 * DAY
    assert capa(stack, "alice")["EXPIRE"] == ["14"]
    # carol: no block, no field: stock
    deliver(stack, "carol", ["one"])
    retrieve(stack, "carol", [1])
    assert status_by_uid(stack, "carol")[1]["state"] == "new"
    assert "EXPIRE" not in capa(stack, "carol")


@pytest.mark.parametrize("on_retrieve,seen", [("seen", True), ("none", False)])
def test_pop3_no_flag_updates(policy, on_retrieve, seen):
    stack = policy
    stack.configure(dovecot={"settings": {"pop3_no_flag_updates": "yes"}})
    stack.set_userdb("alice", {"pop3_retention_on_retrieve": on_retrieve})
    deliver(stack, "alice", ["one"])
    retrieve(stack, "alice", [1])
    flags = imap_flags(stack, "alice")[1]
    assert KW_RETRIEVED in flags
    assert ("\\Seen" in flags) == seen


def test_the_session_purge_is_bounded(policy):
    """At most 1000 expunges at the end of one session; the next session (or
    a sweep) takes the rest."""
    stack = policy
    stack.set_userdb("alice", {"pop3_retention_keep_after_retrieval": "0"})
    deliver(stack, "alice", ["m%d" % i for i in range(1003)])
    offsets = stack.log_offsets()
    assert len(leave_on_server(stack, "alice")) == 1003
    assert stack.message_count("alice") == 3
    lines = log_lines(stack, offsets, "pop3_retention: session: expunged")
    assert len(lines) == 1 and "expunged 1000 messages" in lines[0], lines
    assert "limit reached" in lines[0]
    assert [r["state"] for r in status(stack, "alice")] == ["retrieved"] * 3
    # a session that retrieves nothing still purges what is due
    assert pop3_listing(stack, "alice") != []
    assert stack.message_count("alice") == 0
