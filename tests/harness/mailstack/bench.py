"""Throughput of the real servers, with and without one of our modules, measured
in the same run (make bench-servers; never part of make test).

Each load is a function of a running stack that returns a figure (messages
per second, or seconds per request); compare() runs a load on two
configurations of the stack in alternating rounds (A B A B ...) so that both
see the same machine load, and gives the medians and their ratio. Nothing
here asserts a time: the figures are printed for humans.

    from mailstack import bench
    r = bench.compare(stack, bench.smtp_rate, without={"parts": ["dovecot", "postfix"]},
                      with_={"parts": ["dovecot", "postfix", "milter"]}, rounds=3, messages=500)
    print(bench.describe("SMTP to discard:", r, "msg/s"))
"""

import statistics
import subprocess
import time

from . import clients
from .procs import HarnessError


def smtp_rate(stack, messages=1000, sessions=20, size=2048, listener="bench"):
    """smtp-source to the load listener (no TLS, no AUTH, relayed to discard:):
    messages/second until smtp-source has handed over every message. The queue
    is drained before returning, so that the next round starts equal."""
    stack.wait_queue_empty(timeout=60)
    argv = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
            "-f", "bench@example.net", "-t", "sink@bench.example",
            "127.0.0.1:%d" % stack.ports[listener]]
    t = time.monotonic()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.monotonic() - t
    if proc.returncode != 0:
        raise HarnessError("smtp-source failed (exit %d): %s\n%s%s" % (
            proc.returncode, " ".join(argv), proc.stdout[-2000:], proc.stderr[-2000:]))
    stack.wait_queue_empty(timeout=120)
    return messages / elapsed


def imap_append_rate(stack, who="alice", messages=200, size=4096, mailbox="INBOX"):
    """APPENDs over one IMAP connection: messages/second (each must answer OK)."""
    msg = clients.message("bench@example.net", stack.account(who).address, size=size)
    conn = clients.imap(stack, who)
    try:
        t = time.monotonic()
        for _ in range(messages):
            clients.append(conn, mailbox, msg)
        elapsed = time.monotonic() - t
    finally:
        conn.logout()
    return messages / elapsed


def pop3_download_rate(stack, who="bob", messages=200, size=4096):
    """A POP3 session that RETRs every message of an empty mailbox filled by IMAP
    APPEND beforehand, then QUITs: messages/second of the session (login to QUIT)."""
    msg = clients.message("bench@example.net", stack.account(who).address, size=size)
    conn = clients.imap(stack, who)
    try:
        for _ in range(messages):
            clients.append(conn, "INBOX", msg)
    finally:
        conn.logout()
    t = time.monotonic()
    pop = clients.pop3(stack, who)
    count, _ = pop.stat()
    if count != messages:
        raise HarnessError("POP3 sees %d messages, %d were stored" % (count, messages))
    for i in range(1, count + 1):
        pop.retr(i)
    pop.quit()
    return messages / (time.monotonic() - t)


def getquotaroot_latency(stack, who="carol", mailbox="INBOX", requests=200):
    """Median seconds of one GETQUOTAROOT round trip over one IMAP connection."""
    conn = clients.imap(stack, who)
    times = []
    try:
        for _ in range(requests):
            t = time.monotonic()
            typ, data = conn.getquotaroot(mailbox)
            times.append(time.monotonic() - t)
            if typ != "OK":
                raise HarnessError("GETQUOTAROOT %s answered %s %r" % (mailbox, typ, data))
    finally:
        conn.logout()
    return statistics.median(times)


def _configure(stack, how):
    if callable(how):
        how()
    else:
        stack.configure(**how)


def compare(stack, load, without, with_, rounds=3, **load_args):
    """Run load(stack, **load_args) on two configurations in alternating rounds.
    without / with_: stack.configure() arguments (dicts) or callables that set
    the stack up. Returns {"without": median, "with": median, "ratio": with/without,
    "samples": ([...], [...])}; the stack is left in the `with_` configuration."""
    a, b = [], []
    for _ in range(rounds):
        _configure(stack, without)
        stack.reset_mail()
        a.append(load(stack, **load_args))
        _configure(stack, with_)
        stack.reset_mail()
        b.append(load(stack, **load_args))
    ma, mb = statistics.median(a), statistics.median(b)
    return {"without": ma, "with": mb, "ratio": mb / ma, "samples": (a, b)}


def describe(what, result, unit):
    """One line for humans: both medians and the ratio."""
    return "%-34s without %9.1f %-6s with %9.1f %-6s ratio %.2f" % (
        what, result["without"], unit, result["with"], unit, result["ratio"])
