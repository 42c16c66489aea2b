"""Fixtures and hooks of the integration suite (tests/integration/conftest.py
imports them): one real stack per session, a fresh state per test, every
change a test makes undone when it ends.

The session stack (STACK=debian12 by default, or debian13) starts from the
known defaults (whatever ran in the runtime directory before is stopped; the
directory is locked against a second session) with every plugin that is built.
Its configuration then is the *baseline*. Each test starts from the baseline
(servers whose configuration differs are restarted) with empty mailboxes, an
empty Postfix queue, the baseline's accounts and policy, Redis emptied, and
no IMAP/POP3 session left over; whatever the test changed (plugins, Dovecot
options, Postfix overrides, milters, Redis, which parts run, accounts) is put
back when it ends, passed or failed. A module-scoped fixture may change the
baseline for its module (stack.scoped(...), or any change made outside a
test); it is put back when the module ends.

A test marked plugin(NAME) or milter is skipped when that module is not built,
unless CI=true and the module's sources are in the tree: then it fails.
When a test fails, the server log lines written while it ran are printed under
"server logs" and kept under BUILD_DIR/test-logs/STACK/TEST/. The stack is
stopped by PID at the end of the session, on Ctrl-C and on SIGTERM.
"""

import atexit
import os
import re
import signal

import pytest

from . import clients
from . import modules as mp_modules
from .procs import HarnessError
from .stack import Stack

_started = []
_ready_in = {}  # stack name -> seconds its start took, for the summary


def ci():
    """True under CI (CI=true): a module with sources but no build output fails."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def require_module(stack, name):
    """Skip the calling test when module name (a plugin name or "milter") is not
    built for the stack's platform; fail instead under CI when its sources exist."""
    build = stack.platform.build_dir(stack.build_dir)
    if name == "milter":
        path = mp_modules.milter_path(build)
    elif name in mp_modules.DOVECOT_PLUGINS:
        path = mp_modules.plugin_path(build, name)
    else:
        pytest.fail("unknown module %r: not in mailstack/modules.py (%s)" % (
            name, ", ".join(list(mp_modules.DOVECOT_PLUGINS) + ["milter"])), pytrace=False)
    if os.path.exists(path):
        return path
    if ci() and mp_modules.has_sources(name):
        pytest.fail("%s: its sources are in %s but %s was not built (CI=true: a missing "
                    "build fails the run)" % (name, mp_modules.source_dir(name), path),
                    pytrace=False)
    pytest.skip("%s is not built (%s)" % (name, path))


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
    try:
        timings = s.start(fresh=True)
    except HarnessError as e:
        pytest.exit("could not start the %s stack:\n%s" % (s.name, e), returncode=1)
    _started.append(s)
    _ready_in[s.name] = timings["total"]
    s.session_policy = s.state["policy_text"]
    s.baseline = s.checkpoint()
    yield s
    _started.remove(s)
    s.stop()
    left = s.leftovers()
    assert not left, "processes of the stack still running after stop: %s" % left


@pytest.fixture(scope="module", autouse=True)
def _mailstack_module_scope(stack):
    """What a module's fixtures changed outside its tests is put back after the module."""
    saved = stack.baseline
    yield
    stack.in_test = False
    stack.baseline = saved
    stack.restore(saved)


@pytest.fixture(autouse=True)
def fresh_stack(request, stack):
    """Per-test isolation, the log offsets the failure report starts from, and
    the baseline back after the test."""
    for mark in request.node.iter_markers("plugin"):
        require_module(stack, mark.args[0])
    if request.node.get_closest_marker("milter"):
        require_module(stack, "milter")
    stack.in_test = False
    stack.restore(stack.baseline)
    stack.reset()
    offsets = stack.log_offsets()
    stack.test_offsets = offsets
    request.node.mailstack_offsets = (stack, offsets)
    stack.in_test = True
    try:
        yield stack
    finally:
        stack.in_test = False
        stack.test_offsets = None
        stack.restore(stack.baseline)


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
