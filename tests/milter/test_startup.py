"""mailpolicy-milter's start: a reload signal that comes while the milter is
still starting (`systemctl reload` right after `systemctl start`: the unit
is Type=simple, so systemd takes it as started at once) must not kill it; it
is a reload like any other.

The milter is held at a known point of its start, in the openlog() that
main() calls first, by tests/milter/startup-gate.c (LD_PRELOAD, built as
BUILD_DIR/tests/milter/startup-gate.so), so the signal comes there and not
at a random time. Run by tests/milter/run beside test_wire.py: the binary is
the runner's milter's, the policy the runner's with a socket of its own.
"""

import os
import re
import signal
import subprocess
import time

import milterwire as w

BUILD_DIR = os.environ.get("BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
GATE_SO = os.path.join(BUILD_DIR, "tests", "milter", "startup-gate.so")


def wait_for(what, cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("never happened: " + what)
        time.sleep(0.02)


def test_reload_signal_during_start_is_a_reload(tmp_path):
    assert os.path.exists(GATE_SO), "not built: " + GATE_SO
    binary = os.readlink("/proc/%s/exe" % os.environ["MILTER_PID"])
    with open(os.environ["MILTER_POLICY"]) as f:
        text = f.read()
    sock = tmp_path / "milter.sock"
    text, n = re.subn(r"(?m)^(\s*socket\s*=).*$", r"\1 unix:%s" % sock, text, count=1)
    assert n == 1, "no socket line in the policy"
    policy = tmp_path / "policy.conf"
    policy.write_text(text)
    gate = tmp_path / "gate"
    log_path = tmp_path / "log"
    env = dict(os.environ, LD_PRELOAD=GATE_SO, MP_GATE=str(gate),
               ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                             ":verify_asan_link_order=0").lstrip(":"))

    def log():
        return log_path.read_bytes()

    with open(log_path, "wb") as out:
        proc = subprocess.Popen([binary, "-f", "-c", str(policy)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for("the milter at the gate",
                 lambda: os.path.exists(str(gate) + ".waiting") or proc.poll() is not None)
        assert proc.poll() is None, log()
        os.kill(proc.pid, signal.SIGUSR1)
        gate.touch()
        wait_for("the reload (or the milter's end)",
                 lambda: b"policy reloaded" in log() or proc.poll() is not None)
        assert proc.poll() is None, "SIGUSR1 killed the starting milter (status %s): %s" % (
            proc.returncode, log())
        # one start, then the reload the signal asked for, and it serves
        assert log().count(b"started:") == 1, log()
        with w.Milter("unix:%s" % sock).negotiate() as m:
            m.macros(w.MAIL, "{daemon_name}", "mx", "{client_addr}", "192.0.2.1")
            assert m.mail("x@remote.test").code == w.CONTINUE
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
