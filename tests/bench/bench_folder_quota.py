#!/usr/bin/python3
"""bench_folder_quota: folder_quota against stock Dovecot, as ratios measured
in one run (issue 9, "Speed").

Both sides run the same Dovecot of the stack (STACK=debian12|debian13), the
same data and the stock quota plugin with the user's "count" quota; the
plugin side adds folder rules on the measured folders.  Two ways, printed
one after the other:

  interleaved  one Dovecot with folder_quota loaded; alice has folder rules
               (a folder root on each measured folder), carol, with the same
               folders and mail, has none (the plugin leaves her alone).
               Their commands alternate in small chunks, so the load of a
               shared machine falls on both sides alike.
  restart      Dovecot without folder_quota (stock) and with it, in turns
               (the first side alternating), restarted each time; each
               side's figure is the median of its rounds.  Closest to "the
               same Dovecot with the user quota alone", and the noisier.

  APPEND        4 KiB messages into a folder whose limit is never reached, in
                chunks of 10: messages per second of the median chunk.
                Every APPEND is written to disk (fsync), so on a shared
                machine the disk's noise reaches this figure; the
                interleaved way also gives the CPU time each side's imap
                process spent per message, which it does not reach.
  GETQUOTAROOT  on a folder of 10 and one of 100,000 messages (Maildir files
                made on disk, indexed once before timing): time per command
                as a raw socket client sees it (median), so that the client's
                own work (parsing the extra QUOTA line) weighs as little as
                it can.
  GETQUOTAROOT after each new message  the same on the 100,000-message
                folder while another session appends to it between commands,
                so that the user's count root must look at it anew each time.

Targets from the issue: APPEND >= 0.95x stock; GETQUOTAROOT <= 1.1x stock.
This is a benchmark: it prints figures, it asserts none.

Environment: STACK, BUILD_DIR, MAILPOLICY_RUNTIME, MAILPOLICY_PORT_BASE as for
the harness; BENCH_APPENDS (default 400, per side and pass), BENCH_PASSES
(default 6: interleaved APPEND passes), BENCH_ROUNDS (default 3),
BENCH_BIG (default 100000), BENCH_PIN (default 1: the bench and the imap
processes it talks to share one CPU, see pin()).  Run as root:
`make bench-folder-quota`.
"""

import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from mailstack import Stack, clients  # noqa: E402
from mailstack.dovecot_conf import MAIL_UID  # noqa: E402

APPENDS = int(os.environ.get("BENCH_APPENDS", "400"))
PASSES = int(os.environ.get("BENCH_PASSES", "6"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BIG = int(os.environ.get("BENCH_BIG", "100000"))
SMALL = 10
PIN = os.environ.get("BENCH_PIN", "1") != "0"
PIN_CPU = min(os.sched_getaffinity(0))
CHUNK = 10

# Folder rules for alice only: carol is the stock side of the interleaved way.
POLICY = """
folder_quota user alice@example.com {
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
SIDES = (("stock", "carol"), ("folder_quota", "alice"))


def message(size, n):
    head = "From: bench@example.net\r\nTo: alice@example.com\r\nSubject: bench %d\r\n\r\n" % n
    body = ("x" * 62 + "\r\n") * ((size - len(head)) // 64 + 1)
    return (head + body).encode()[:size - 2] + b"\r\n"


def maildir_folder(stack, who, name, count, size):
    """A Maildir++ folder of count messages written as files (sizes in the
    names: Dovecot reads no file to know them)."""
    home = stack.mail_home(who)
    folder = os.path.join(home, "Maildir", "." + name)
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
    for dirpath, _, filenames in os.walk(home):
        os.chown(dirpath, MAIL_UID, MAIL_UID)
        for fn in filenames:
            os.chown(os.path.join(dirpath, fn), MAIL_UID, MAIL_UID)


def session(stack, who):
    return clients.imap(stack, stack.account(who))


class RawSession:
    """A logged-in IMAP session over a plain socket, for timing one command
    with as little client work as there can be (no response parsing)."""

    def __init__(self, stack, who):
        account = stack.account(who)
        self.sock = socket.create_connection((clients.HOST, stack.ports["imap"]))
        self.buf = b""
        self._line()
        self.command(b'LOGIN "%s" "%s"' % (account.address.encode(),
                                           account.password.encode()))

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("the server closed the connection")
            self.buf += data
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def command(self, cmd):
        """Send cmd; return the untagged lines; raise unless OK."""
        self.sock.sendall(b"t " + cmd + b"\r\n")
        lines = []
        while True:
            line = self._line()
            if line.startswith(b"t "):
                if not line.startswith(b"t OK"):
                    raise SystemExit("%s: %s" % (cmd.decode(), line.decode()))
                return lines
            lines.append(line)

    def timed(self, cmd):
        t0 = time.perf_counter()
        self.command(cmd)
        return time.perf_counter() - t0

    def close(self):
        self.sock.close()


def newest_imap_pid():
    """The PID of the imap process that started last (the session just
    logged in: sessions are opened one at a time)."""
    best = None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        start = int(stat[stat.rindex(")") + 2:].split()[19])
        if comm == "imap" and (best is None or start >= best[0]):
            best = (start, pid)
    if best is None:
        raise SystemExit("no imap process found for the session")
    return best[1]


def pin(pid):
    """Keeps process pid (the bench itself: 0) on the bench's CPU, unless
    BENCH_PIN=0.  A client and its imap process on different CPUs of this
    2-vCPU VM pay a cross-CPU wake-up per command that doubles a
    GETQUOTAROOT, and whether they do changes during a run: without pinning
    the times per session are bimodal (about 80 and 160 us for one command),
    and a median of either side can land on either mode.  Returns pid."""
    if PIN:
        os.sched_setaffinity(int(pid), {PIN_CPU})
    return pid


def cpu_seconds(pid):
    """User + system CPU time of a process so far; raises if it is gone."""
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check(result, what):
    typ, data = result
    if typ != "OK":
        raise SystemExit("%s: %s %s" % (what, typ, data))
    return data


def roots_of(lines):
    return " ".join(line.decode().strip() for line in lines)


CHUNK_MSGS = [message(4096, i) for i in range(CHUNK)]


def append_chunk(conn):
    """APPEND CHUNK messages to Bench; returns the seconds it took."""
    t0 = time.perf_counter()
    for m in CHUNK_MSGS:
        check(conn.append("Bench", None, None, m), "APPEND")
    return time.perf_counter() - t0


def append_pass(stack, sides):
    """APPEND in chunks of CHUNK messages, the sides (side, user) alternating:
    ({side: msg/s of the median chunk}, {side: the imap process's CPU
    seconds per message}).  The median chunk: a burst of the machine's
    other work hits a few chunks; the CPU: the disk's noise does not reach
    it."""
    conns, pids = {}, {}
    for side, who in sides:
        conns[side] = session(stack, who)
        pids[side] = pin(newest_imap_pid())
    spent = {side: [] for side, _ in sides}
    for side, _ in sides:
        check(conns[side].create("Bench"), "CREATE")
        append_chunk(conns[side])
    cpu0 = {side: cpu_seconds(pids[side]) for side, _ in sides}
    for chunk in range(APPENDS // CHUNK):
        order = sides if chunk % 2 == 0 else sides[::-1]
        for side, _ in order:
            spent[side].append(append_chunk(conns[side]))
    rate = {side: CHUNK / statistics.median(spent[side]) for side, _ in sides}
    cpu = {side: (cpu_seconds(pids[side]) - cpu0[side]) / (APPENDS // CHUNK * CHUNK)
           for side, _ in sides}
    for side, _ in sides:
        check(conns[side].delete("Bench"), "DELETE")
        conns[side].logout()
    return rate, cpu


def geomean(values):
    product = 1.0
    for v in values:
        product *= v
    return product ** (1.0 / len(values))


def interleaved(stack):
    """Both sides in one Dovecot, commands alternating in chunks.

    APPEND runs in PASSES passes, the folder rules on alice and on carol in
    turns (the policy file changed between), and each side's figure is the
    geometric mean over the passes: one user's APPENDs can cost up to 1.25x
    the other's for a whole pass, plugin or not (which one's maildir
    re-scans of the growing folder cost more changes from pass to pass),
    and swapping the users cancels that out as the passes add up."""
    out = {}
    swapped = [("stock", "alice"), ("folder_quota", "carol")]
    rates, cpus = [], []
    for n in range(PASSES):
        if n % 2 == 0:
            stack.set_policy(text=POLICY)
            rate, cpu = append_pass(stack, list(SIDES))
        else:
            stack.set_policy(text=POLICY.replace("alice@example.com", "carol@example.com"))
            rate, cpu = append_pass(stack, swapped)
        rates.append(rate)
        cpus.append(cpu)
    stack.set_policy(text=POLICY)
    out["append"] = {side: geomean([r[side] for r in rates]) for side, _ in SIDES}
    out["append cpu"] = {side: geomean([c[side] for c in cpus]) for side, _ in SIDES}
    out["append passes"] = ([r["folder_quota"] / r["stock"] for r in rates],
                            [c["folder_quota"] / c["stock"] for c in cpus])

    raws = {}
    for side, who in SIDES:
        raws[side] = RawSession(stack, who)
        pin(newest_imap_pid())
    for box, n in (("Small", 1000), ("Big", 1000)):
        times = {side: [] for side, _ in SIDES}
        cmd = b"GETQUOTAROOT " + box.encode()
        for side, _ in SIDES:
            for _ in range(20):
                lines = raws[side].command(cmd)
            out["roots " + box + " " + side] = roots_of(lines)
        for i in range(n):
            order = SIDES if i % 2 == 0 else SIDES[::-1]
            for side, _ in order:
                times[side].append(raws[side].timed(cmd))
        out[box] = {side: statistics.median(t) for side, t in times.items()}

    # after each new message: another session appends to Big between commands
    writers = {side: session(stack, who) for side, who in SIDES}
    times = {side: [] for side, _ in SIDES}
    small = message(300, 0)
    for i in range(40):
        order = SIDES if i % 2 == 0 else SIDES[::-1]
        for side, _ in order:
            check(writers[side].append("Big", None, None, small), "APPEND Big")
            times[side].append(raws[side].timed(b"GETQUOTAROOT Big"))
    out["Big, new mail"] = {side: statistics.median(t) for side, t in times.items()}
    for conn in writers.values():
        conn.logout()
    for raw in raws.values():
        raw.close()
    return out


def restarted(stack):
    """Stock Dovecot and Dovecot with folder_quota, in turns (alice only);
    which side goes first alternates, so that a drift of the machine over
    the run (the disk's write-back, a neighbour's load) falls on both."""
    res = {side: {"append": [], "Small": [], "Big": []} for side, _ in SIDES}
    for r in range(ROUNDS):
        for side, _ in (SIDES if r % 2 == 0 else SIDES[::-1]):
            stack.start(["dovecot"], plugins=["folder_quota"] if side != "stock" else [],
                        policy_text=POLICY)
            conn = session(stack, "alice")
            pin(newest_imap_pid())
            check(conn.create("Bench"), "CREATE")
            append_chunk(conn)
            chunks = [append_chunk(conn) for _ in range(APPENDS // CHUNK)]
            res[side]["append"].append(CHUNK / statistics.median(chunks))
            check(conn.delete("Bench"), "DELETE")
            conn.logout()
            raw = RawSession(stack, "alice")
            pin(newest_imap_pid())
            for box, n in (("Small", 500), ("Big", 500)):
                cmd = b"GETQUOTAROOT " + box.encode()
                for _ in range(20):
                    raw.command(cmd)
                res[side][box].append(statistics.median(raw.timed(cmd) for _ in range(n)))
            raw.close()
            print("  round %d %-12s APPEND %6.1f msg/s  GETQUOTAROOT Small %.3f ms  "
                  "Big %.3f ms" % (r + 1, side, res[side]["append"][-1],
                                   res[side]["Small"][-1] * 1000, res[side]["Big"][-1] * 1000))
    return {k: {side: statistics.median(res[side][k]) for side, _ in SIDES}
            for k in ("append", "Small", "Big")}


def table(title, res, rows):
    print()
    print(title)
    print("  %-44s %10s %13s %8s  %s" % ("", "stock", "folder_quota", "ratio", "target"))
    for key, label, unit, target in rows:
        if key not in res:
            continue
        s, p = res[key]["stock"], res[key]["folder_quota"]
        scale = 1000.0 if unit == "ms" else 1.0
        print("  %-44s %10.3f %13.3f %7.3fx  %s" % (
            "%s (%s)" % (label, unit), s * scale, p * scale, p / s, target))


# (key, label, unit, target); 1.05x the CPU per message is 0.95x throughput
ROWS = (("append", "APPEND 4 KiB", "msg/s", ">= 0.95x"),
        ("append cpu", "APPEND 4 KiB, imap CPU per message", "ms", "<= 1.05x"),
        ("Small", "GETQUOTAROOT, %d messages" % SMALL, "ms", "<= 1.1x"),
        ("Big", "GETQUOTAROOT, %d messages" % BIG, "ms", "<= 1.1x"),
        ("Big, new mail", "GETQUOTAROOT, %d, after each new mail" % BIG, "ms", "<= 1.1x"))


def main():
    if os.geteuid() != 0:
        raise SystemExit("run as root (the servers run as in the test suite)")
    stack = Stack()
    pin(0)
    print("bench_folder_quota on %s: Dovecot %s" % (
        stack.name, stack.cmd(["dovecot", "--version"], check=False).stdout.strip()))
    stack.start(["dovecot"], plugins=["folder_quota"], policy_text=POLICY)
    try:
        stack.reset(policy_text=POLICY)
        t0 = time.perf_counter()
        for _, who in SIDES:
            maildir_folder(stack, who, "Small", SMALL, 4096)
            maildir_folder(stack, who, "Big", BIG, 500)
            conn = session(stack, who)
            for box in ("Small", "Big"):
                check(conn.status(box, "(MESSAGES)"), "STATUS")
            conn.logout()
        print("Small (%d) and Big (%d messages) made for alice and carol in %.1f s" % (
            SMALL, BIG, time.perf_counter() - t0))
        res = interleaved(stack)
        print("GETQUOTAROOT Big as carol (stock):        %s" % res["roots Big stock"])
        print("GETQUOTAROOT Big as alice (folder_quota): %s" % res["roots Big folder_quota"])
        table("interleaved (one Dovecot; carol without folder rules vs alice with them)",
              res, ROWS)
        rates, cpus = res["append passes"]
        print("  APPEND per pass (rules on alice, carol, alice, ...):")
        print("    throughput %s" % " ".join("%.3fx" % r for r in rates))
        print("    CPU        %s" % " ".join("%.3fx" % c for c in cpus))
        print()
        print("restart (Dovecot without and with folder_quota, in turns; %d rounds each):" % ROUNDS)
        table("restart (median of the rounds)", restarted(stack), ROWS[:1] + ROWS[2:4])
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
