"""One user of a runtime directory at a time: an flock on a file beside it.

Two test sessions (or a session and the demo) on the same MAILPOLICY_RUNTIME
would wipe each other's mail and restart each other's servers. Whoever
starts a stack takes the lock and keeps it until the process ends or the
stack is stopped; a second process gets a HarnessError naming the holder.
Inside one process the lock is shared (a crash-recovery test makes a second
Stack object on the same runtime), counted per Stack object.
"""

import fcntl
import os

from .procs import HarnessError, cmdline

_held = {}  # lock path -> [fd, set of holder ids]


def lock_path(runtime_dir):
    """The lock file of a runtime directory: a sibling, so wiping the directory keeps it."""
    parent, name = os.path.split(runtime_dir.rstrip("/"))
    return os.path.join(parent, "." + name + ".lock")


def acquire(runtime_dir, holder):
    """Take the lock for holder (any hashable); raise HarnessError if another process has it."""
    path = lock_path(runtime_dir)
    entry = _held.get(path)
    if entry is not None:
        entry[1].add(holder)
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            pid = int(os.pread(fd, 32, 0).split()[0])
            who = "PID %d (%s)" % (pid, cmdline(pid)[:100] or "gone")
        except (ValueError, IndexError, OSError):
            who = "another process"
        os.close(fd)
        raise HarnessError(
            "the runtime directory %s is in use by %s: two users of one runtime would wipe "
            "each other's servers. Wait for it, or set MAILPOLICY_RUNTIME (and "
            "MAILPOLICY_PORT_BASE) to a directory and ports of your own." % (runtime_dir, who))
    os.ftruncate(fd, 0)
    os.pwrite(fd, b"%d\n" % os.getpid(), 0)
    _held[path] = [fd, {holder}]
    return path


def release(runtime_dir, holder):
    """Drop holder's claim; the lock goes when no holder in this process is left."""
    path = lock_path(runtime_dir)
    entry = _held.get(path)
    if entry is None:
        return
    entry[1].discard(holder)
    if not entry[1]:
        del _held[path]
        os.ftruncate(entry[0], 0)
        os.close(entry[0])


def held(runtime_dir):
    return lock_path(runtime_dir) in _held
