"""The harness itself: isolation between tests, a session's start, the lock on a
runtime, crash recovery, strict helpers, CI rules for missing builds, one
Debian 13 stack. Each defect of issue 7 has a test here that fails when it
comes back. (Dovecot options and delivery: test_harness_dovecot.py; milters,
Redis, miltertest and bench: test_harness_milter.py.)"""

import os
import signal
import smtplib
import stat
import subprocess
import sys

import pytest

from conftest import HARNESS, selftest_base, selftest_runtime
from mailstack import Account, HarnessError, Stack, clients, lock, procs

# ---- isolation: a test's changes never reach the next test --------------------------

LEAK_SUITE = r'''
import pytest
from mailstack import Account, clients, probe

MARK = "harness-leak-marker"


def test_0_a_session_starts_from_the_known_configuration(stack):
    """A stack left running in this runtime (other plugins, extra text, Redis,
    a milter) is not adopted: the session started from the defaults."""
    assert stack.state["plugins"] == ["pop3_retention"]
    assert sorted(stack.running()) == ["dovecot", "postfix"]
    assert stack.milters() == []
    assert "adopt-marker" not in open(stack.paths.h("etc/dovecot/dovecot.conf")).read()


def test_1_changes_everything_then_fails(stack):
    stack.configure(plugins=[], dovecot={"mail_format": "sdbox", "separator": ".",
                                         "prefix": "INBOX."},
                    dovecot_extra="# " + MARK, postfix={"smtpd_banner": "$myhostname " + MARK})
    stack.start_redis()
    stack.start_milter()
    stack.start_milter("second", socket="unix", unix_mode=0o666)
    stack.kill_milter("milter", default_action="reject")
    stack.set_userdb("alice", {"leak_marker": "a b"})
    stack.configure(accounts=list(stack.accounts) + [Account("erin@example.com", "erin-secret")])
    conn = clients.imap(stack, "erin")
    clients.append(conn, "INBOX", clients.message("a@example.net", "erin@example.com"))
    conn.logout()
    assert stack.message_count("erin") == 1
    assert False, "fails on purpose: the next test must not see any of this"


def test_2_sees_the_baseline_again(stack):
    assert stack.state["plugins"] == ["pop3_retention"]
    conf = open(stack.paths.h("etc/dovecot/dovecot.conf")).read()
    assert MARK not in conf and "sdbox" not in conf and "separator = /" in conf
    assert sorted(stack.running()) == ["dovecot", "postfix"] and stack.milters() == []
    main = open(stack.paths.h("etc/postfix/main.cf")).read()
    assert "smtpd_milters = \n" in main and "milter_default_action = tempfail\n" in main
    # What a client sees: the stock banner, no milter answering for dave.
    assert MARK not in probe.greeting(stack.ports["mx"])
    conn = clients.smtp(stack, "mx")
    conn.mail("someone@example.net")
    assert conn.rcpt("dave@example.org")[0] == 250
    assert conn.rcpt("erin@example.com")[0] == 550
    conn.quit()
    assert "leak_marker" not in stack.userdb("alice")
    conn = clients.imap(stack, "alice")
    assert b'"/" INBOX' in b" ".join(conn.list()[1])
    conn.logout()


def test_2b_stops_the_whole_stack(stack):
    stack.stop()
    assert stack.running() == []


def test_2c_finds_it_running_again(stack):
    assert sorted(stack.running()) == ["dovecot", "postfix"]
    clients.imap(stack, "alice").logout()


@pytest.mark.plugin("pop3_retention")
def test_3_a_plugin_test_after_a_restart_without_plugins_still_runs(stack):
    stack.configure(plugins=[])
    assert stack.state["plugins"] == []


@pytest.mark.plugin("pop3_retention")
def test_4_and_the_next_has_the_plugin_loaded(stack):
    assert stack.state["plugins"] == ["pop3_retention"]
    clients.pop3(stack, "bob").quit()
    stack.wait_for_log(r"pop3\(bob@example.org\).*harness-fake-plugin: loaded", ["dovecot"])


@pytest.fixture(scope="module")
def module_config(stack):
    with stack.scoped(dovecot={"mail_format": "mdbox"}, postfix={"delay_warning_time": "1h"}):
        yield stack


def test_5_a_module_fixture_sets_the_baseline_of_its_tests(module_config):
    assert "mdbox" in open(module_config.paths.h("etc/dovecot/dovecot.conf")).read()


def test_6_a_test_of_the_module_changes_it(module_config):
    module_config.configure(dovecot={"mail_format": "sdbox"})
    assert "delay_warning_time = 1h" in open(module_config.paths.h("etc/postfix/main.cf")).read()


def test_7_the_next_test_has_the_module_baseline(module_config):
    conf = open(module_config.paths.h("etc/dovecot/dovecot.conf")).read()
    assert "mdbox" in conf and "sdbox" not in conf
'''

LEGACY_MODULE = r"""
import pytest


@pytest.fixture(scope="module")
def legacy(stack):
    # The old way: a module fixture restarts Postfix with overrides and never undoes it.
    stack.start(["postfix"], postfix_overrides={"delay_warning_time": "2h"})
    yield stack


def test_y_the_fixture_holds_for_its_module(legacy):
    assert "delay_warning_time = 2h" in open(legacy.paths.h("etc/postfix/main.cf")).read()
"""

NEXT_MODULE = r"""
def test_z_the_next_module_has_the_session_baseline(stack):
    assert "mdbox" not in open(stack.paths.h("etc/dovecot/dovecot.conf")).read()
    main = open(stack.paths.h("etc/postfix/main.cf")).read()
    assert "delay_warning_time = 1h" not in main and "delay_warning_time = 2h" not in main
"""


def test_changes_never_leak_into_the_next_test(stack, fake_build, subsession):
    """Plugins, Dovecot options and text, Postfix overrides, milters (one killed
    with another default action), Redis, userdb fields and accounts changed by a
    failing test are all back for the next one; a module's changes last for its
    tests only; a session does not adopt a stack left running in its runtime."""
    left = Stack(stack.name, build_dir=fake_build, runtime_root=selftest_runtime(),
                 port_base=selftest_base(stack))
    try:
        left.start(["dovecot", "postfix", "redis", "milter"], plugins=[],
                   dovecot_extra="# adopt-marker")
        lock.release(left.paths.host, id(left))  # as if the process that started it ended
        outcomes, output = subsession({"test_sub.py": LEAK_SUITE, "test_sub_y.py": LEGACY_MODULE,
                                       "test_sub_z.py": NEXT_MODULE})
    finally:
        left.stop()
    assert outcomes == {
        "test_0_a_session_starts_from_the_known_configuration": "passed",
        "test_1_changes_everything_then_fails": "failed",
        "test_2_sees_the_baseline_again": "passed",
        "test_2b_stops_the_whole_stack": "passed",
        "test_2c_finds_it_running_again": "passed",
        "test_3_a_plugin_test_after_a_restart_without_plugins_still_runs": "passed",
        "test_4_and_the_next_has_the_plugin_loaded": "passed",
        "test_5_a_module_fixture_sets_the_baseline_of_its_tests": "passed",
        "test_6_a_test_of_the_module_changes_it": "passed",
        "test_7_the_next_test_has_the_module_baseline": "passed",
        "test_y_the_fixture_holds_for_its_module": "passed",
        "test_z_the_next_module_has_the_session_baseline": "passed",
    }, output
    assert "fails on purpose" in output


def test_a_test_cannot_leak_a_dead_milter_into_smtp(other_stack):
    """After kill_milter, Postfix applies milter_default_action; restore() brings
    the milter and the default action back, and mail flows again."""
    other_stack.start(["dovecot", "postfix", "milter"], plugins=[])
    base = other_stack.checkpoint()
    other_stack.kill_milter(default_action="tempfail")
    conn = clients.smtp(other_stack, "mx")
    code, _ = conn.mail("someone@example.net")
    conn.quit()
    assert code == 451
    other_stack.restore(base)
    assert procs.alive(other_stack.milter_info()["pid"])
    conn = clients.smtp(other_stack, "mx")
    conn.mail("someone@example.net")
    assert conn.rcpt("dave@example.org")[0] == 550
    conn.quit()


def test_a_failed_start_forgets_the_config_it_was_given(other_stack):
    other_stack.start(["dovecot"], plugins=[])
    with pytest.raises(HarnessError, match="dovecot did not start"):
        other_stack.start(["dovecot"], dovecot_extra="no_such_setting_here = 1")
    other_stack.start(["dovecot"])
    assert "no_such_setting_here" not in open(other_stack.paths.h("etc/dovecot/dovecot.conf")).read()
    with pytest.raises(HarnessError, match="dovecot did not start"):
        other_stack.configure(dovecot_extra="no_such_setting_here = 1")
    # configure() puts the previous configuration back and running.
    assert "dovecot" in other_stack.running()
    assert "no_such_setting_here" not in open(other_stack.paths.h("etc/dovecot/dovecot.conf")).read()
    clients.imap(other_stack, "alice").logout()


# ---- a session's start, the lock ------------------------------------------------------

def test_a_second_user_of_the_runtime_is_refused(stack):
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from mailstack import Stack, HarnessError\n"
            "try:\n    Stack().start()\nexcept HarnessError as e:\n    print(e); sys.exit(3)\n"
            % HARNESS)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "in use by PID %d" % os.getpid() in proc.stdout
    stop = subprocess.run([sys.executable, os.path.join(HARNESS, "stack.py"), "stop"],
                          capture_output=True, text=True, timeout=60)
    assert stop.returncode != 0 and "in use by PID" in stop.stdout + stop.stderr
    assert sorted(stack.running()) == ["dovecot", "postfix"]


def test_the_selftest_runtime_follows_the_environment(other_stack):
    assert other_stack.runtime_root == selftest_runtime()
    assert selftest_runtime().startswith(os.environ.get("MAILPOLICY_RUNTIME", "/tmp/mailpolicy-test"))


def test_runtime_dir_is_traversable_by_the_server_users(stack):
    # Chrooted servers resolve paths from the tree's root: the host
    # directories above the tree (e.g. a 0700 checkout) do not matter.
    top = os.path.abspath(stack.platform.root)
    path = stack.paths.host
    while path != top and path != "/":
        assert os.stat(path).st_mode & stat.S_IXOTH, path
        path = os.path.dirname(path)


def test_a_crashed_stack_is_cleaned_up_by_the_next_start(other_stack):
    other_stack.start(["dovecot", "postfix", "redis"])
    old = dict(other_stack.state["pids"])
    # Crash: the masters die without their children being told, the state file stays.
    for part in ("dovecot", "postfix", "redis"):
        os.kill(old[part], signal.SIGKILL)
    assert procs.wait_gone(old.values(), 5) == []
    again = Stack(other_stack.name, build_dir=other_stack.build_dir,
                  runtime_root=other_stack.runtime_root, port_base=other_stack.platform.port_base)
    again.start()
    assert set(again.running()) == {"dovecot", "postfix"}
    assert not any(procs.alive(pid) for pid in old.values())
    again.stop()
    assert again.leftovers() == []


def test_a_server_that_dies_while_starting_fails_at_once(other_stack):
    """wait_ready() notices a server that died instead of waiting for its timeout."""
    with pytest.raises(HarnessError) as e:
        other_stack.start(["dovecot", "milter"], plugins=[],
                          policy_text="milter {\n}\n# fake-milter: exit 3\n")
    assert "exited while starting" in str(e.value)
    assert "exiting with 3" in str(e.value)
    assert "not ready after" not in str(e.value)
    assert other_stack.running() == []


# ---- helpers that cannot hide a failure ------------------------------------------------

def test_message_count_raises_when_doveadm_fails(stack):
    assert stack.message_count("alice", "No such folder") == 0
    stack.configure(parts=["postfix"])
    with pytest.raises(HarnessError, match="doveadm mailbox status failed"):
        stack.message_count("alice")


def test_queue_raises_when_postqueue_fails(stack):
    assert stack.queue() == ""
    stack.configure(parts=["dovecot"])
    assert stack.queue() == ""  # postqueue reads the queue itself while Postfix is down
    spool = stack.paths.h("spool", "postfix")
    os.rename(spool, spool + ".moved")
    try:
        with pytest.raises(HarnessError, match="postqueue.*-p"):
            stack.queue()
    finally:
        os.rename(spool + ".moved", spool)


def test_the_servers_are_back_after_a_test_stopped_them(stack):
    """The two tests above stopped Dovecot or Postfix; this one (whatever the order)
    finds both running."""
    assert sorted(stack.running()) == ["dovecot", "postfix"]
    assert stack.queue() == "" and stack.message_count("alice") == 0


def test_commands_time_out(stack):
    with pytest.raises(HarnessError, match="timed out after 0.3 s"):
        stack.cmd(["sleep", "5"], timeout=0.3)


def test_reset_wipes_mail_folders_and_accounts(stack):
    """What one test stores is gone for the next one (reset, run before every test)."""
    stack.configure(accounts=list(stack.accounts) + [Account("erin@example.com", "pw")])
    conn = clients.imap(stack, "erin")
    assert conn.create("Projects/apollo")[0] == "OK"
    clients.append(conn, "Projects/apollo", clients.message("a@example.net", "erin@example.com"))
    conn.logout()
    conn = clients.imap(stack, "alice")
    clients.append(conn, "INBOX", clients.message("a@example.net", "alice@example.com"))
    conn.logout()
    stack.reset()
    with pytest.raises(HarnessError, match="no test account 'erin'"):
        stack.account("erin")
    conn = clients.imap(stack, "alice")
    assert conn.select("INBOX")[1] == [b"0"]
    assert not any(b"Projects" in x for x in conn.list()[1])
    conn.logout()


def test_reset_with_other_accounts(stack, send):
    """A test may bring its own accounts (with userdb fields) through reset(); the
    next reset() brings the baseline's back."""
    stack.reset(accounts=[Account("erin@example.com", "erin-secret", {"x_field": "a b"})])
    assert stack.userdb("erin")["x_field"] == "a b"
    assert send(stack, "mx", "erin@example.com") == {}
    stack.wait_for_messages("erin")
    clients.imap(stack, "erin").logout()
    stack.reset()
    conn = clients.smtp(stack, "mx")
    conn.mail("someone@example.net")
    assert conn.rcpt("erin@example.com")[0] == 550
    conn.quit()


def test_unknown_user_gets_a_bounce_free_refusal(stack):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        conn = clients.smtp(stack, "mx")
        try:
            conn.sendmail("a@example.net", ["ghost@example.org"], clients.message(
                "a@example.net", "ghost@example.org"))
        finally:
            conn.quit()
    assert stack.queue() == ""


# ---- modules: missing builds, placement ---------------------------------------------------

CI_SUITE = r'''
import pytest


@pytest.mark.plugin("folder_quota")
def test_folder_quota(stack):
    pass


@pytest.mark.plugin("pop3_retention")
def test_pop3_retention(stack):
    pass


@pytest.mark.milter
def test_milter(stack):
    pass
'''


def test_missing_builds_skip_unless_ci_and_sources_exist(subsession, tmp_path):
    """Under CI=true a module whose sources exist but whose build is missing fails
    its tests; without sources (not written yet) or outside CI they skip."""
    src = tmp_path / "src"
    (src / "plugins" / "folder_quota").mkdir(parents=True)
    (src / "plugins" / "folder_quota" / "folder-quota.c").write_text("/* stand-in */\n")
    env = {"MAILPOLICY_SRCDIR": str(src)}
    outcomes, output = subsession(CI_SUITE, dict(env, CI="true"))
    # A failure in setup is an error: the run fails all the same.
    assert outcomes == {"test_folder_quota": "error", "test_pop3_retention": "passed",
                        "test_milter": "passed"}, output
    assert "sources are in" in output and "CI=true" in output
    outcomes, output = subsession(CI_SUITE, env)
    assert outcomes["test_folder_quota"] == "skipped", output
    # A module not written yet (no sources: an empty source tree) skips even under CI.
    empty = tmp_path / "empty-src"
    empty.mkdir()
    outcomes, output = subsession(CI_SUITE, {"CI": "true", "MAILPOLICY_SRCDIR": str(empty)})
    assert outcomes["test_folder_quota"] == "skipped", output


def test_missing_plugin_is_a_clear_error(stack, tmp_path):
    """Asked for by name, a plugin that is not built is an error (always tested:
    the build directory here is empty)."""
    s = Stack(stack.name, build_dir=str(tmp_path / "empty-build"), runtime_root=selftest_runtime(),
              port_base=selftest_base(stack))
    with pytest.raises(HarnessError, match="not built"):
        s.start(plugins=["folder_quota"])
    assert s.running() == []


def test_a_built_plugin_is_loaded_where_modules_py_says(other_stack):
    """A stand-in built under pop3_retention's file name: the stack loads it for
    POP3 and doveadm (modules.py), not for IMAP; on both dialects."""
    other_stack.start(["dovecot"])
    assert other_stack.state["plugins"] == ["pop3_retention"]
    clients.imap(other_stack, "alice").logout()
    clients.pop3(other_stack, "alice").quit()
    other_stack.kick_all()
    line = other_stack.wait_for_log(r"pop3\(alice@example.com\).*harness-fake-plugin: loaded",
                                    ["dovecot"], since={})
    assert line
    log = open(other_stack.log_files()["dovecot"]).read()
    assert "imap(alice@example.com)" in log
    assert not any("imap(" in ln for ln in log.splitlines() if "harness-fake-plugin" in ln)
    proc = other_stack.doveadm("mailbox", "status", "-u", "alice@example.com", "messages", "INBOX")
    assert "harness-fake-plugin: loaded" in proc.stderr


# ---- one Debian 13 stack ---------------------------------------------------------------------

def test_debian13_has_one_stack_the_harness():
    """tests/harness/debian13 holds the tree tools only; the stack on it is
    mailstack's, as on Debian 12 (no second runner, templates or smoke suite)."""
    d = os.path.join(HARNESS, "debian13")
    assert sorted(os.listdir(d)) == ["README.md", "in-tree-make", "lib.sh", "make-tree", "mounts"]
    readme = open(os.path.join(d, "README.md")).read()
    assert "run-stack" not in readme and "smoke.py" not in readme
    recipe = open(os.path.join(d, "make-tree")).read()
    assert "dovecot-sieve" in recipe
