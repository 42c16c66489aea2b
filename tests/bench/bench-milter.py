#!/usr/bin/python3
"""make bench-milter: what mailpolicy-milter costs Postfix, against the same
Postfix without a milter, measured in one run.

The stack of tests/harness (real Postfix, on MAILPOLICY_PORT_BASE) with mail
for the local domains sent to the discard transport. smtp-source sends
MESSAGES messages of SIZE bytes, one per connection, over SESSIONS parallel
sessions to the mx listener (port 25's stand-in), once per configuration
and round; configurations take turns within a round, Postfix restarts for
each with only `smtpd_milters` (or the policy service) changed, and every
run starts with an empty queue after a short warm-up. A run that loses or
refuses a message ends the benchmark with an error.

Configurations:
  no milter          Postfix alone: the 1.00 every ratio is measured against
  mailpolicy-milter  packaging/mailpolicy.conf as shipped (memory store, TCP
                     socket), and the same on a Unix socket
  ... + rate memory  the sample with rate_client_ip on mx (every message counted)
  ... + rate redis   the same with the counts in the stack's Redis
  ... + limits       issue 12's keys on mx: rate_client_ip, rate_sender and their
                     _recipients twins, two windows each (8 counters a message,
                     recipients counted at RCPT), over_limit = hold; in memory
                     and in Redis (one round trip a message)
  minimal milter     tests/bench/trivial-milter -m: MAIL only, every other
                     stage negotiated away: the floor of a libmilter milter,
                     on TCP and on a Unix socket
  trivial milter     tests/bench/trivial-milter: takes every stage (TCP)
  no libmilter       tests/bench/wire-milter: the milter protocol spoken from
                     one epoll thread, no libmilter: MAIL only (Unix), no
                     stage but the end of message (Unix), and on TCP with
                     DATA answered as mailpolicy-milter does there: what
                     Postfix's own milter client costs, the ceiling of any
                     milter
  postfwd1/postfwd2  Debian's postfwd through check_policy_service, with the
                     checks of the sample's mx listener (auth = forbid by
                     server port at RCPT; max_recipients = 100 at end of data)

Then: the Redis store's checks per second from 8 threads and the latency one
check adds (build/bench/bench-rate against the stack's Redis), and the milter's
memory (VmRSS, VmHWM, threads) with 200 SMTP sessions open at once on the mx
listener, each past RCPT, while Postfix holds 200 milter connections.

Environment: BENCH_ROUNDS (3), BENCH_MESSAGES (2000), BENCH_SESSIONS (20),
BENCH_SIZE (2048), BENCH_CONCURRENT (200), BENCH_ONLY (comma-separated
configuration keys: none,mailpolicy,mailpolicy-unix,rate-memory,rate-redis,
limits-memory,limits-redis,minimal,minimal-unix,trivial,wire-mail-unix,wire-unix,
wire,postfwd1,postfwd2); STACK, BUILD_DIR, MAILPOLICY_RUNTIME, MAILPOLICY_PORT_BASE
as for the harness. Nothing here asserts a time: it prints figures and ratios.
"""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from mailstack import HarnessError, Stack, policy, probe, procs  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("BENCH_SIZE", "2048"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "200"))
WARMUP = 100
PORT_WAIT = 75          # seconds to wait for a port held by someone's TIME_WAIT
SAMPLE = os.path.join(REPO, "packaging", "mailpolicy.conf")
RCPT = "alice@example.com"

# Ports of our own processes: offsets from the stack's base that the harness
# does not use.
OFFSET = {"mailpolicy": 901, "rate-memory": 902, "rate-redis": 903, "minimal": 904,
          "trivial": 905, "postfwd1": 906, "postfwd2": 907, "mailpolicy-unix": 908,
          "minimal-unix": 909, "limits-memory": 910, "limits-redis": 911,
          "wire-unix": 912, "wire-mail-unix": 913, "wire": 914}


def fail(text):
    raise HarnessError(text)


def wait_port(port, timeout=15.0, pid=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not procs.alive(pid):
            fail("the process for port %d exited" % port)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    fail("nothing listens on 127.0.0.1:%d after %.0f s" % (port, timeout))


def wait_unix(path, timeout=15.0, pid=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not procs.alive(pid):
            fail("the process for %s exited" % path)
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    fail("nothing listens on %s after %.0f s" % (path, timeout))


def cpu_seconds(pids):
    """User + system CPU of pids (with their reaped children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])
    return total / tick


def session_pids(sid):
    """Every process of session sid, zombies included (their CPU is not yet
    their parent's)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[3]) == sid:
                        out.append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    return out


class Filter:
    """A milter or policy server this benchmark runs itself, in a session of its own."""

    def __init__(self, key, label, argv, port, log, pidfile=None, unix=None):
        self.key, self.label, self.port = key, label, port
        self.pidfile = pidfile
        self.unix = unix
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True, close_fds=True)
        if unix is not None:
            wait_unix(unix, pid=self.proc.pid)
            # Postfix's smtpd and cleanup run as postfix
            os.chmod(unix, 0o666)
            self.sid = self.proc.pid
        elif pidfile is None:
            wait_port(port, pid=self.proc.pid)
            self.sid = self.proc.pid
        else:
            # a daemon: it forks into a session of its own and writes its pid
            self.proc.wait(timeout=30)
            wait_port(port)
            self.sid = procs.session_id(procs.read_pidfile(pidfile))

    def pids(self):
        return session_pids(self.sid)

    def stop(self):
        procs.terminate(self.pids(), grace=3.0)
        if self.proc.poll() is None:
            procs.terminate([self.proc.pid], grace=1.0)
        self.proc.wait()
        self.log.close()


def start_filter(*args, **kw):
    """Filter(...), again when its port was taken for a moment: our ports lie
    in the kernel's ephemeral range, so another program's outgoing
    connection may hold one, and then its TIME_WAIT for a minute."""
    deadline = time.monotonic() + PORT_WAIT
    while True:
        try:
            return Filter(*args, **kw)
        except HarnessError:
            with open(args[4], errors="replace") as f:
                busy = "already in use" in f.read()[-2000:]
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(2)


class Bench:
    def __init__(self):
        self.stack = Stack()
        self.build = os.environ.get("BUILD_DIR") or os.path.join(REPO, "build")
        self.dir = os.path.join(self.build, "bench-milter")
        self.filters = {}
        self.base = self.stack.platform.port_base

    def port(self, key):
        return self.base + OFFSET[key]

    def unix_socket(self, key):
        """(path for us, path for Postfix) of key's Unix socket, in the stack's tree."""
        return self.stack.paths.h("run", key + ".sock"), self.stack.paths.i("run", key + ".sock")

    def milter_address(self, key):
        """key's socket as Postfix's smtpd_milters names it."""
        if key.endswith("-unix"):
            return "unix:" + self.unix_socket(key)[1]
        return "inet:127.0.0.1:%d" % self.port(key)

    # ---- the configurations --------------------------------------------

    def policy_text(self, rate=None):
        with open(SAMPLE) as f:
            text = f.read()
        if rate in ("memory", "redis"):
            text = text.replace("listener mx {", "listener mx {\n  rate_client_ip = 1000000/1h", 1)
        elif rate:
            text = text.replace("listener mx {", "listener mx {\n"
                                "  rate_client_ip = 1000000/1h 10000000/1d\n"
                                "  rate_client_ip_recipients = 1000000/1h 10000000/1d\n"
                                "  rate_sender = 1000000/1h 10000000/1d\n"
                                "  rate_sender_recipients = 1000000/1h 10000000/1d\n"
                                "  over_limit = hold", 1)
            rate = rate.split("-")[1]
        if rate == "redis":
            text = re.sub(r"(?m)^(\s*rate_store\s*=\s*)memory", r"\1redis://127.0.0.1:6379/0", text)
            if "redis://" not in text:
                fail("cannot point the sample's rate_store at Redis")
        return text

    def start_mailpolicy(self, key, label, rate=None):
        port = self.port(key)
        path = os.path.join(self.dir, key + ".conf")
        text = policy.rewrite(self.policy_text(rate), port, self.stack.ports["redis"])
        unix = None
        if key.endswith("-unix"):
            unix = self.unix_socket(key)[0]
            if os.path.exists(unix):
                os.unlink(unix)
            text = re.sub(r"(?m)^(\s*socket\s*=\s*)\S+", r"\1unix:" + unix, text)
        with open(path, "w") as f:
            f.write(text)
        milter = os.path.join(self.build, "sbin", "mailpolicy-milter")
        check = procs.run([milter, "-n", "-c", path], check=False)
        if check.returncode != 0:
            fail("%s does not load: %s%s" % (path, check.stdout, check.stderr))
        self.filters[key] = start_filter(key, label, [milter, "-f", "-c", path], port,
                                   os.path.join(self.dir, key + ".log"), unix=unix)

    def start_trivial(self, key, label, minimal, program="trivial-milter"):
        port = self.port(key)
        argv = [os.path.join(self.build, "bench", program)]
        argv += ["-m"] if minimal else []
        unix = None
        if key.endswith("-unix"):
            unix = self.unix_socket(key)[0]
            if os.path.exists(unix):
                os.unlink(unix)
            argv += ["unix:" + unix]
        else:
            argv += ["inet:%d@127.0.0.1" % port]
        self.filters[key] = start_filter(key, label, argv, port, os.path.join(self.dir, key + ".log"),
                                   unix=unix)

    def start_postfwd(self, key, label):
        if not shutil.which(key):
            fail("%s is not installed (Debian package postfwd; make deps)" % key)
        port = self.port(key)
        rules = os.path.join(self.dir, "postfwd.cf")
        mx = self.stack.ports["mx"]
        with open(rules, "w") as f:
            f.write("# the sample policy's mx listener, as postfwd rules\n"
                    "id=MX-AUTH; server_port==%d; sasl_username=.; "
                    "action=REJECT 5.7.1 authenticated mail refused on this listener\n"
                    "id=MX-RCPT; protocol_state==END-OF-MESSAGE; server_port==%d; "
                    "recipient_count=101; action=452 4.5.3 too many recipients\n" % (mx, mx))
        os.chmod(self.dir, 0o755)
        pidfile = os.path.join(self.dir, key + ".pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        # Debian's default arguments (/etc/default/postfwd), without logging:
        # the milters log nothing for accepted mail either
        argv = [key, "--daemon", "-f", rules, "-i", "127.0.0.1", "-p", str(port),
                "-u", "postfw", "-g", "postfw", "--pidfile", pidfile, "--cache=600",
                "--cache-rdomain-only", "--cache-no-size", "--perfmon"]
        self.filters[key] = start_filter(key, label, argv, port, os.path.join(self.dir, key + ".log"),
                                   pidfile=pidfile)

    def configs(self):
        """(key, label, main.cf overrides) in the order they run in each round."""
        milter = lambda key: {"smtpd_milters": self.milter_address(key)}  # noqa: E731

        def policy_service(key):
            service = "check_policy_service inet:127.0.0.1:%d" % self.port(key)
            return {"smtpd_milters": "",
                    "smtpd_recipient_restrictions": service,
                    "smtpd_end_of_data_restrictions": service}

        out = [("none", "no milter", {"smtpd_milters": ""}),
               ("mailpolicy", "mailpolicy-milter, sample, TCP", milter("mailpolicy")),
               ("mailpolicy-unix", "mailpolicy-milter, sample, Unix", milter("mailpolicy-unix")),
               ("rate-memory", "mailpolicy + rate_client_ip, memory", milter("rate-memory")),
               ("rate-redis", "mailpolicy + rate_client_ip, Redis", milter("rate-redis")),
               ("limits-memory", "mailpolicy + 8 counters, memory", milter("limits-memory")),
               ("limits-redis", "mailpolicy + 8 counters, Redis", milter("limits-redis")),
               ("minimal", "minimal milter (MAIL only), TCP", milter("minimal")),
               ("minimal-unix", "minimal milter (MAIL only), Unix", milter("minimal-unix")),
               ("trivial", "trivial milter (every stage), TCP", milter("trivial")),
               ("wire-mail-unix", "no libmilter, MAIL only, Unix", milter("wire-mail-unix")),
               ("wire-unix", "no libmilter, no stage, Unix", milter("wire-unix")),
               ("wire", "no libmilter, DATA only, TCP", milter("wire")),
               ("postfwd1", "postfwd1, check_policy_service", policy_service("postfwd1")),
               ("postfwd2", "postfwd2, check_policy_service", policy_service("postfwd2"))]
        only = os.environ.get("BENCH_ONLY")
        if only:
            keys = set(only.split(",")) | {"none"}
            out = [c for c in out if c[0] in keys]
        return out

    # ---- running -------------------------------------------------------

    def base_overrides(self):
        return {"virtual_transport": "discard:",
                # room for the concurrent sessions of the memory measurement
                "default_process_limit": str(CONCURRENT + 50)}

    def restart_postfix(self, overrides):
        ov = self.base_overrides()
        ov.update(overrides)
        deadline = time.monotonic() + PORT_WAIT
        while True:
            try:
                self.stack.start(["postfix"], postfix_overrides=ov)
                return
            except HarnessError as e:
                # see start_filter()
                if "Address already in use" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def discarded(self):
        with open(self.stack.log_files()["postfix"], errors="replace") as f:
            return sum(1 for line in f if "/discard[" in line and "status=sent" in line)

    def smtp_source(self, count):
        """Sends count messages; returns (seconds smtp-source took, CPU seconds
        smtp-source used). Returns once every message reached discard:."""
        argv = ["smtp-source", "-4", "-s", str(min(SESSIONS, count)), "-m", str(count),
                "-l", str(SIZE), "-S", "mailpolicy bench", "-M", "client.example.net",
                "-f", "bench@client.example.net", "-t", RCPT,
                "127.0.0.1:%d" % self.stack.ports["mx"]]
        before = self.discarded()
        with open(os.path.join(self.dir, "smtp-source.out"), "w+b") as out:
            t0 = time.monotonic()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.monotonic() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode(errors="replace")
        if proc.returncode != 0 or text.strip():
            fail("smtp-source failed (exit %d): %s\n%s" % (
                proc.returncode, text, self.stack.log_tail(10)))
        deadline = time.monotonic() + 120
        while self.discarded() - before < count:
            if time.monotonic() > deadline:
                fail("%d of %d messages reached the discard transport:\n%s" % (
                    self.discarded() - before, count, self.stack.queue()))
            time.sleep(0.2)
        return elapsed, usage.ru_utime + usage.ru_stime

    def work_pids(self, flt):
        """The processes whose CPU a message costs: Postfix, Redis, the filter."""
        sids = [procs.session_id(self.stack.state["pids"][p]) for p in ("postfix", "redis")]
        if flt:
            sids.append(flt.sid)
        pids = []
        for sid in sids:
            pids += session_pids(sid)
        return pids

    def run_config(self, key, overrides):
        """(msg/s, the filter's CPU ms per message or None, all CPU ms per message)."""
        self.restart_postfix(overrides)
        self.smtp_source(WARMUP)
        flt = self.filters.get(key)
        cpu0 = cpu_seconds(self.work_pids(flt))
        filter0 = cpu_seconds(flt.pids()) if flt else 0
        elapsed, source_cpu = self.smtp_source(MESSAGES)
        # processes that ended during the run are in their parent's counts
        total = cpu_seconds(self.work_pids(flt)) - cpu0 + source_cpu
        filter_cpu = cpu_seconds(flt.pids()) - filter0 if flt else None
        if key in ("rate-redis", "limits-redis"):
            # the counts really went to Redis
            rkey = "mprate:mx/ip/1h/127.0.0.1" if key == "rate-redis" else \
                "mprate:mx/ip_rcpt/1d/127.0.0.1"
            if probe.redis_command(self.stack.ports["redis"], "EXISTS", rkey) != ":1":
                fail("%s: no %s in Redis" % (key, rkey))
        per = lambda x: None if x is None else x / MESSAGES * 1e3  # noqa: E731
        return MESSAGES / elapsed, per(filter_cpu), per(total)

    def start_filters(self, keys):
        os.makedirs(self.dir, exist_ok=True)
        if "mailpolicy" in keys:
            self.start_mailpolicy("mailpolicy", "sample")
        if "mailpolicy-unix" in keys:
            self.start_mailpolicy("mailpolicy-unix", "sample, Unix socket")
        if "rate-memory" in keys:
            self.start_mailpolicy("rate-memory", "rates in memory", rate="memory")
        if "rate-redis" in keys:
            self.start_mailpolicy("rate-redis", "rates in Redis", rate="redis")
        if "limits-memory" in keys:
            self.start_mailpolicy("limits-memory", "8 counters in memory", rate="limits-memory")
        if "limits-redis" in keys:
            self.start_mailpolicy("limits-redis", "8 counters in Redis", rate="limits-redis")
        if "minimal" in keys:
            self.start_trivial("minimal", "minimal", True)
        if "minimal-unix" in keys:
            self.start_trivial("minimal-unix", "minimal, Unix socket", True)
        if "trivial" in keys:
            self.start_trivial("trivial", "trivial", False)
        if "wire-mail-unix" in keys:
            self.start_trivial("wire-mail-unix", "no libmilter, MAIL only", True, "wire-milter")
        if "wire-unix" in keys:
            self.start_trivial("wire-unix", "no libmilter, no stage", False, "wire-milter")
        if "wire" in keys:
            self.start_trivial("wire", "no libmilter, no stage, TCP", False, "wire-milter")
        for key in ("postfwd1", "postfwd2"):
            if key in keys:
                self.start_postfwd(key, key)

    def stop_filters(self):
        for flt in self.filters.values():
            flt.stop()
        self.filters = {}

    # ---- the parts of the report ---------------------------------------

    def throughput(self):
        configs = self.configs()
        rate = {key: [] for key, _, _ in configs}
        fcpu = {key: [] for key, _, _ in configs}
        cpu = {key: [] for key, _, _ in configs}
        for r in range(ROUNDS):
            print("round %d/%d:" % (r + 1, ROUNDS), end="", flush=True)
            for key, _, overrides in configs:
                msgs, filter_ms, total_ms = self.run_config(key, overrides)
                rate[key].append(msgs)
                cpu[key].append(total_ms)
                if filter_ms is not None:
                    fcpu[key].append(filter_ms)
                print(" %s %.0f/s" % (key, msgs), end="", flush=True)
            print()
        print()
        print("Throughput: msg/s while smtp-source ran (median of the rounds, then each round),")
        print("and the ratio to no milter in the same round (median, min-max). The machine is")
        print("shared, so throughput moves with everyone else's load; the CPU that Postfix, Redis,")
        print("the filter and smtp-source spent per message is steadier, and its ratio")
        print("(no milter's CPU / this one's) is what the throughput ratio tends to on a busy host.")
        print()
        print("%-34s %6s  %-17s %8s  %-17s %8s  %s" % (
            "configuration", "msg/s", "vs no milter", "CPU/msg", "CPU ratio", "its CPU",
            "msg/s each round"))
        ratio = {}
        for key, label, _ in configs:
            ratios = [a / b for a, b in zip(rate[key], rate["none"])]
            cratios = [b / a for a, b in zip(cpu[key], cpu["none"])]
            ratio[key] = round(statistics.median(ratios), 2)

            def fmt(rs):
                return "%.2fx (%.2f-%.2f)" % (statistics.median(rs), min(rs), max(rs))
            print("%-34s %6.0f  %-17s %5.2f ms  %-17s %8s  %s" % (
                label, statistics.median(rate[key]),
                "1.00" if key == "none" else fmt(ratios), statistics.median(cpu[key]),
                "1.00" if key == "none" else fmt(cratios),
                "%.2f ms" % statistics.median(fcpu[key]) if fcpu[key] else "-",
                " ".join("%.0f" % x for x in rate[key])))
        self.goals(ratio)
        return rate, cpu

    def goals(self, ratio):
        """Issue 10's goals next to what this run measured (nothing asserted)."""
        def verdict(ok):
            return "met" if ok else "NOT met"
        print()
        if "mailpolicy" in ratio:
            print("goal: mailpolicy-milter with the sample policy >= 0.85x no milter: %.2fx "
                  "(%s)%s" % (ratio["mailpolicy"], verdict(ratio["mailpolicy"] >= 0.85),
                              "; %.2fx on a Unix socket (%s)" % (
                                  ratio["mailpolicy-unix"],
                                  verdict(ratio["mailpolicy-unix"] >= 0.85))
                              if "mailpolicy-unix" in ratio else ""))
            for other in ("trivial", "postfwd1", "postfwd2"):
                if other in ratio:
                    print("goal: faster than %s (%.2fx): %s" % (
                        other, ratio[other], verdict(ratio["mailpolicy"] > ratio[other])))
        for key in ("limits-memory", "limits-redis"):
            if key in ratio:
                print("goal (issue 12): %s, 8 counters a message, >= 0.85x no milter: "
                      "%.2fx (%s)" % (key, ratio[key], verdict(ratio[key] >= 0.85)))
        if "minimal-unix" in ratio:
            print("floor: a libmilter milter that takes MAIL only, on a Unix socket: %.2fx"
                  % ratio["minimal-unix"])
        if "wire-mail-unix" in ratio:
            print("floor: the same without libmilter (one epoll thread): %.2fx"
                  % ratio["wire-mail-unix"])
        if "wire-unix" in ratio:
            print("ceiling of any milter on this Postfix (no stage but end of message, "
                  "no libmilter), on a Unix socket: %.2fx" % ratio["wire-unix"])
        if "wire" in ratio:
            print("the same on TCP, with DATA answered (no 40 ms delayed-ACK stall): %.2fx"
                  % ratio["wire"])

    def redis(self):
        bench = os.path.join(self.build, "bench", "bench-rate")
        env = dict(os.environ, MP_BENCH_REDIS="127.0.0.1:%d" % self.stack.ports["redis"],
                   MP_BENCH_REDIS_ONLY="1")
        proc = procs.run([bench], env=env, check=False, timeout=300)
        if proc.returncode != 0:
            fail("bench-rate failed: %s%s" % (proc.stdout, proc.stderr))
        print()
        print("Redis store (build/bench/bench-rate against the stack's Redis, port %d):" %
              self.stack.ports["redis"])
        for line in proc.stdout.splitlines():
            print("  " + line)

    def memory(self):
        """RSS of the sample-policy milter with CONCURRENT sessions held open."""
        flt = self.filters["mailpolicy"]
        self.restart_postfix({"smtpd_milters": "inet:127.0.0.1:%d" % flt.port})
        pid = flt.proc.pid
        idle = proc_status(pid)
        conns = []
        try:
            for i in range(CONCURRENT):
                s = socket.create_connection(("127.0.0.1", self.stack.ports["mx"]), timeout=30)
                f = s.makefile("rwb")
                conns.append((s, f))
                expect(f, b"220")
                for line, code in ((b"EHLO c%d.example.net" % i, b"250"),
                                   (b"MAIL FROM:<s%d@client.example.net>" % i, b"250"),
                                   (b"RCPT TO:<%s>" % RCPT.encode(), b"250")):
                    f.write(line + b"\r\n")
                    f.flush()
                    expect(f, code)
            held = established(flt.port)
            busy = proc_status(pid)
        finally:
            for s, f in conns:
                try:
                    f.write(b"QUIT\r\n")
                    f.flush()
                except OSError:
                    pass
                s.close()
        print()
        print("mailpolicy-milter memory (sample policy), %d SMTP sessions open past RCPT:" %
              CONCURRENT)
        print("  milter connections from Postfix while held: %d" % held)
        print("  idle:  VmRSS %6.1f MB, %s threads" % (idle["VmRSS"] / 1024, idle["Threads"]))
        print("  held:  VmRSS %6.1f MB, VmHWM %6.1f MB, %s threads (goal: under 20 MB)" % (
            busy["VmRSS"] / 1024, busy["VmHWM"] / 1024, busy["Threads"]))
        if held < CONCURRENT:
            fail("only %d of %d sessions reached the milter" % (held, CONCURRENT))

    def main(self):
        keys = [key for key, _, _ in self.configs()]
        postfix = self.stack.cmd(["postconf", "-d", "-h", "mail_version"]).stdout.strip()
        print("make bench-milter: Postfix %s (%s), smtp-source -s %d -m %d -l %d, one message "
              "per connection, mx listener -> discard:, %d round(s), 2 cores shared" % (
                  postfix, self.stack.name, SESSIONS, MESSAGES, SIZE, ROUNDS))
        self.stack.start(["dovecot", "postfix", "redis"], postfix_overrides=self.base_overrides())
        try:
            self.start_filters(keys)
            self.throughput()
            if "rate-redis" in keys or not os.environ.get("BENCH_ONLY"):
                self.redis()
            if "mailpolicy" in keys:
                self.memory()
        finally:
            self.stop_filters()
            self.stack.stop()


def expect(f, code):
    while True:
        line = f.readline()
        if not line.startswith(code):
            fail("expected %s, got %r" % (code.decode(), line))
        if line[3:4] != b"-":
            return


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                out[name] = int(value.split()[0])
    return out


def established(port):
    """Established TCP connections whose local end is 127.0.0.1:port."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                n += 1
    return n


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench-milter runs the servers as root (like the harness); run it as root")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        Bench().main()
    except HarnessError as e:
        sys.exit("bench-milter: %s" % e)
