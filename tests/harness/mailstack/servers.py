"""The servers of a test stack, one start function each: Dovecot, Postfix and
Redis (the milters are in milters.py), how a part is stopped, and the logs.

Starting a part writes its config (rendered by the stack from its state),
refuses ports another program holds (its greeting would pass the readiness
check), starts the daemon and records its PID; the stack then waits for the
greetings. Stopping goes by PID and ends what is left of the master's session.
"""

import os
import shutil
import time

from . import modules, procs
from .procs import HarnessError

PART_PORTS = {"dovecot": ("imap", "imaps", "pop3", "pop3s", "lmtp"),
              "postfix": ("mx", "submission", "submission26", "submissions", "bench"),
              "redis": ("redis",), "milter": ("milter",)}


class ServerOps:
    """Mixed into Stack."""

    # ---- logs --------------------------------------------------------------

    def log_offsets(self):
        """Current size of each log, to read what is written after this point."""
        sizes = {}
        for name, path in self.log_files().items():
            try:
                sizes[name] = os.path.getsize(path)
            except OSError:
                sizes[name] = 0
        return sizes

    def log_since(self, offsets):
        """name -> text written to each log since offsets (only logs that grew)."""
        out = {}
        for name, path in self.log_files().items():
            try:
                with open(path, "rb") as f:
                    f.seek(offsets.get(name, 0))
                    text = f.read().decode(errors="replace")
            except OSError:
                continue
            if text:
                out[name] = text
        return out

    def log_tail(self, lines=25, names=None):
        """The last lines of each log, formatted for an error message."""
        parts = []
        for name, path in self.log_files().items():
            if names and name not in names:
                continue
            try:
                with open(path, "rb") as f:
                    f.seek(max(0, os.path.getsize(path) - 64 * 1024))
                    text = f.read().decode(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if text:
                parts.append("--- %s (last %d lines) ---\n%s" % (path, len(text), "\n".join(text)))
        return "\n".join(parts) or "(no server log written)"

    # ---- starting the servers ----------------------------------------------------

    def _check_ports_free(self, part):
        """Refuse to start when another program holds one of our ports: its
        greeting would pass our readiness check."""
        busy = []
        for name in PART_PORTS.get(part, ()):
            owner = procs.port_owner(self.ports[name])
            if owner:
                busy.append("%s port %d is in use by %s" % (name, self.ports[name], owner))
        if busy:
            raise HarnessError("cannot start %s of %s:\n  %s\n(another stack on the same ports? "
                               "stop it, or set MAILPOLICY_PORT_BASE)" % (
                                   part, self.name, "\n  ".join(busy)))

    def _install_plugins(self):
        """mail_plugin_dir: symlinks to the stock plugins plus copies of ours
        (copies: the build directory may not be readable by the mail user)."""
        moddir = self.paths.h("modules")
        shutil.rmtree(moddir)
        os.makedirs(moddir)
        os.chmod(moddir, 0o755)
        stock = self.platform.stock_modules()
        for entry in os.listdir(self.platform.host_path(stock)):
            if entry.endswith(".so"):
                os.symlink(os.path.join(stock, entry), os.path.join(moddir, entry))
        build = self.platform.build_dir(self.build_dir)
        for name in self.state["plugins"]:
            dst = os.path.join(moddir, modules.DOVECOT_PLUGINS[name]["file"])
            if os.path.lexists(dst):
                os.unlink(dst)
            shutil.copy2(modules.plugin_path(build, name), dst)
            os.chmod(dst, 0o644)
        # Dovecot 2.4 accepts a plugin's settings (mailpolicy_config) only from a
        # settings module in its fixed modules/settings/ directory. Installed there
        # only in a chroot tree, which is a test artifact; never on the host.
        settings = self._settings_module_dir()
        if self.state["plugins"] and self.platform.root != "/" and os.path.isdir(settings):
            target = self.platform.host_path(os.path.join(stock, "settings"))
            os.makedirs(target, exist_ok=True)
            for entry in os.listdir(settings):
                shutil.copy2(os.path.join(settings, entry), os.path.join(target, entry))

    def _start_dovecot(self, text):
        self._check_ports_free("dovecot")
        self._install_plugins()
        self._write("etc/dovecot/dovecot.conf", text)
        for rel in ("run/dovecot", "lib/dovecot"):
            self._mkdir(rel)
        # A master that died unreaped is a zombie that kill(0) still finds: Dovecot
        # would take its pid file for a running instance.
        pidfile = self.paths.h("run", "dovecot", "master.pid")
        if os.path.exists(pidfile) and not procs.alive(procs.read_pidfile(pidfile)):
            os.unlink(pidfile)
        proc = self.cmd(["dovecot", "-c", self.dovecot_conf()], check=False)
        if proc.returncode != 0:
            raise HarnessError("dovecot did not start:\n%s%s\n%s" % (
                proc.stdout, proc.stderr, self.log_tail(names=["dovecot"])))
        pid = self._wait_pidfile(pidfile, "dovecot")
        self._record("dovecot", pid)
        return [("imap", "imap", self.ports["imap"]), ("imaps", "imaps", self.ports["imaps"]),
                ("pop3", "pop3", self.ports["pop3"]), ("pop3s", "pop3s", self.ports["pop3s"]),
                ("lmtp", "smtp", self.ports["lmtp"])]

    def _start_postfix(self, main, master):
        self._check_ports_free("postfix")
        self._write("etc/postfix/main.cf", main, backdate=True)
        self._write("etc/postfix/master.cf", master, backdate=True)
        self._mkdir("lib/postfix", uid=self._uid("postfix"), mode=0o700)
        self._make_queue()
        # Postfix fails before its logger runs with nothing but `exit 1`: keep its output.
        proc = self.postfix("start", check=False)
        if proc.returncode != 0:
            raise HarnessError("postfix did not start:\n%s%s\n%s" % (
                proc.stdout, proc.stderr, self.log_tail(names=["postfix"])))
        pid = self._wait_pidfile(self.paths.h("spool", "postfix", "pid", "master.pid"), "postfix")
        self._record("postfix", pid)
        return [(name, "smtps" if name == "submissions" else "smtp", self.ports[name])
                for name in ("mx", "submission", "submission26", "submissions", "bench")]

    def _make_queue(self):
        """The queue directories as `postfix start` would make them: made here,
        they save the two seconds its post-install script spends on them."""
        postfix, postdrop = self._uid("postfix"), self._gid("postdrop")
        self._mkdir("spool/postfix")
        for d in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
                  "incoming", "private", "saved", "trace"):
            self._mkdir("spool/postfix/" + d, postfix, 0, 0o700)
        self._mkdir("spool/postfix/maildrop", postfix, postdrop, 0o730)
        self._mkdir("spool/postfix/public", postfix, postdrop, 0o710)
        self._mkdir("spool/postfix/pid", 0, 0, 0o755)

    def _start_redis(self):
        # Redis runs on the host for every platform: clients and milters reach it by TCP.
        self._check_ports_free("redis")
        rdir = self._mkdir("run/redis")
        conf = self._write("etc/redis.conf", "\n".join([
            "bind 127.0.0.1", "port %d" % self.ports["redis"], "daemonize yes",
            "pidfile " + self.paths.h("run", "redis.pid"), "dir " + rdir,
            "logfile " + self.log_files()["redis"], "save \"\"", "appendonly no",
            "protected-mode yes", ""]))
        pidfile = self.paths.h("run", "redis.pid")
        if os.path.exists(pidfile) and not procs.alive(procs.read_pidfile(pidfile)):
            os.unlink(pidfile)
        procs.run(["redis-server", conf])
        self._record("redis", self._wait_pidfile(pidfile, "redis"))
        return [("redis", "redis", self.ports["redis"])]

    def _record(self, part, pid):
        self.state["pids"][part] = pid
        sid = procs.session_id(pid)
        if sid and sid not in self.state["sessions"]:
            self.state["sessions"].append(sid)

    def _wait_pidfile(self, path, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = procs.read_pidfile(path)
            if procs.alive(pid):
                return pid
            time.sleep(0.02)
        raise HarnessError("%s wrote no live PID to %s:\n%s" % (what, path, self.log_tail()))

    # ---- stopping ------------------------------------------------------------------

    def _stop_part(self, part):
        """End one part (or "milter:NAME") by its PID, and what is left of its
        master's session."""
        killed = []
        pid = self.state["pids"].pop(part, None)
        self.state.get("applied", {}).pop(part, None)
        if procs.alive(pid):
            sid = procs.session_id(pid)
            if part == "dovecot" and sid == pid:
                # Dovecot's master takes a second to leave on its own; its
                # children told at the same time make it 0.1 s.
                killed += procs.terminate([p for p, _ in procs.session_members(sid)], grace=10.0)
            # libmilter may take ~5 s to leave after SIGTERM; the others are quick.
            killed += procs.terminate([pid], grace=3.0 if part.startswith("milter") else 10.0)
            # Children still holding the master's listening sockets (smtpd, *-login)
            # would keep the ports busy for a restart.
            members = [p for p, _ in procs.session_members(sid)] if sid == pid else []
            if procs.wait_gone(members, 2.0):
                killed += procs.terminate(members, grace=1.0)
        return killed
