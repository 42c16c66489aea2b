#!/usr/bin/python3
"""make bench-pop3: what pop3_retention costs, against the same stock Dovecot,
measured in one run on one stack (alternating rounds, medians; figures for
humans, nothing asserted). Not part of make test.

  session  a POP3 session over a 5,000-message mailbox (4 KB messages by
           default): UIDL, RETR all, QUIT
           (a Thunderbird's first download), messages/second from login to
           the QUIT's answer, without and with the plugin (the plugin stamps
           every retrieval in the QUIT's transaction); also the time until
           the session's process ended (the plugin's purge runs after the
           QUIT's answer).
  sweep    `doveadm pop3-retention sweep -A` over 1,000 users with 100
           retrieved messages each (nothing due: every message examined,
           none expunged), beside stock `doveadm expunge -A mailbox INBOX
           seen savedbefore 30d` on the same mailboxes: messages examined per
           second.

The stack runs on MAILPOLICY_PORT_BASE / MAILPOLICY_RUNTIME like every harness
command (STACK=debian13 for the Debian 13 tree).

  tests/bench/bench_pop3_retention.py [--only session,sweep] [--rounds N]
      [--messages N] [--size BYTES] [--users N] [--per-user N]
"""

import argparse
import os
import statistics
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from mailstack import HarnessError, Stack, bench, clients, procs  # noqa: E402
from mailstack.layout import Account  # noqa: E402
from test_pop3_retention_support import POLICY  # noqa: E402

MAIL_UID = 8
HEADER = ("From: bench@example.net\r\nTo: %s\r\nSubject: bench %d\r\n"
          "Message-ID: <bench.%d@example.net>\r\n\r\n")
LINE = "x" * 76 + "\r\n"


def fill_maildir(stack, who, count, keyword=False, size=4096):
    """count messages written straight into the Maildir (as a delivery agent
    would: size and virtual size in the name), optionally already \\Seen and
    retrieved ($POP3Retrieved as keyword "a"; the time is missing, so the
    first sweep stamps it). Dovecot indexes them on first access."""
    maildir = os.path.join(stack.mail_home(who), "Maildir")
    addr = stack.account(who).address
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, d), exist_ok=True)
    if keyword:
        with open(os.path.join(maildir, "dovecot-keywords"), "w") as f:
            f.write("0 $POP3Retrieved\n")
    now = int(time.time())
    for i in range(count):
        data = (HEADER % (addr, i, i) + LINE * max(1, size // len(LINE))).encode()
        vsize = len(data)
        base = "%d.M%dP%d.bench,S=%d,W=%d" % (now, i, os.getpid(), len(data), vsize)
        if keyword:
            path = os.path.join(maildir, "cur", base + ":2,Sa")
        else:
            path = os.path.join(maildir, "new", base)
        with open(path, "wb") as f:
            f.write(data)
    for root, dirs, files in os.walk(stack.mail_home(who)):
        for name in dirs + files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_UID)
    os.chown(stack.mail_home(who), MAIL_UID, MAIL_UID)


def wait_pop3_gone(stack, timeout=300):
    """Until no pop3 process runs (polled every 5 ms: the figure it gives is
    the time the session's process took after the QUIT's answer)."""
    sid = procs.session_id(stack.state["pids"]["dovecot"])
    deadline = time.monotonic() + timeout
    while any(comm == "pop3" for _, comm in procs.session_members(sid)):
        if time.monotonic() > deadline:
            raise HarnessError("a pop3 process still runs after %d s" % timeout)
        time.sleep(0.005)


def session_rate(stack, who="alice", messages=5000, size=4096, ended=None):
    """UIDL, RETR all, QUIT over a freshly filled mailbox: messages/second
    until the QUIT's answer; ended (a list) gets the seconds until the
    session's process was gone."""
    fill_maildir(stack, who, messages, size=size)
    stack.doveadm("mailbox", "status", "-u", stack.account(who).address,
                  "messages", "INBOX")              # index it, outside the timing
    t = time.monotonic()
    pop = clients.pop3(stack, who)
    resp, lines, _ = pop.uidl()
    if len(lines) != messages:
        raise HarnessError("UIDL lists %d messages, %d stored" % (len(lines), messages))
    for i in range(1, messages + 1):
        pop.retr(i)
    if not pop.quit().startswith(b"+OK"):
        raise HarnessError("QUIT failed")
    quit_at = time.monotonic()
    wait_pop3_gone(stack)
    if ended is not None:
        ended.append(time.monotonic() - t)
    return messages / (quit_at - t)


def bench_session(stack, rounds, messages, size):
    ended = {"without": [], "with": []}
    which = []

    def without():
        stack.configure(plugins=[], policy_text=POLICY)
        which.append("without")

    def with_():
        stack.configure(plugins=["pop3_retention"], policy_text=POLICY)
        which.append("with")

    samples = []

    def load(s, **kw):
        out = []
        r = session_rate(s, messages=messages, size=size, ended=out)
        ended[which[-1]].append(out[0])
        samples.append(r)
        return r

    r = bench.compare(stack, load, without, with_, rounds=rounds)
    print(bench.describe("POP3 session, %d x %d B:" % (messages, size), r, "msg/s"))
    # each round ran both back to back: the median of those pairs' ratios
    # is less sensitive to the machine's load drifting between rounds
    pairs = [w / o for o, w in zip(*r["samples"])]
    print("  median of the %d paired round ratios: %.2f (min %.2f, max %.2f)" % (
        len(pairs), statistics.median(pairs), min(pairs), max(pairs)))
    # on a shared machine the best round is the one least disturbed
    best_o, best_w = max(r["samples"][0]), max(r["samples"][1])
    print("  best round: without %.0f msg/s, with %.0f msg/s, ratio %.2f" % (
        best_o, best_w, best_w / best_o))
    ew, eo = statistics.median(ended["with"]), statistics.median(ended["without"])
    print("  until the session's process ended: without %.2f s, with %.2f s "
          "(ratio of rates %.2f)" % (eo, ew, eo / ew))
    print("  samples without %s, with %s" % (
        ["%.0f" % x for x in r["samples"][0]], ["%.0f" % x for x in r["samples"][1]]))


def bench_sweep(stack, rounds, users, per_user):
    accounts = [Account("u%04d@example.com" % i, "secret") for i in range(users)]
    stack.configure(parts=["dovecot"], plugins=["pop3_retention"], policy_text=POLICY,
                    accounts=accounts)
    t = time.monotonic()
    for a in accounts:
        fill_maildir(stack, a, per_user, keyword=True, size=1024)
    print("  filled %d mailboxes with %d messages each in %.1f s" % (
        users, per_user, time.monotonic() - t))
    # index everything and stamp the retrieval times once (the first sweep
    # writes them: the files carry the keyword only); check that the plugin
    # sees every message as retrieved
    stack.doveadm("pop3-retention", "sweep", "-A", timeout=1800)
    states = [r["state"] for r in stack.doveadm_rows(
        "pop3-retention", "status", "-u", accounts[0].address)]
    if states != ["retrieved"] * per_user:
        raise HarnessError("bench data: %s sees %s" % (accounts[0].address, states))
    stack.doveadm("expunge", "-A", "mailbox", "INBOX", "seen", "savedbefore", "30d",
                  timeout=1800)
    total = users * per_user
    ours, stock = [], []
    for _ in range(rounds):
        t = time.monotonic()
        out = stack.doveadm("-f", "tab", "pop3-retention", "sweep", "-A", timeout=1800).stdout
        ours.append(time.monotonic() - t)
        if "\tretrieved" in out or out.count("\ttotal") != users:
            raise HarnessError("the sweep expunged something or missed users: "
                               "the bench data is wrong:\n%s" % out[-2000:])
        t = time.monotonic()
        stack.doveadm("expunge", "-A", "mailbox", "INBOX", "seen", "savedbefore", "30d",
                      timeout=1800)
        stock.append(time.monotonic() - t)
    left = stack.message_count(accounts[-1])
    if left != per_user:
        raise HarnessError("%s has %d messages, expected %d" % (accounts[-1].address, left,
                                                                 per_user))
    mo, ms = statistics.median(ours), statistics.median(stock)
    print("  best round: stock %.2f s, sweep %.2f s, ratio %.2f" % (
        min(stock), min(ours), min(stock) / min(ours)))
    print("sweep -A, %d users x %d retrieved:   stock expunge %.2f s (%.0f msg/s), "
          "pop3-retention sweep %.2f s (%.0f msg/s), ratio %.2f" % (
              users, per_user, ms, total / ms, mo, total / mo, ms / mo))
    print("  samples stock %s, sweep %s" % (["%.2f" % x for x in stock],
                                             ["%.2f" % x for x in ours]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="session,sweep")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--size", type=int, default=4096, help="message size (session)")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--per-user", type=int, default=100)
    args = ap.parse_args(argv)
    stack = Stack()
    stack.start(["dovecot"], fresh=True)
    try:
        if stack.state.get("plugins") is None or \
                "pop3_retention" not in stack.state.get("plugins", []):
            raise HarnessError("pop3_retention is not built (make first)")
        print("pop3_retention on %s (%d rounds, alternating without/with)" % (
            stack.name, args.rounds))
        if "session" in args.only:
            bench_session(stack, args.rounds, args.messages, args.size)
        if "sweep" in args.only:
            bench_sweep(stack, args.rounds, args.users, args.per_user)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HarnessError as e:
        print("bench failed: %s" % e, file=sys.stderr)
        sys.exit(1)
