"""The harness itself: a second stack beside the session's, crash recovery,
the milter and Redis plumbing (with a stand-in milter until the real one is built)."""

import os
import shutil
import signal
import smtplib
import stat
import subprocess

import pytest

from mailstack import Stack, clients, procs

HERE = os.path.dirname(os.path.abspath(__file__))
SELFTEST_RUNTIME = "/tmp/mailpolicy-selftest"


def selftest_base(stack):
    # Clear of both session stacks (20000, 21000): 22000 beside debian12, 23000 beside debian13.
    return stack.platform.port_base + 2000


@pytest.fixture
def other_stack(tmp_path, stack):
    """A second stack of the same platform on its own ports and runtime directory,
    with a build directory that holds the fake milter."""
    build = tmp_path / "build"
    s = Stack(stack.name, build_dir=str(build), runtime_root=SELFTEST_RUNTIME,
              port_base=selftest_base(stack))
    sbin = os.path.join(s.platform.build_dir(str(build)), "sbin")
    os.makedirs(sbin)
    shutil.copy(os.path.join(HERE, "fake_milter.py"), os.path.join(sbin, "mailpolicy-milter"))
    yield s
    s.stop()
    assert s.leftovers() == []


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
                  runtime_root=SELFTEST_RUNTIME, port_base=other_stack.platform.port_base)
    again.start()
    assert set(again.running()) == {"dovecot", "postfix"}
    assert not any(procs.alive(pid) for pid in old.values())
    again.stop()
    assert again.leftovers() == []


def test_milter_is_consulted_and_stopped_by_pid(other_stack, send):
    if not os.path.exists(other_stack.platform.host_path("/usr/bin/python3")):
        pytest.skip("the stand-in milter is a Python script; %s has no python3" % other_stack.name)
    other_stack.start(["dovecot", "postfix", "milter"], plugins=[])
    policy = open(other_stack.paths.h("etc", "mailpolicy.conf")).read()
    assert "socket = inet:%d@127.0.0.1" % other_stack.ports["milter"] in policy
    conn = clients.smtp(other_stack, "mx")
    conn.mail("someone@example.net")
    code, text = conn.rcpt("dave@example.org")
    assert (code, text) == (550, b"5.7.1 blocked by the fake milter")
    conn.quit()
    assert send(other_stack, "mx", "alice@example.com") == {}
    other_stack.wait_for_messages("alice")

    # Without the milter Postfix is told to stop asking it.
    pid = other_stack.state["pids"]["milter"]
    other_stack.stop(["milter"])
    assert not procs.alive(pid)
    assert send(other_stack, "mx", "dave@example.org") == {}


def test_redis_answers_and_is_emptied_by_reset(other_stack):
    from mailstack import probe
    other_stack.start(["dovecot", "redis"])
    port = other_stack.ports["redis"]
    assert probe.redis_command(port, "SET", "k", "v") == "+OK"
    other_stack.reset()
    assert probe.redis_command(port, "EXISTS", "k") == ":0"


def test_missing_plugin_is_a_clear_error(stack):
    from mailstack import HarnessError
    if "folder_quota" in stack.state["plugins"]:
        pytest.skip("folder_quota is built")
    with pytest.raises(HarnessError, match="not built"):
        Stack(stack.name, runtime_root=SELFTEST_RUNTIME, port_base=selftest_base(stack)).start(
            plugins=["folder_quota"])


def test_unknown_user_gets_a_bounce_free_refusal(stack):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        conn = clients.smtp(stack, "mx")
        try:
            conn.sendmail("a@example.net", ["ghost@example.org"], clients.message(
                "a@example.net", "ghost@example.org"))
        finally:
            conn.quit()
    assert stack.queue() == ""


def test_a_built_plugin_is_loaded_where_modules_py_says(other_stack):
    """A stand-in built under pop3_retention's file name: the stack loads it for
    POP3 and doveadm (modules.py), not for IMAP."""
    if other_stack.platform.dovecot_dialect != "2.3":
        pytest.skip("on Dovecot 2.4 a plugin needs a settings module for mailpolicy_config")
    moddir = os.path.join(other_stack.platform.build_dir(other_stack.build_dir), "modules")
    os.makedirs(moddir)
    build = subprocess.run(
        ". /usr/lib/dovecot/dovecot-config && gcc $DOVECOT_CFLAGS $LIBDOVECOT_INCLUDE -Wall "
        "-Werror -fPIC -shared -DHAVE_CONFIG_H -DPLUGIN=pop3_retention -o %s/%s %s" % (
            moddir, "lib20_pop3_retention_plugin.so", os.path.join(HERE, "fake_plugin.c")),
        shell=True, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    other_stack.start(["dovecot"])
    assert other_stack.state["plugins"] == ["pop3_retention"]
    log = other_stack.log_files()["dovecot"]

    clients.imap(other_stack, "alice").logout()
    pop = clients.pop3(other_stack, "alice")
    pop.quit()
    other_stack.kick_all()
    lines = [ln for ln in open(log) if "harness-fake-plugin: loaded" in ln]
    assert any("pop3(alice@example.com)" in ln for ln in lines), lines
    assert not any("imap(" in ln for ln in lines), lines
    proc = other_stack.doveadm("mailbox", "status", "-u", "alice@example.com", "messages", "INBOX")
    assert "harness-fake-plugin: loaded" in proc.stderr


def test_reset_with_other_accounts(stack, send):
    """A test may bring its own accounts (with userdb fields); the next test gets the defaults."""
    from mailstack import Account
    stack.reset(accounts=[Account("erin@example.com", "erin-secret")])
    assert send(stack, "mx", "erin@example.com") == {}
    stack.wait_for_messages("erin")
    clients.imap(stack, "erin").logout()
    stack.reset()
    conn = clients.smtp(stack, "mx")
    conn.mail("someone@example.net")
    assert conn.rcpt("erin@example.com")[0] == 550
    conn.quit()
