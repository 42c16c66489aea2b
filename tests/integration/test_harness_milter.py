"""The harness's milter, Redis, miltertest and bench plumbing, on a second stack
whose mailpolicy-milter is the C stand-in (fake_milter.c: refuses RCPT
<dave@example.org>, counts one INCR per message in Redis, adds its audit header,
reloads on SIGUSR1 with the reload contract's log line). Runs on both stacks."""

import os
import subprocess
import sys

import pytest

from conftest import selftest_base, selftest_runtime
from mailstack import HarnessError, clients, probe, procs
from mailstack.stack import REPO


def _rcpt_dave(stack, listener="mx"):
    conn = clients.smtp(stack, listener)
    try:
        code, text = conn.mail("someone@example.net")
        if code != 250:
            return code, b"MAIL: " + text
        return conn.rcpt("dave@example.org")
    finally:
        conn.quit()


def _headers(stack, who, names):
    conn = clients.imap(stack, who)
    conn.select("INBOX", readonly=True)
    typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (%s)])" % " ".join(names))
    conn.logout()
    return [part[1].decode() for part in data if isinstance(part, tuple)]


def test_milter_is_consulted_and_stopped_by_pid(other_stack, send):
    other_stack.start(["dovecot", "postfix", "milter"], plugins=[])
    policy = open(other_stack.paths.h("etc", "mailpolicy.conf")).read()
    assert "socket = inet:%d@127.0.0.1" % other_stack.ports["milter"] in policy
    assert _rcpt_dave(other_stack) == (550, b"5.7.1 blocked by the fake milter")
    assert send(other_stack, "mx", "alice@example.com") == {}
    other_stack.wait_for_messages("alice")
    # Without the milter Postfix is told to stop asking it.
    pid = other_stack.state["pids"]["milter"]
    other_stack.stop(["milter"])
    assert not procs.alive(pid)
    assert send(other_stack, "mx", "dave@example.org") == {}


def test_several_milters_share_one_redis(other_stack, send):
    """Each milter has its own policy file, socket, PID and log; every redis://
    rate_store points at the stack's one Redis; Postfix asks them in order."""
    other_stack.start(["dovecot", "postfix", "redis", "milter"], plugins=[],
                      policy_text="milter {\n  audit_header = X-First\n"
                                  "  rate_store = redis://127.0.0.1:6379/0\n}\n")
    second = other_stack.start_milter("second", policy_text=(
        "milter {\n  audit_header = X-Second\n  rate_store = redis://:secret@redis.example:1/0\n}\n"))
    third = other_stack.start_milter("third", socket="unix", unix_mode=0o666,
                                     policy_text="milter {\n  audit_header = X-Third\n}\n")
    first = other_stack.milter_info()
    assert len({first["pid"], second["pid"], third["pid"]}) == 3
    assert len({first["policy"], second["policy"], third["policy"]}) == 3
    assert third["socket"].startswith("unix:") and third["socket"].endswith("/third.sock")
    text = open(second["policy"]).read()
    assert "redis://:secret@127.0.0.1:%d/0" % other_stack.ports["redis"] in text
    main = open(other_stack.paths.h("etc", "postfix", "main.cf")).read()
    assert "smtpd_milters = %s %s %s\n" % (first["socket"], second["socket"],
                                           third["socket"]) in main
    assert send(other_stack, "mx", "alice@example.com") == {}
    other_stack.wait_for_messages("alice")
    headers = _headers(other_stack, "alice", ["X-First", "X-Second", "X-Third"])[0]
    for name in ("X-First", "X-Second", "X-Third"):
        assert "%s: fake-milter generation=1" % name in headers
    # One Redis, counted by the two milters whose policy names it.
    assert other_stack.redis("GET", "fake-milter:X-First") == "1"
    assert other_stack.redis("GET", "fake-milter:X-Second") == "1"
    assert other_stack.redis("GET", "fake-milter:X-Third") is None


def test_a_unix_socket_milter_needs_its_permissions(other_stack):
    other_stack.start(["dovecot", "postfix"], plugins=[])
    info = other_stack.start_milter("sock", socket="unix")
    path = other_stack.platform.host_path(info["socket"][len("unix:"):])
    # The stand-in's umask leaves the socket to root: Postfix cannot connect.
    assert not os.stat(path).st_mode & 0o006
    code, text = _rcpt_dave(other_stack)
    assert code == 451 and b"4.7.1" in text
    other_stack.start_milter("sock", socket="unix", unix_mode=0o660, unix_group="postfix")
    assert os.stat(path).st_mode & 0o777 == 0o660
    assert _rcpt_dave(other_stack) == (550, b"5.7.1 blocked by the fake milter")


def test_reload_waits_until_the_new_policy_is_in_use(other_stack, send):
    other_stack.start(["dovecot", "postfix", "milter"], plugins=[],
                      policy_text="milter {\n  audit_header = X-Before\n}\n")
    pid = other_stack.milter_info()["pid"]
    line = other_stack.reload_milter(policy_text="milter {\n  audit_header = X-After\n}\n")
    assert "policy reloaded" in line and "(generation 2)" in line
    assert other_stack.milter_info()["pid"] == pid  # reloaded, not restarted
    assert send(other_stack, "mx", "alice@example.com") == {}
    other_stack.wait_for_messages("alice")
    assert "X-After: fake-milter generation=2" in _headers(other_stack, "alice", ["X-After"])[0]
    with pytest.raises(HarnessError, match="did not reload.*reload failed"):
        other_stack.reload_milter(policy_text="milter {\n}\n# fake-milter: invalid\n")
    line = other_stack.reload_milter(policy_text="milter {\n\n", expect_failure=True)
    assert "unbalanced" in line and "keeping generation 2" in line
    with pytest.raises(HarnessError, match="a failure was expected"):
        other_stack.reload_milter(policy_text="milter {\n}\n", expect_failure=True)


def test_redis_stops_and_starts_mid_test(other_stack):
    other_stack.start(["dovecot", "postfix", "redis", "milter"], plugins=[],
                      policy_text="milter {\n  rate_store = redis://127.0.0.1:1/0\n"
                                  "  rate_store_failure = tempfail\n}\n")
    milter = other_stack.milter_info()["pid"]
    assert _rcpt_dave(other_stack)[0] == 550
    other_stack.stop_redis()
    assert "redis" not in other_stack.running()
    assert _rcpt_dave(other_stack) == (451, b"MAIL: 4.3.0 fake milter: rate store unavailable")
    other_stack.start_redis()
    assert _rcpt_dave(other_stack)[0] == 550
    assert other_stack.milter_info()["pid"] == milter  # the milter ran on throughout
    assert other_stack.redis("GET", "fake-milter:X-Mailpolicy") == "1"


def test_kill_9_with_another_default_action(other_stack, send):
    other_stack.start(["dovecot", "postfix", "milter"], plugins=[])
    base = other_stack.checkpoint()
    pid = other_stack.kill_milter(default_action="accept")
    assert not procs.alive(pid)
    assert send(other_stack, "mx", "dave@example.org") == {}  # accepted without the milter
    other_stack.wait_for_messages("dave")
    other_stack.restore(base)
    main = open(other_stack.paths.h("etc", "postfix", "main.cf")).read()
    assert "milter_default_action = tempfail\n" in main
    assert _rcpt_dave(other_stack)[0] == 550


def test_redis_answers_and_is_emptied_by_reset(other_stack):
    other_stack.start(["dovecot", "redis"])
    port = other_stack.ports["redis"]
    assert probe.redis_command(port, "SET", "k", "v") == "+OK"
    assert other_stack.redis("GET", "k") == "v"
    other_stack.reset()
    assert probe.redis_command(port, "EXISTS", "k") == ":0"
    with pytest.raises(HarnessError, match="Redis"):
        other_stack.redis("NOSUCHCOMMAND")


# ---- miltertest runner and bench helper ---------------------------------------------------

PASSING = """\
local conn = mt.connect(socket, 40, 0.25)
if conn == nil then error("cannot connect to " .. socket) end
if mt.conninfo(conn, "client.example.net", "192.0.2.1") ~= nil then error("conninfo") end
if mt.mailfrom(conn, "<someone@example.net>") ~= nil then error("mailfrom") end
if mt.rcptto(conn, "<dave@example.org>") ~= nil then error("rcptto") end
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("dave was not refused") end
mt.disconnect(conn)
"""
FAILING = 'error("refused on purpose")\n'
# A helper module and scripts in the milter branch's style: lib.lua through
# MILTER_SCRIPTS, the socket in MILTER_SOCKET, "FAIL" lines, policy.conf.
LIB = """\
local lib = {}
function lib.session()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then print("FAIL: no connection"); error("connect") end
  return conn
end
return lib
"""
USES_LIB = """\
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local c = lib.session()
if mt.mailfrom(c, "<someone@example.net>") ~= nil then error("mailfrom") end
print("ok: MAIL answered")
mt.disconnect(c)
"""
PRINTS_FAIL = 'print("FAIL: said so, exit 0")\n'
STOPS_EARLY = 'print("ok: the first check")\nos.exit(0)\nprint("ok: never reached")\n'
WIRE = """\
import os, socket


def test_the_milter_runs():
    os.kill(int(os.environ["MILTER_PID"]), 0)
    port = int(os.environ["MILTER_SOCKET"].split(":")[1].split("@")[0])
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
"""


def _runner(stack, args, env=None):
    environ = dict(os.environ, MAILPOLICY_RUNTIME=selftest_runtime(),
                   MAILPOLICY_PORT_BASE=str(selftest_base(stack)))
    environ.pop("CI", None)
    environ.update(env or {})
    return subprocess.run([os.path.join(REPO, "tests", "milter", "run")] + args, env=environ,
                          capture_output=True, text=True, timeout=300)


def test_miltertest_runner(stack, host_fake_milter, tmp_path):
    scripts = tmp_path / "lua"
    scripts.mkdir()
    proc = _runner(stack, ["--scripts", str(scripts), "--milter", host_fake_milter])
    assert proc.returncode == 0 and "no scripts" in proc.stdout, proc.stdout + proc.stderr
    (scripts / "dave_is_refused.lua").write_text(PASSING)
    (scripts / "fails.lua").write_text(FAILING)
    (scripts / "fails.conf").write_text("milter {\n  audit_header = X-Own\n}\n")
    proc = _runner(stack, ["--scripts", str(scripts), "--milter", host_fake_milter])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "ok   dave_is_refused (packaging/mailpolicy.conf)" in out
    assert "FAIL fails\n" in out and "lua error:" in out and "refused on purpose" in out
    assert "2 script(s), 1 failed" in out
    (scripts / "fails.lua").unlink()
    (scripts / "lib.lua").write_text(LIB)
    (scripts / "uses_lib.lua").write_text(USES_LIB)
    (scripts / "policy.conf").write_text("milter {\n  audit_header = X-Dir\n}\n")
    (scripts / "prints_fail.lua").write_text(PRINTS_FAIL)
    (scripts / "stops_early.lua").write_text(STOPS_EARLY)
    (scripts / "test_wire.py").write_text(WIRE)
    proc = _runner(stack, ["--scripts", str(scripts), "--milter", host_fake_milter])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "ok   uses_lib (%s) (1 checks)" % (scripts / "policy.conf") in out
    assert "FAIL prints_fail" in out and "ok   test_wire.py" in out
    # exit status 0 before the script's end: some checks never ran
    assert "FAIL stops_early" in out and "the script stopped before its end" in out, out
    assert "4 script(s) and 1 pytest file(s), 2 failed" in out  # lib.lua is no script
    proc = _runner(stack, ["--scripts", str(scripts), "--milter", host_fake_milter,
                           "dave_is_refused"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_miltertest_runner_without_a_milter_build(stack, tmp_path):
    scripts = tmp_path / "lua"
    scripts.mkdir()
    (scripts / "x.lua").write_text(PASSING)
    missing = ["--scripts", str(scripts), "--milter", str(tmp_path / "none")]
    proc = _runner(stack, missing)
    assert proc.returncode == 0 and "skipped 1 script" in proc.stdout
    src = tmp_path / "src" / "milter"
    src.mkdir(parents=True)
    (src / "main.c").write_text("/* stand-in */\n")
    proc = _runner(stack, missing, {"CI": "true", "MAILPOLICY_SRCDIR": str(tmp_path / "src")})
    assert proc.returncode == 1 and "was not built" in proc.stdout


def test_bench_helper_measures_with_and_without(stack, fake_build):
    environ = dict(os.environ, STACK=stack.name, BUILD_DIR=fake_build,
                   MAILPOLICY_RUNTIME=selftest_runtime(),
                   MAILPOLICY_PORT_BASE=str(selftest_base(stack)))
    if stack.platform.root != "/":
        environ["D13_ROOT"] = stack.platform.root
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "bench", "servers",
                                                        "bench_servers.py"),
                           "--quick", "--rounds", "1", "--only", "smtp,pop3,append"],
                          env=environ, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    smtp = [ln for ln in out.splitlines() if ln.startswith("SMTP")][0]
    assert "without" in smtp and "ratio" in smtp  # the stand-in milter is built
    pop3 = [ln for ln in out.splitlines() if ln.startswith("POP3")][0]
    assert "ratio" in pop3  # the stand-in plugin is built as pop3_retention
    append = [ln for ln in out.splitlines() if ln.startswith("IMAP APPEND")][0]
    assert "not built" in append
