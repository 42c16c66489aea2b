#!/usr/bin/python3
"""bench_folder_quota: folder_quota against stock Dovecot, as ratios measured
in one run (issue 9, "Speed").

Both sides run the same Dovecot of the stack (STACK=debian12|debian13) with
the same data and the stock quota plugin with the user's "count" quota; the
plugin side adds folder_quota with a rule on the measured folders.  The two
configurations alternate (stock, plugin, stock, plugin, ...) so that drift of
a shared machine falls on both; the figure of each side is the median of its
rounds.

  APPEND     one IMAP session appends 4 KiB messages to a folder with a
             folder limit (never reached): messages per second.
  GETQUOTAROOT  on a folder of 10 and one of 100,000 messages (made as
             Maildir files, indexed once before timing): time per command.

Targets from the issue: APPEND >= 0.95x stock; GETQUOTAROOT <= 1.1x stock.
This is a benchmark: it prints figures, it does not assert them.

Environment: STACK, BUILD_DIR, MAILPOLICY_RUNTIME, MAILPOLICY_PORT_BASE as
for the harness; BENCH_APPENDS (default 300), BENCH_ROUNDS (default 3),
BENCH_BIG (default 100000).  Run as root: `make bench-folder-quota`.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from mailstack import Stack, clients  # noqa: E402
from mailstack.dovecot_conf import MAIL_UID  # noqa: E402

APPENDS = int(os.environ.get("BENCH_APPENDS", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BIG = int(os.environ.get("BENCH_BIG", "100000"))
SMALL = 10

POLICY = """
folder_quota {
  folder Bench {
    storage = 1G
  }
  folder Small {
    storage = 1G
    messages = 1000000
  }
  folder Big {
    storage = 10G
    messages = 1000000
  }
}
"""


def message(size, n):
    head = "From: bench@example.net\r\nTo: alice@example.com\r\nSubject: bench %d\r\n\r\n" % n
    body = ("x" * 62 + "\r\n") * ((size - len(head)) // 64 + 1)
    return (head + body).encode()[:size - 2] + b"\r\n"


def maildir_folder(stack, name, count, size=4096):
    """A Maildir++ folder of count messages written as files (sizes in the
    names: Dovecot reads no file to know them)."""
    root = os.path.join(stack.mail_home("alice"), "Maildir")
    folder = os.path.join(root, "." + name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    open(os.path.join(folder, "maildirfolder"), "w").close()
    body = message(size, 0).replace(b"\r\n", b"\n")
    vsize = len(body) + body.count(b"\n")
    now = int(time.time()) - 86400
    cur = os.path.join(folder, "cur")
    for i in range(count):
        fname = "%d.M%dP1.bench,S=%d,W=%d:2,S" % (now + i // 1000, i, len(body), vsize)
        with open(os.path.join(cur, fname), "wb") as f:
            f.write(body)
    for dirpath, dirnames, filenames in os.walk(stack.mail_home("alice")):
        os.chown(dirpath, MAIL_UID, MAIL_UID)
        for fn in filenames:
            os.chown(os.path.join(dirpath, fn), MAIL_UID, MAIL_UID)


def start(stack, plugin):
    stack.start(["dovecot"], plugins=["folder_quota"] if plugin else [],
                policy_text=POLICY)


def bench_append(stack, round_no):
    conn = clients.imap(stack, stack.account("alice"))
    box = "Bench"
    conn.create(box)
    msgs = [message(4096, round_no * APPENDS + i) for i in range(APPENDS)]
    t0 = time.perf_counter()
    for m in msgs:
        typ, data = conn.append(box, None, None, m)
        if typ != "OK":
            raise SystemExit("APPEND refused: %s %s" % (typ, data))
    elapsed = time.perf_counter() - t0
    conn.delete(box)
    conn.logout()
    return APPENDS / elapsed


def bench_getquotaroot(stack, box, count):
    conn = clients.imap(stack, stack.account("alice"))
    # warm: the folder is indexed, the session set up
    for _ in range(3):
        typ, data = conn.getquotaroot(box)
        if typ != "OK":
            raise SystemExit("GETQUOTAROOT %s: %s %s" % (box, typ, data))
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        typ, data = conn.getquotaroot(box)
        times.append(time.perf_counter() - t0)
        if typ != "OK":
            raise SystemExit("GETQUOTAROOT %s: %s %s" % (box, typ, data))
    roots = " ".join(d.decode() for d in data[0] + data[1] if d)
    conn.logout()
    return statistics.median(times), roots


def main():
    stack = Stack()
    if os.geteuid() != 0:
        raise SystemExit("run as root (the servers run as in the test suite)")
    print("bench_folder_quota on %s (Dovecot of the stack), %d rounds per side" % (
        stack.name, ROUNDS))
    start(stack, False)
    stack.reset(policy_text=POLICY)
    print("making Small (%d) and Big (%d messages) as Maildir files ..." % (SMALL, BIG))
    t0 = time.perf_counter()
    maildir_folder(stack, "Small", SMALL)
    maildir_folder(stack, "Big", BIG, size=500)
    conn = clients.imap(stack, stack.account("alice"))
    for box in ("Small", "Big"):
        typ, data = conn.status(box, "(MESSAGES)")
        print("  %s: %s" % (box, data[0].decode()))
    conn.logout()
    print("  ready in %.1f s" % (time.perf_counter() - t0))

    results = {False: {"append": [], "small": [], "big": []},
               True: {"append": [], "small": [], "big": []}}
    roots_seen = {}
    try:
        for r in range(ROUNDS):
            for plugin in (False, True):
                start(stack, plugin)
                res = results[plugin]
                res["append"].append(bench_append(stack, r * 2 + plugin))
                t, roots = bench_getquotaroot(stack, "Small", 200)
                res["small"].append(t)
                t, roots_big = bench_getquotaroot(stack, "Big", 40)
                res["big"].append(t)
                roots_seen[plugin] = roots_big
                print("  round %d %-7s APPEND %6.1f msg/s  GETQUOTAROOT Small %6.3f ms"
                      "  Big %7.3f ms" % (r + 1, "plugin" if plugin else "stock",
                                          res["append"][-1], res["small"][-1] * 1000,
                                          res["big"][-1] * 1000))
    finally:
        stack.stop()

    med = {p: {k: statistics.median(v) for k, v in results[p].items()} for p in results}
    print()
    print("GETQUOTAROOT Big, stock:  %s" % roots_seen[False])
    print("GETQUOTAROOT Big, plugin: %s" % roots_seen[True])
    print()
    print("%-34s %12s %12s %8s  %s" % ("", "stock", "folder_quota", "ratio", "target"))
    print("%-34s %12.1f %12.1f %7.3fx  >= 0.95x" % (
        "APPEND 4 KiB (msg/s)", med[False]["append"], med[True]["append"],
        med[True]["append"] / med[False]["append"]))
    print("%-34s %12.3f %12.3f %7.3fx  <= 1.1x" % (
        "GETQUOTAROOT, %d messages (ms)" % SMALL, med[False]["small"] * 1000,
        med[True]["small"] * 1000, med[True]["small"] / med[False]["small"]))
    print("%-34s %12.3f %12.3f %7.3fx  <= 1.1x" % (
        "GETQUOTAROOT, %d messages (ms)" % BIG, med[False]["big"] * 1000,
        med[True]["big"] * 1000, med[True]["big"] / med[False]["big"]))


if __name__ == "__main__":
    main()
