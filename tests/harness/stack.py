#!/usr/bin/python3
"""Start, stop and inspect the mailpolicy test stack by hand.

  /usr/bin/python3 tests/harness/stack.py start  [--stack debian12] [--parts dovecot,postfix,redis,milter]
                                                  [--plugins auto|none|NAME,...] [--policy FILE]
  /usr/bin/python3 tests/harness/stack.py stop   [--stack debian12] [--parts ...]
  /usr/bin/python3 tests/harness/stack.py status [--stack debian12]
  /usr/bin/python3 tests/harness/stack.py info   [--stack debian12]     ports, accounts, logs

Environment: STACK, BUILD_DIR (default REPO/build), MAILPOLICY_RUNTIME
(default /tmp/mailpolicy-test), MAILPOLICY_PORT_BASE. Runs as root.
If `start` fails or is interrupted, what it started is stopped again.
"""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailstack import PARTS, HarnessError, Stack  # noqa: E402


def print_info(stack):
    print("stack %s, runtime directory %s" % (stack.name, stack.paths.host))
    print("ports (127.0.0.1):")
    for name, port, what in stack.describe_ports():
        print("  %-13s %5d  %s" % (name, port, what))
    print("accounts (login = full address):")
    for a in stack.accounts:
        print("  %-20s password %s" % (a.address, a.password))
    print("logs: %s" % ", ".join(sorted(stack.log_files().values())))
    print("policy file: %s" % stack.paths.h("etc", "mailpolicy.conf"))
    print("doveadm:  %s" % stack.platform.shown("doveadm -c %s ..." % stack.dovecot_conf()))
    print("queue:    %s" % stack.platform.shown("postqueue -c %s -p" % stack.postfix_dir()))


def parse_list(text, allowed=None):
    items = [x for x in text.split(",") if x]
    for x in items:
        if allowed and x not in allowed:
            raise SystemExit("unknown part %r (parts: %s)" % (x, ",".join(allowed)))
    return items


def main(argv):
    ap = argparse.ArgumentParser(description="mailpolicy test stack")
    ap.add_argument("command", choices=("start", "stop", "status", "info", "restart"))
    ap.add_argument("--stack", default=None, help="debian12 (default, or $STACK) or debian13")
    ap.add_argument("--parts", default=None, help="comma list of %s" % ",".join(PARTS))
    ap.add_argument("--plugins", default=None,
                    help="auto (every built plugin; the default), none, or a comma list")
    ap.add_argument("--policy", default=None, help="policy file (default packaging/mailpolicy.conf)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `stack.py status | head` ends quietly
    if os.geteuid() != 0:
        raise SystemExit("the test stack runs as root (as CI does)")
    stack = Stack(args.stack)
    if args.command in ("start", "restart"):
        parts = parse_list(args.parts, PARTS) if args.parts else ["dovecot", "postfix"]
        if args.plugins in (None, "auto"):
            plugins = args.plugins
        else:
            plugins = [] if args.plugins == "none" else parse_list(args.plugins)
        if args.command == "restart":
            stack.stop()
        # SIGTERM during start: unwind like Ctrl-C (start stops what it started).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            timings = stack.start(parts, plugins=plugins, policy_file=args.policy)
        except HarnessError as e:
            raise SystemExit("start failed: %s" % e)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        print("started %s in %.1f s (%s); plugins: %s" % (
            ", ".join(stack.running()), timings["total"],
            ", ".join("%s %.2f s" % kv for kv in timings.items() if kv[0] != "total"),
            ", ".join(stack.state["plugins"]) or "none (stock Dovecot)"))
        print_info(stack)
        print("stop with: /usr/bin/python3 %s stop --stack %s" % (
            os.path.relpath(os.path.abspath(__file__)), stack.name))
    elif args.command == "stop":
        parts = parse_list(args.parts, PARTS) if args.parts else None
        killed = stack.stop(parts)
        left = stack.leftovers() if parts is None else []
        print("stopped %s%s" % (", ".join(parts or ["everything"]),
                                " (had to kill %s)" % killed if killed else ""))
        if left:
            raise SystemExit("still running: %s" % left)
    elif args.command == "status":
        running = False
        for part, (pid, answers) in stack.status().items():
            print("%-8s %s" % (part, "pid %d" % pid if pid else "not running"))
            running = running or bool(pid)
            for name, answer in answers:
                print("    %-13s %5d  %s" % (name, stack.ports[name], answer))
        left = [p for p in stack.leftovers() if p not in stack.state["pids"].values()]
        if not running and left:
            print("stray processes of this stack: %s (run stop)" % left)
        return 0 if running else 3
    else:
        print_info(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
