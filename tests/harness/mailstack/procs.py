"""Process bookkeeping for the test stack: run commands, find and end our daemons.

Every daemon the harness starts is found again by PID (pid files, the state file)
and, as a safety net, by scanning /proc for processes that name the runtime
directory in their command line or environment, or that belong to the session
of a master we started. Nothing here matches by program name alone: the
machine may run its own dovecot/postfix/redis on the standard ports.
"""

import os
import signal
import subprocess
import tempfile
import time


class HarnessError(Exception):
    """A stack part failed to start, stop or answer; the message says which and why."""


def run(argv, check=True, env=None, timeout=60, input=None):
    """Run argv, capture its output; raise HarnessError with the output on failure
    (and on timeout: the command is killed after timeout seconds).
    input: bytes (or str) fed on stdin; default: stdin is /dev/null.
    Output goes through temporary files, not pipes: a daemon that forks keeps
    its inherited stdout open, and reading a pipe would wait for it to exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        if input is not None:
            inp.write(input.encode() if isinstance(input, str) else input)
            inp.seek(0)
        try:
            code = subprocess.run(argv, stdin=inp if input is not None else subprocess.DEVNULL,
                                  stdout=out, stderr=err, env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.seek(0)
            err.seek(0)
            raise HarnessError("command timed out after %g s: %s\n%s%s" % (
                timeout, " ".join(argv), out.read().decode(errors="replace")[-2000:],
                err.read().decode(errors="replace")[-2000:]))
        out.seek(0)
        err.seek(0)
        proc = subprocess.CompletedProcess(argv, code, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))
    if check and proc.returncode != 0:
        raise HarnessError("command failed (exit %d): %s\n%s%s" % (
            proc.returncode, " ".join(argv), proc.stdout, proc.stderr))
    return proc


def read_pidfile(path):
    """The PID in path (first word of the first line), or None."""
    try:
        with open(path) as f:
            word = f.read().split()
    except OSError:
        return None
    if not word or not word[0].isdigit():
        return None
    return int(word[0])


def alive(pid):
    """True while pid exists and is not a zombie."""
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _proc_field(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            return f.read()
    except OSError:
        return b""


def session_id(pid):
    stat = _proc_field(pid, "stat").decode(errors="replace")
    if not stat:
        return None
    return int(stat.rsplit(")", 1)[1].split()[3])


def cmdline(pid):
    return _proc_field(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()


def related_processes(marker, sessions=()):
    """PIDs (not ours) whose cmdline or environment contains marker, or whose
    session leader is one of sessions."""
    needle = marker.encode()
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == me or not alive(pid):
            continue
        if (needle in _proc_field(pid, "cmdline") or needle in _proc_field(pid, "environ")
                or (sessions and session_id(pid) in sessions)):
            found.append(pid)
    return sorted(found)


def wait_gone(pids, timeout):
    """Wait until none of pids is alive; return the ones still alive."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def terminate(pids, grace=5.0):
    """SIGTERM pids, SIGKILL what is still there after grace seconds.
    Returns the PIDs that had to be killed."""
    pids = [p for p in pids if alive(p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    left = wait_gone(pids, grace)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_gone(left, 2.0)
    return left


def session_members(sid):
    """(pid, comm) of the live processes in session sid."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and session_id(int(name)) == sid and alive(int(name)):
            comm = _proc_field(int(name), "comm").decode(errors="replace").strip()
            out.append((int(name), comm))
    return out


def port_owner(port):
    """'PID (command)' of the process listening on 127.0.0.1/0.0.0.0:port, or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % fields[9])
        except OSError:
            continue
    if not inodes:
        return None
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % name)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (name, fd)) in inodes:
                    return "%s (%s)" % (name, cmdline(int(name))[:80])
            except OSError:
                continue
    return "an unknown process"
