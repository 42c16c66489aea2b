#!/usr/bin/python3
"""make bench-servers: throughput of the real servers with and without each of
our modules, measured in one run on one stack (tests/harness/mailstack/bench.py).

  SMTP      smtp-source to the bench listener (relayed to discard:), without and
            with mailpolicy-milter in smtpd_milters: messages/s
  APPEND    IMAP APPEND rate, without and with folder_quota: messages/s
  POP3      POP3 download (RETR all, QUIT), without and with pop3_retention: messages/s
  QUOTA     GETQUOTAROOT round trip, without and with folder_quota: ms (lower is better)

A module that is not built is reported as such with the stock figure alone.
Ratios are with/without (for QUOTA: latency with/without, so > 1 is slower).
The stack runs on MAILPOLICY_PORT_BASE / MAILPOLICY_RUNTIME like every harness
command (STACK=debian13 for the Debian 13 tree). Not part of make test.

  tests/bench/servers/bench_servers.py [--quick] [--rounds N] [--only smtp,append,pop3,quota]
"""

import argparse
import os
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from mailstack import HarnessError, Stack, bench, modules  # noqa: E402

LOADS = ("smtp", "append", "pop3", "quota")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small loads (a smoke run)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(LOADS))
    args = ap.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    for x in only:
        if x not in LOADS:
            raise SystemExit("unknown load %r (loads: %s)" % (x, ", ".join(LOADS)))
    if os.geteuid() != 0:
        raise SystemExit("bench-servers runs the servers as root")
    scale = 10 if args.quick else 1
    stack = Stack()
    build = stack.platform.build_dir(stack.build_dir)
    built = modules.available(build)
    milter = os.path.exists(modules.milter_path(build))
    print("bench-servers on %s (%d rounds%s); built: %s" % (
        stack.name, args.rounds, ", quick" if args.quick else "",
        ", ".join(built + (["mailpolicy-milter"] if milter else [])) or "nothing of ours"))
    t0 = time.monotonic()
    try:
        stack.start(["dovecot", "postfix"], plugins=[], fresh=True)
        lines = []
        if "smtp" in only:
            lines.append(run(stack, "SMTP to discard: (20 sessions)", "msg/s", bench.smtp_rate,
                             {"parts": ["dovecot", "postfix"]},
                             {"parts": ["dovecot", "postfix", "milter"]} if milter else None,
                             args.rounds, messages=2000 // scale))
        for load, name, plugin, fn, unit, kw in (
                ("append", "IMAP APPEND 4 KB", "folder_quota", bench.imap_append_rate, "msg/s",
                 {"messages": 500 // scale}),
                ("pop3", "POP3 RETR all 4 KB", "pop3_retention", bench.pop3_download_rate,
                 "msg/s", {"messages": 500 // scale}),
                ("quota", "GETQUOTAROOT INBOX", "folder_quota", latency_ms(bench), "ms",
                 {"requests": 500 // scale})):
            if load in only:
                lines.append(run(stack, name, unit, fn, {"plugins": []},
                                 {"plugins": [plugin]} if plugin in built else None,
                                 args.rounds, **kw))
    except HarnessError as e:
        raise SystemExit("bench-servers: %s" % e)
    finally:
        stack.stop()
    print("\n".join(lines))
    print("(medians of %d rounds, measured in %.0f s)" % (args.rounds, time.monotonic() - t0))
    return 0


def latency_ms(bench_module):
    def load(stack, **kw):
        return bench_module.getquotaroot_latency(stack, **kw) * 1000.0
    return load


def run(stack, what, unit, load, without, with_, rounds, **kw):
    if with_ is None:
        stack.configure(**without)
        samples = []
        for _ in range(rounds):
            stack.reset_mail()
            samples.append(load(stack, **kw))
        samples.sort()
        return "%-34s stock   %9.1f %-6s (module not built: no ratio)" % (
            what, samples[len(samples) // 2], unit)
    return bench.describe(what, bench.compare(stack, load, without, with_, rounds, **kw), unit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
