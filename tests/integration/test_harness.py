"""The harness itself: a second stack beside the session's, crash recovery,
the milter and Redis plumbing (with a stand-in milter until the real one is built)."""

import os
import shutil
import signal
import smtplib
import stat

import pytest

from mailstack import Stack, clients, procs

HERE = os.path.dirname(os.path.abspath(__file__))
SELFTEST_BASE = 22000  # stays clear of the session stack (20000, 21000)


@pytest.fixture
def other_stack(tmp_path):
    """A second stack on its own ports and runtime directory, with a build
    directory that holds the fake milter."""
    build = tmp_path / "build"
    (build / "sbin").mkdir(parents=True)
    shutil.copy(os.path.join(HERE, "fake_milter.py"), build / "sbin" / "mailpolicy-milter")
    s = Stack(build_dir=str(build), runtime_root="/tmp/mailpolicy-selftest",
              port_base=SELFTEST_BASE)
    yield s
    s.stop()
    assert s.leftovers() == []


def test_runtime_dir_is_traversable_by_the_server_users(stack):
    path = stack.paths.host
    while path != "/":
        assert os.stat(path).st_mode & stat.S_IXOTH, path
        path = os.path.dirname(path)


def test_a_crashed_stack_is_cleaned_up_by_the_next_start(other_stack):
    other_stack.start(["dovecot", "postfix", "redis"])
    old = dict(other_stack.state["pids"])
    # Crash: the masters die without their children being told, the state file stays.
    for part in ("dovecot", "postfix", "redis"):
        os.kill(old[part], signal.SIGKILL)
    assert procs.wait_gone(old.values(), 5) == []
    again = Stack(build_dir=other_stack.build_dir, runtime_root="/tmp/mailpolicy-selftest",
                  port_base=SELFTEST_BASE)
    again.start()
    assert set(again.running()) == {"dovecot", "postfix"}
    assert not any(procs.alive(pid) for pid in old.values())
    again.stop()
    assert again.leftovers() == []


def test_milter_is_consulted_and_stopped_by_pid(other_stack, send):
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
        Stack(runtime_root="/tmp/mailpolicy-selftest", port_base=SELFTEST_BASE).start(
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
