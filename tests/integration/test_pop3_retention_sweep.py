"""`doveadm pop3-retention sweep` and `status`: exactly which messages go as of
a given time, -A, `-f tab` parsed, re-stamping after an index rebuild, a sweep
killed with SIGKILL and run again, max_retained_size, and what happens when the
policy is broken or unreadable (nothing is expunged, the error names the file
and line)."""

import datetime
import os
import signal
import subprocess
import time

import pytest

from mailstack import HarnessError
from test_pop3_retention_support import (
    DAY, KW_RETRIEVED, POLICY, deliver, imap_flags, leave_on_server, log_lines,
    retrieve, status, status_by_uid, sweep, swept_uids, uidl_map,
    wait_pop3_sessions_done)
from mailstack import clients

pytestmark = pytest.mark.plugin("pop3_retention")

BROKEN = """\
pop3_retention {
  keep_after_retrieval = 30d
  on_dele = sometimes
}
"""


@pytest.fixture
def policy(stack):
    stack.configure(policy_text=POLICY)
    return stack


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_sweep_as_of_shows_exactly_which_messages_go(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three", "four"])
    retrieve(stack, "alice", [1, 2, 3], dele=[3])
    st = status_by_uid(stack, "alice")
    assert [st[u]["state"] for u in (1, 2, 3, 4)] == ["retrieved", "retrieved", "deferred", "new"]
    t = st[1]["retrieved"]
    keep_expiry, dele_expiry = t + 30 * DAY, st[3]["expires"]
    assert st[2]["expires"] == keep_expiry and dele_expiry == t + 7 * DAY

    # dry runs at the edges, in each accepted TIME form
    for as_of, expected in ((dele_expiry - 1, []), (dele_expiry, [3]),
                            (iso(keep_expiry - 1), [3]), (iso(keep_expiry), [1, 2, 3]),
                            (keep_expiry + 365 * DAY, [1, 2, 3])):
        rows, _ = sweep(stack, "alice", as_of=as_of, dry_run=True)
        assert swept_uids(rows) == expected, as_of
    assert status_by_uid(stack, "alice") == st, "a dry run changed something"

    rows, totals = sweep(stack, "alice", as_of=keep_expiry)
    assert [(r["uid"], r["reason"]) for r in rows] == [
        (1, "retrieved"), (2, "retrieved"), (3, "deferred")]
    assert totals["alice@example.com"][0] == 3
    assert [r["uid"] for r in status(stack, "alice")] == [4]
    # idempotent: a second run has nothing left to do
    rows, totals = sweep(stack, "alice", as_of=keep_expiry)
    assert rows == [] and totals == {"alice@example.com": (0, 0)}


def test_sweep_relative_time_and_without_as_of(policy):
    stack = policy
    deliver(stack, "bob", ["one"])
    retrieve(stack, "bob", [1])
    assert sweep(stack, "bob")[0] == []               # now: 7 days left
    assert sweep(stack, "bob", as_of="+6d", dry_run=True)[0] == []
    rows, _ = sweep(stack, "bob", as_of="+7d")
    assert swept_uids(rows) == [1]


def test_sweep_all_users(policy):
    stack = policy
    for who in ("alice", "bob", "ceo"):
        deliver(stack, who, ["one", "two"])
        retrieve(stack, who, [1])
    rows, totals = sweep(stack, as_of="+8d")
    # example.org keeps 7 days, the default 30, ceo for ever
    assert [(r["user"], r["uid"]) for r in rows] == [("bob@example.org", 1)]
    for a in stack.accounts:
        assert a.address in totals
    assert totals["bob@example.org"][0] == 1
    assert totals["alice@example.com"] == (0, 0) and totals["ceo@example.org"] == (0, 0)
    rows, _ = sweep(stack, as_of="+31d")
    assert [(r["user"], r["uid"]) for r in rows] == [("alice@example.com", 1)]
    assert stack.message_count("ceo") == 2


def test_status_matches_what_the_pop3_client_sees(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two"])
    deliver(stack, "alice", ["three"], size=5000)
    conn = clients.pop3(stack, "alice")
    uidls = uidl_map(conn)
    _, listing, _ = conn.list()
    sizes = {int(n): int(s) for n, s in (ln.split() for ln in listing)}
    conn.retr(2)
    assert conn.quit().startswith(b"+OK")
    wait_pop3_sessions_done(stack)

    rows = status(stack, "alice")
    assert [r["uid"] for r in rows] == [1, 2, 3]
    for n, r in zip((1, 2, 3), rows):
        assert r["uidl"] == uidls[n]
        assert r["size"] == sizes[n]
    assert [r["state"] for r in rows] == ["new", "retrieved", "new"]
    assert rows[0]["retrieved"] == 0 and rows[0]["expires"] == 0


def _drop_index(stack, who):
    """Delete the mailbox's index files, as a rebuild does: keywords survive
    in the maildir file names, the index extension with the times does not."""
    stack.kick_all()
    maildir = os.path.join(stack.mail_home(who), "Maildir")
    gone = [f for f in os.listdir(maildir) if f.startswith("dovecot.index")]
    assert "dovecot.index.log" in gone, os.listdir(maildir)
    for f in gone:
        os.unlink(os.path.join(maildir, f))


def test_index_rebuild_restamps_and_never_shortens(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two"])
    retrieve(stack, "alice", [1])
    before = status_by_uid(stack, "alice")[1]
    while int(time.time()) <= before["retrieved"]:
        time.sleep(0.1)
    _drop_index(stack, "alice")
    assert KW_RETRIEVED in imap_flags(stack, "alice")[1]

    # the marker survived, its time did not: "now", so retention got longer
    after = status_by_uid(stack, "alice")[1]
    assert after["state"] == "retrieved"
    assert after["retrieved"] > before["retrieved"]
    assert after["expires"] > before["expires"]
    assert sweep(stack, "alice", as_of=before["expires"])[0] == []   # stamps it
    stamped = status_by_uid(stack, "alice")[1]
    assert before["retrieved"] < stamped["retrieved"] <= int(time.time())
    assert sweep(stack, "alice", as_of=stamped["expires"] - 1)[0] == []
    rows, _ = sweep(stack, "alice", as_of=stamped["expires"])
    assert swept_uids(rows) == [1]
    assert status_by_uid(stack, "alice")[2]["state"] == "new"


def test_sweep_killed_with_sigkill_then_run_again(policy):
    stack = policy
    deliver(stack, "alice", ["m%d" % i for i in range(400)])
    assert len(leave_on_server(stack, "alice")) == 400
    deliver(stack, "alice", ["new %d" % i for i in range(3)])
    maildir = os.path.join(stack.mail_home("alice"), "Maildir")

    def files():
        return sum(len(os.listdir(os.path.join(maildir, d))) for d in ("cur", "new"))
    assert files() == 403
    argv = stack.platform.cmd(["doveadm", "-c", stack.dovecot_conf(), "pop3-retention",
                               "sweep", "--as-of", "+31d", "-u", "alice@example.com"])
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # kill it in the middle of its work: once the first file is gone
        # (the batch is committed, the expunges half applied)
        deadline = time.monotonic() + 30
        while files() == 403 and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep removed nothing in 30 s"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    print("killed sweep: exit %d, %d files left" % (proc.returncode, files()))
    # Whatever the killed run did (nothing, part, all: killed at -9 or
    # finished), the mailbox is consistent: the new messages are there,
    # and a rerun expunges exactly the retrieved ones still left.
    mid = status(stack, "alice")
    assert [r["uid"] for r in mid if r["state"] == "new"] == [401, 402, 403]
    left = [r["uid"] for r in mid if r["state"] == "retrieved"]
    assert len(mid) == len(left) + 3
    print("left after the killed sweep:", len(left))
    rows, totals = sweep(stack, "alice", as_of="+31d")
    assert swept_uids(rows) == left
    assert [(r["uid"], r["state"]) for r in status(stack, "alice")] == [
        (401, "new"), (402, "new"), (403, "new")]


def test_max_retained_size_in_a_sweep(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three"], size=3000)
    times = {}
    for n in (2, 3, 1):                   # retrieval order is not UID order
        retrieve(stack, "alice", [n])
        times[n] = status_by_uid(stack, "alice")[n]["retrieved"]
        while int(time.time()) <= times[n]:
            time.sleep(0.1)
    st = status_by_uid(stack, "alice")
    cap = st[1]["size"] + st[3]["size"]
    stack.configure(policy_text=POLICY + "pop3_retention user alice@example.com {\n"
                    "  max_retained_size = %dB\n}\n" % cap)
    rows, _ = sweep(stack, "alice", dry_run=True)
    assert [(r["uid"], r["reason"]) for r in rows] == [(2, "size")]
    stack.configure(policy_text=POLICY + "pop3_retention user alice@example.com {\n"
                    "  max_retained_size = %dB\n}\n" % (cap - 1))
    rows, _ = sweep(stack, "alice")
    assert [(r["uid"], r["reason"]) for r in rows] == [(2, "size"), (3, "size")]
    assert sorted(imap_flags(stack, "alice")) == [1]


def test_broken_policy_expunges_nothing_and_names_file_and_line(policy):
    stack = policy
    deliver(stack, "alice", ["one", "two", "three"])
    retrieve(stack, "alice", [1])
    stack.configure(policy_text=BROKEN)
    where = "%s:3:13:" % stack.policy_path()
    offsets = stack.log_offsets()

    # the RETR is not recorded (a DELE is refused: test_pop3_retention_safety)
    uidls = retrieve(stack, "alice", [2])
    errors = log_lines(stack, offsets, "pop3_retention: Cannot load the policy")
    assert errors and where in errors[0], errors
    assert sorted(imap_flags(stack, "alice")) == [1, 2, 3]
    assert KW_RETRIEVED not in imap_flags(stack, "alice")[2]
    assert len(uidls) == 3

    for args in (["sweep", "--as-of", "+3650d", "-u", "alice@example.com"],
                 ["status", "-u", "alice@example.com"]):
        proc = stack.doveadm("pop3-retention", *args, check=False)
        assert proc.returncode != 0, proc
        assert where in proc.stderr, proc.stderr
    assert sorted(imap_flags(stack, "alice")) == [1, 2, 3]

    stack.configure(policy_text=POLICY)
    rows, _ = sweep(stack, "alice", as_of="+31d")
    assert swept_uids(rows) == [1]


def test_unreadable_policy_expunges_nothing(policy):
    stack = policy
    stack.configure(policy_text=POLICY.replace("30d", "0"))
    deliver(stack, "alice", ["one", "two"])
    path = stack.paths.h("etc", "mailpolicy.conf")
    os.chmod(path, 0)
    offsets = stack.log_offsets()
    retrieve(stack, "alice", [1, 2])
    # keep 0 would have expunged both at the end of the session
    assert sorted(imap_flags(stack, "alice")) == [1, 2]
    errors = log_lines(stack, offsets, "pop3_retention: Cannot load the policy")
    assert errors and stack.policy_path() in errors[0], errors
    os.chmod(path, 0o644)


def test_bad_as_of_is_a_usage_error(policy):
    stack = policy
    for bad in ("yesterday", "2026-02-30", "+never", "+5"):
        proc = stack.doveadm("pop3-retention", "sweep", "--as-of", bad, "-u",
                             "alice@example.com", check=False)
        assert proc.returncode == 64, (bad, proc)
        assert "invalid time" in proc.stderr or "invalid duration" in proc.stderr, proc.stderr
    proc = stack.doveadm("pop3-retention", "status", "-A", check=False)
    assert proc.returncode == 64 and "-u USER" in proc.stderr, proc
    with pytest.raises(HarnessError):
        sweep(stack, "alice", as_of="2026-13-01")
