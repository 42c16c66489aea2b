"""Fixtures of the integration suite: one real stack per session, a fresh state per test.

The stack (STACK=debian12 by default, or debian13) starts once per session with
every plugin that is built; each test gets empty mailboxes, an empty Postfix
queue, the default accounts and policy back, and no IMAP/POP3 session left
over from the test before. When a test fails, the server log lines written
while it ran are printed under "server logs" and kept under
BUILD_DIR/test-logs/STACK/TEST/. The stack is stopped by PID at the end of the
session, on Ctrl-C and on SIGTERM, and the session fails if anything is left.
"""

import atexit
import os
import re
import signal
import sys

import pytest

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness")
sys.path.insert(0, os.path.abspath(HARNESS))

from mailstack import HarnessError, Stack, clients  # noqa: E402
from mailstack import modules as mp_modules  # noqa: E402

_started = []
_ready_in = {}  # stack name -> seconds its start took, for the summary


def _stop_all():
    while _started:
        _started.pop().stop()


def _sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    config.addinivalue_line("markers", "plugin(name): needs the Dovecot plugin NAME built")
    config.addinivalue_line("markers", "milter: needs build/sbin/mailpolicy-milter built")
    # SIGTERM (CI timeouts, kill) unwinds like Ctrl-C so the fixtures stop the stack;
    # atexit is the last net if a finalizer never ran.
    signal.signal(signal.SIGTERM, _sigterm)
    atexit.register(_stop_all)


@pytest.fixture(scope="session")
def stack():
    """The running stack (Dovecot + Postfix, every built plugin loaded)."""
    if os.geteuid() != 0:
        pytest.exit("the integration suite runs the servers as root (as CI does)", returncode=1)
    s = Stack()
    _started.append(s)
    try:
        timings = s.start()
    except HarnessError as e:
        pytest.exit("could not start the %s stack:\n%s" % (s.name, e), returncode=1)
    _ready_in[s.name] = timings["total"]
    s.session_policy = s.state["policy_text"]
    yield s
    _started.remove(s)
    s.stop()
    left = s.leftovers()
    assert not left, "processes of the stack still running after stop: %s" % left


@pytest.fixture(autouse=True)
def fresh_stack(request, stack):
    """Per-test isolation, and the log offsets the failure report starts from."""
    for mark in request.node.iter_markers("plugin"):
        name = mark.args[0]
        if name not in stack.state["plugins"]:
            pytest.skip("plugin %s is not built (%s)" % (
                name, mp_modules.plugin_path(stack.platform.build_dir(stack.build_dir), name)))
    if request.node.get_closest_marker("milter") and not os.path.exists(
            mp_modules.milter_path(stack.platform.build_dir(stack.build_dir))):
        pytest.skip("mailpolicy-milter is not built")
    stack.reset(policy_text=stack.session_policy)
    request.node.mailstack_offsets = (stack, stack.log_offsets())
    yield stack


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    saved = getattr(item, "mailstack_offsets", None)
    if not rep.failed or saved is None:
        return
    stack, offsets = saved
    logs = stack.log_since(offsets)
    if not logs:
        rep.sections.append(("server logs", "(no server log lines during this test)"))
        return
    keep = os.path.join(stack.build_dir, "test-logs", stack.name,
                        re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid))
    os.makedirs(keep, exist_ok=True)
    text = []
    for name, lines in sorted(logs.items()):
        with open(os.path.join(keep, name + ".log"), "w") as f:
            f.write(lines)
        text.append("--- %s (%s) ---\n%s" % (name, stack.log_files()[name], lines.rstrip()))
    text.append("(kept in %s)" % keep)
    rep.sections.append(("server logs during %s" % call.when, "\n".join(text)))


def pytest_terminal_summary(terminalreporter):
    for name, seconds in _ready_in.items():
        terminalreporter.write_line("%s stack started and ready in %.1f s" % (name, seconds))


@pytest.fixture
def send():
    """send(stack, listener, rcpts, account=None, sender=None, **message args): one message over SMTP."""
    def _send(stack, listener, rcpts, account=None, sender=None, **kw):
        rcpts = [rcpts] if isinstance(rcpts, str) else list(rcpts)
        sender = sender or (stack.account(account).address if account else "someone@example.net")
        conn = clients.smtp(stack, listener, account)
        try:
            return conn.sendmail(sender, rcpts, clients.message(sender, rcpts[0], **kw))
        finally:
            conn.quit()
    return _send
