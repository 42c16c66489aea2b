"""The integration suite's fixtures: the harness's pytest plugin (tests/harness/
mailstack/pytest_plugin.py, documented in tests/harness/README.md): the session
`stack`, per-test isolation (`fresh_stack`, autouse), the `send` fixture, the
plugin(NAME) and milter markers, and the server logs of a failed test.

Below them, the fixtures of the harness's own tests (test_harness*.py): stand-in
modules built for the stack's platform, a second stack on the self-test ports
and runtime, and a pytest sub-session that runs a small suite on it."""

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.abspath(os.path.join(HERE, "..", "harness"))
sys.path.insert(0, HARNESS)

from mailstack import Stack  # noqa: E402
from mailstack.pytest_plugin import (  # noqa: E402,F401
    _mailstack_module_scope, fresh_stack, pytest_configure, pytest_runtest_makereport,
    pytest_terminal_summary, send, stack)
from mailstack.stack import default_runtime_root  # noqa: E402


# ---- the harness's self-tests ------------------------------------------------------

def selftest_runtime():
    """Where the self-tests' stacks live: $MAILPOLICY_SELFTEST_RUNTIME, else the
    session's runtime root + "-selftest" (so worktrees never share one)."""
    return os.environ.get("MAILPOLICY_SELFTEST_RUNTIME") or default_runtime_root() + "-selftest"


def selftest_base(stack):
    """The self-tests' port base: $MAILPOLICY_SELFTEST_PORT_BASE, else the session
    stack's base + 2000 (22000 beside the CI default 20000, 29000 beside 27000)."""
    if os.environ.get("MAILPOLICY_SELFTEST_PORT_BASE"):
        return int(os.environ["MAILPOLICY_SELFTEST_PORT_BASE"])
    return stack.platform.port_base + 2000


@pytest.fixture(scope="session")
def fake_build(stack, tmp_path_factory):
    """A build directory holding stand-ins built for the stack's platform: the C
    milter (fake_milter.c) as mailpolicy-milter and a plugin that only logs
    (fake_plugin.c) under pop3_retention's file name."""
    build = str(tmp_path_factory.mktemp("fake-build"))
    out = stack.platform.build_dir(build)
    stack.platform.cc([os.path.join(HERE, "fake_milter.c")],
                      os.path.join(out, "sbin", "mailpolicy-milter"),
                      libs=["-lmilter", "-pthread"])
    stack.platform.cc([os.path.join(HERE, "fake_plugin.c")],
                      os.path.join(out, "modules", "lib20_pop3_retention_plugin.so"),
                      flags=["-DPLUGIN=pop3_retention"], dovecot_plugin=True)
    return build


@pytest.fixture(scope="session")
def host_fake_milter(stack, fake_build, tmp_path_factory):
    """The stand-in milter built for the host (miltertest runs on the host)."""
    if stack.platform.root == "/":
        return os.path.join(fake_build, "sbin", "mailpolicy-milter")
    path = str(tmp_path_factory.mktemp("host-fake") / "mailpolicy-milter")
    from mailstack.platforms import Debian12
    return Debian12().cc([os.path.join(HERE, "fake_milter.c")], path,
                         libs=["-lmilter", "-pthread"])


@pytest.fixture
def other_stack(stack, fake_build):
    """A second stack of the same platform on the self-test ports and runtime,
    with the stand-ins as its build (pop3_retention loads; the milter is fake)."""
    s = Stack(stack.name, build_dir=fake_build, runtime_root=selftest_runtime(),
              port_base=selftest_base(stack))
    yield s
    s.stop()
    assert s.leftovers() == []


@pytest.fixture
def subsession(stack, fake_build, tmp_path):
    """subsession(files, env={}) runs a pytest session of its own on files
    ({file name: source}, or one source as test_sub.py) with the harness's
    plugin, the self-test ports and runtime and the stand-ins built; returns
    ({test name: passed|failed|skipped|error}, output)."""
    def run(files, env=None):
        if isinstance(files, str):
            files = {"test_sub.py": files}
        d = tmp_path / "sub"
        if d.exists():
            shutil.rmtree(str(d))
        d.mkdir()
        (d / "conftest.py").write_text(
            "import sys\nsys.path.insert(0, %r)\n"
            "from mailstack.pytest_plugin import (_mailstack_module_scope, fresh_stack, "
            "pytest_configure, pytest_runtest_makereport, send, stack)\n" % HARNESS)
        (d / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        for name, source in files.items():
            (d / name).write_text(source)
        environ = dict(os.environ, STACK=stack.name, BUILD_DIR=fake_build,
                       MAILPOLICY_RUNTIME=selftest_runtime(),
                       MAILPOLICY_PORT_BASE=str(selftest_base(stack)))
        if stack.platform.root != "/":
            environ["D13_ROOT"] = stack.platform.root  # the session's tree, not one in BUILD_DIR
        environ.pop("CI", None)
        environ.update(env or {})
        junit = str(tmp_path / "sub.xml")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "--junitxml", junit,
                               str(d)], cwd=str(d), env=environ, capture_output=True, text=True,
                              timeout=600)
        outcomes = {}
        if os.path.exists(junit):
            for case in ET.parse(junit).getroot().iter("testcase"):
                kinds = [c.tag for c in case]
                outcome = ("failed" if "failure" in kinds else "error" if "error" in kinds
                           else "skipped" if "skipped" in kinds else "passed")
                outcomes[case.get("name")] = outcome
        return outcomes, proc.stdout + proc.stderr
    return run
