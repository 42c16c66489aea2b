"""Milters and Redis of a test stack: several mailpolicy-milter processes, each
with its own policy file, socket, PID and log, all pointed at the stack's one
Redis; reload (SIGUSR1) that waits until the new policy is in use; kill -9.

The default milter ("milter", the part of that name) reads the stack's policy
file (etc/mailpolicy.conf, the one the Dovecot plugins read) and listens on
the `milter` port. A named milter reads etc/mailpolicy-NAME.conf and listens
on the next free port of base+894..899, or on a unix socket
run/milter/NAME.sock. Postfix's smtpd_milters lists them in the order they
were started, the default first.

The reload contract (tests/harness/README.md, "Milter reload"): after
SIGUSR1 the milter writes one line to stderr (its log here) once the new
policy is in use, `policy reloaded: FILE (generation N)`, or, when the file
does not load, `policy reload failed: FILE:LINE:COL: reason` and keeps the
old policy.
"""

import os
import re
import shutil
import signal
import subprocess
import time

from . import modules, probe, procs, units
from .procs import HarnessError

EXTRA_MILTER_OFFSETS = range(894, 900)
RELOADED = re.compile(r"policy reloaded: (?P<file>\S+) \(generation (?P<generation>\d+)\)")
RELOAD_FAILED = re.compile(r"policy reload failed: (?P<reason>.*)")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


def _key(name):
    return "milter" if name == "milter" else "milter:" + name


class MilterOps:
    """Mixed into Stack."""

    # ---- layout -------------------------------------------------------------

    def _milter_policy_rel(self, name):
        return "etc/mailpolicy.conf" if name == "milter" else "etc/mailpolicy-%s.conf" % name

    def _milter_socket(self, name, spec):
        """(Postfix's form, libmilter's form, probe target: port or host path)."""
        if spec.get("socket", "inet") == "unix":
            inner = self.paths.i("run", "milter", name + ".sock")
            return "unix:" + inner, "unix:" + inner, self.platform.host_path(inner)
        port = self.ports["milter"] if name == "milter" else spec["port"]
        return "inet:127.0.0.1:%d" % port, "inet:%d@127.0.0.1" % port, port

    def _milter_source(self):
        """The milter binary the stack runs; HarnessError when it is not there."""
        path = self.milter_binary or modules.milter_path(self.platform.build_dir(self.build_dir))
        if not os.path.exists(path):
            raise HarnessError("mailpolicy-milter is not built (no %s)" % path)
        return path

    def _milter_log(self, name):
        return "milter" if name == "milter" else "milter-" + name

    def milters(self):
        """Names of the milters the stack runs (or keeps in smtpd_milters), in order."""
        return list(self.state.get("milters", {}))

    def milter_info(self, name="milter"):
        """{pid, socket (Postfix's form), milter_socket (libmilter's), policy (host path),
        log (host path), log_name} of one milter."""
        spec = self._milter_spec(name)
        postfix_form, milter_form, _ = self._milter_socket(name, spec)
        log_name = self._milter_log(name)
        return {"pid": self.state["pids"].get(_key(name)), "socket": postfix_form,
                "milter_socket": milter_form, "policy": self.paths.h(self._milter_policy_rel(name)),
                "log": self.paths.h("log", log_name + ".log"), "log_name": log_name}

    def _milter_spec(self, name):
        spec = self.state.get("milters", {}).get(name)
        if spec is None:
            raise HarnessError("no milter %r on this stack (milters: %s)" % (
                name, ", ".join(self.milters()) or "none"))
        return spec

    # ---- start and stop -----------------------------------------------------

    def start_milter(self, name="milter", policy_text=None, socket="inet", unix_mode=None,
                     unix_group=None):
        """Start (or restart) one milter. name "milter" is the default one (reads the
        stack's policy); another name gets its own policy file: policy_text, or a
        copy of the stack's. socket: "inet" or "unix"; for a unix socket,
        unix_mode/unix_group are applied to the socket once it exists (None: leave
        it as the milter made it). Postfix is restarted with the new milter list.
        Inside a test, the milter goes again when the test ends. Returns milter_info."""
        if not _NAME.match(name):
            raise HarnessError("milter name %r: lower-case letters, digits, - and _" % name)
        if socket not in ("inet", "unix"):
            raise HarnessError("socket %r: inet or unix" % socket)
        self._milter_source()
        milters = self.state.setdefault("milters", {})
        spec = {"socket": socket}
        if name == "milter":
            if policy_text is not None:
                self.state["policy_text"] = policy_text
        else:
            # A copy taken now: a later change of the stack's policy (reset,
            # reload_milter of the default milter) leaves this milter alone.
            spec["policy_text"] = policy_text if policy_text is not None else \
                self.state.get("policy_text") or ""
        if unix_mode is not None:
            spec["unix_mode"] = unix_mode
        if unix_group is not None:
            spec["unix_group"] = unix_group
        if socket == "inet" and name != "milter":
            used = {s.get("port") for n, s in milters.items() if n != name}
            free = [self.platform.port_base + o for o in EXTRA_MILTER_OFFSETS
                    if self.platform.port_base + o not in used]
            if not free:
                raise HarnessError("no free milter port left (%d extra milters at most)" %
                                   len(EXTRA_MILTER_OFFSETS))
            spec["port"] = free[0]
        milters[name] = spec
        if name == "milter" and "milter" not in self.state.get("parts", []):
            self.state["parts"] = sorted(set(self.state.get("parts", [])) | {"milter"})
        self._apply(force=[_key(name)])
        return self.milter_info(name)

    def stop_milter(self, name="milter"):
        """Stop one milter and take it out of Postfix's smtpd_milters."""
        self._milter_spec(name)
        if name == "milter":
            self.state["parts"] = [p for p in self.state.get("parts", []) if p != "milter"]
        del self.state["milters"][name]
        self._apply()

    def _milter_unit(self):
        """The systemd unit whose command line starts the milter, or None (see
        units.py): only beside the build's own milter, not another binary."""
        if self.milter_binary:
            return None
        path = modules.milter_unit_path(self.platform.build_dir(self.build_dir))
        return path if os.path.exists(path) else None

    def milter_ids(self):
        """(uid, gid) the milters run as: root, or the User/Group of the unit the
        milter is started from. A file only the milter may read (a key) is
        given to these, as on a real host."""
        unit = self._milter_unit()
        if unit is None:
            return 0, 0
        _, user, group = units.milter_command(unit, "/dev/null")
        if user is None:
            return 0, 0
        return self.platform.ids(user, group)[:2]

    def _milter_argv(self, name):
        """The milter's command line, as the platform runs it."""
        policy = self.paths.i(self._milter_policy_rel(name))
        unit = self._milter_unit()
        if unit is not None:
            argv, user, group = units.milter_command(unit, policy)
            # bin/mailpolicy-milter (tests run `-n` with it) is the unit's binary.
            dst = self.paths.h("bin", "mailpolicy-milter")
            if os.path.lexists(dst):
                os.unlink(dst)
            os.symlink(argv[0], dst)
            if user is None:
                return self.platform.cmd(argv)
            uid, gid, groups = self.platform.ids(user, group)
            # A unix socket is made by the milter's user, as in RuntimeDirectory.
            os.chown(self.paths.h("run", "milter"), uid, gid)
            return self.platform.cmd_as(argv, uid, gid, groups)
        src = self._milter_source()
        dst = self.paths.h("bin", "mailpolicy-milter")
        if not os.path.exists(dst) or os.path.getmtime(dst) != os.path.getmtime(src) or \
                os.path.getsize(dst) != os.path.getsize(src):
            tmp = dst + ".tmp"
            shutil.copy2(src, tmp)
            os.replace(tmp, dst)
        return self.platform.cmd([self.paths.i("bin", "mailpolicy-milter"), "-c", policy, "-f"])

    def _start_milter(self, name):
        spec = self._milter_spec(name)
        key = _key(name)
        argv = self._milter_argv(name)
        postfix_form, milter_form, target = self._milter_socket(name, spec)
        if isinstance(target, int):
            # A milter stopped a moment ago may still be closing its socket.
            deadline = time.monotonic() + 3.0
            owner = procs.port_owner(target)
            while owner == "an unknown process" and time.monotonic() < deadline:
                time.sleep(0.05)
                owner = procs.port_owner(target)
            if owner:
                raise HarnessError("milter %s: port %d is in use by %s" % (name, target, owner))
        elif os.path.lexists(target):
            os.unlink(target)  # left by a milter killed with -9
        log_name = self._milter_log(name)
        log = open(self.paths.h("log", log_name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)
        log.close()
        # A chroot wrapper execs the milter: the PID stays the same.
        self._record(key, proc.pid)
        self._popen = getattr(self, "_popen", {})
        self._popen[key] = proc  # reaped by wait_ready's liveness check via poll()
        return [(key, "milter", target)]

    def _after_ready(self, keys):
        """Apply a unix socket's mode and group once the milter made it."""
        for name, spec in self.state.get("milters", {}).items():
            if _key(name) not in keys or spec.get("socket") != "unix":
                continue
            path = self._milter_socket(name, spec)[2]
            if spec.get("unix_group") is not None:
                os.chown(path, -1, self._gid(spec["unix_group"]))
            if spec.get("unix_mode") is not None:
                os.chmod(path, spec["unix_mode"])
        for key in keys:
            proc = getattr(self, "_popen", {}).get(key)
            if proc is not None:
                proc.poll()

    # ---- reload and kill ----------------------------------------------------

    def reload_milter(self, name="milter", policy_text=None, timeout=10.0, expect_failure=False):
        """Send SIGUSR1 (after writing policy_text to the milter's policy file, when
        given) and wait for the milter's answer in its log: the line `policy reloaded:
        ...` (then the new policy is in use; returns the line) or `policy reload
        failed: ...` (raises HarnessError, unless expect_failure, which returns the
        line and raises if the reload succeeded). Raises after timeout seconds."""
        spec = self._milter_spec(name)
        key = _key(name)
        pid = self.state["pids"].get(key)
        if not procs.alive(pid):
            raise HarnessError("milter %s is not running (pid %s)" % (name, pid))
        if policy_text is not None:
            if name == "milter":
                self.state["policy_text"] = policy_text
            else:
                spec["policy_text"] = policy_text
            self._write_policies()
        log_name = self._milter_log(name)
        offsets = self.log_offsets()
        os.kill(pid, signal.SIGUSR1)
        pattern = re.compile("%s|%s" % (RELOADED.pattern, RELOAD_FAILED.pattern))
        line = self.wait_for_log(pattern, logs=[log_name], since=offsets, timeout=timeout).group(0)
        if policy_text is not None:
            from .stack import _digest
            self.state.setdefault("applied", {})[key] = _digest(
                self._read(self._milter_policy_rel(name)), spec)
            self._save_state()
        failed = RELOAD_FAILED.search(line) is not None
        if failed and not expect_failure:
            raise HarnessError("milter %s did not reload: %s" % (name, line.strip()))
        if expect_failure and not failed:
            raise HarnessError("milter %s reloaded, a failure was expected: %s" % (
                name, line.strip()))
        return line

    def kill_milter(self, name="milter", default_action=None):
        """kill -9 one milter; it stays in Postfix's smtpd_milters, so Postfix applies
        milter_default_action (set it first with default_action: accept, reject,
        tempfail, quarantine). The milter and the default action come back when
        the test ends. Returns the PID killed."""
        spec = self._milter_spec(name)
        if default_action is not None:
            self.configure(postfix={"milter_default_action": default_action})
        key = _key(name)
        pid = self.state["pids"].get(key)
        if not procs.alive(pid):
            raise HarnessError("milter %s is not running (pid %s)" % (name, pid))
        os.kill(pid, signal.SIGKILL)
        proc = getattr(self, "_popen", {}).get(key)
        deadline = time.monotonic() + 5
        while procs.alive(pid) and time.monotonic() < deadline:
            if proc is not None:
                proc.poll()
            time.sleep(0.02)
        if procs.alive(pid):
            raise HarnessError("milter %s (pid %d) survived SIGKILL" % (name, pid))
        spec["down"] = True
        self._save_state()
        return pid

    # ---- Redis ----------------------------------------------------------------

    def redis(self, *args):
        """One command to the stack's Redis; its reply as a value: str (OK, a bulk
        string), int, None (nil) or list. A Redis error raises HarnessError."""
        if not procs.alive(self.state["pids"].get("redis")):
            raise HarnessError("Redis is not running on this stack")
        try:
            return probe.redis_value(self.ports["redis"], *args)
        except (OSError, ValueError) as e:
            raise HarnessError("Redis %s: %s" % (" ".join(map(str, args)), e))

    def stop_redis(self):
        """Stop Redis mid-test (the milters keep running and lose their store)."""
        self.state["parts"] = [p for p in self.state.get("parts", []) if p != "redis"]
        self._apply()

    def start_redis(self):
        """Start Redis (again), empty, on the same port."""
        self.state["parts"] = sorted(set(self.state.get("parts", [])) | {"redis"})
        self._apply()
