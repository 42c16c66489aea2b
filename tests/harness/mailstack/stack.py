"""One test stack: Dovecot, Postfix, and when asked Redis and mailpolicy-milter.

A Stack owns a runtime directory (default /tmp/mailpolicy-test/STACK, which
the unprivileged server users can traverse even when the repository lives
under a 0700 home). It writes every config there, starts the parts, waits
until each port greets, and records the PIDs in state.json so that a later
call, another process or a run after a crash can find them and end them.
Nothing is stopped by program name: only by recorded PID, by the session of a
master we started, or as a server process naming the runtime directory.
"""

import json
import os
import shutil
import subprocess
import time

from . import dovecot_conf, modules, policy, postfix_conf, procs, probe, tls
from .mailops import MailOps
from .layout import DEFAULT_ACCOUNTS, PORTS, Paths, ports_for
from .platforms import get_platform
from .procs import HarnessError

PARTS = ("dovecot", "postfix", "redis", "milter")
DEFAULT_PARTS = ("dovecot", "postfix")
START_ORDER = ("redis", "milter", "dovecot", "postfix")
PART_PORTS = {"dovecot": ("imap", "imaps", "pop3", "pop3s", "lmtp"),
              "postfix": ("mx", "submission", "submission26", "submissions"),
              "redis": ("redis",), "milter": ("milter",)}

# Programs a stack runs; a leftover process is ours only if it is one of these
# (so a `tail -f` on a log under the runtime directory is never killed).
SERVER_EXES = {"dovecot", "master", "redis-server", "mailpolicy-milter"}

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
READY_TIMEOUT = 15.0


def default_build_dir():
    return os.path.abspath(os.environ.get("BUILD_DIR") or os.path.join(REPO, "build"))


def default_runtime_root():
    return os.environ.get("MAILPOLICY_RUNTIME") or "/tmp/mailpolicy-test"


class Stack(MailOps):
    """The servers of one platform. Methods raise HarnessError with log tails on failure."""

    def __init__(self, name=None, build_dir=None, runtime_root=None, port_base=None):
        self.build_dir = build_dir or default_build_dir()
        name = name or os.environ.get("STACK") or "debian12"
        if port_base is None and os.environ.get("MAILPOLICY_PORT_BASE"):
            port_base = int(os.environ["MAILPOLICY_PORT_BASE"])
        # The chroot tree is the project's, whichever build directory the modules come from.
        self.platform = get_platform(name, default_build_dir(), port_base)
        self.name = self.platform.name
        inner = os.path.join(runtime_root or default_runtime_root(), self.name)
        self.paths = Paths(inner, self.platform.host_path(inner))
        self.ports = ports_for(self.platform.port_base)
        self.accounts = list(DEFAULT_ACCOUNTS)
        self._users_mtime = 0
        self.marker = self.paths.inner + "/"
        self.state = self._load_state()

    # ---- state -----------------------------------------------------------

    def _state_path(self):
        return self.paths.h("state.json")

    def _load_state(self):
        try:
            with open(self._state_path()) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"pids": {}, "sessions": []}

    def _save_state(self):
        self.state["stack"] = self.name
        self.state["ports"] = self.ports
        tmp = self._state_path() + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self._state_path())

    def running(self):
        """Parts whose recorded PID is alive."""
        return [p for p in PARTS if procs.alive(self.state["pids"].get(p))]

    # ---- paths and commands ---------------------------------------------

    def dovecot_conf(self):
        return self.paths.i("etc", "dovecot", "dovecot.conf")

    def postfix_dir(self):
        return self.paths.i("etc", "postfix")

    def policy_path(self):
        """The policy file every part of the stack reads (inner path)."""
        return self.paths.i("etc", "mailpolicy.conf")

    def log_files(self):
        """name -> host path of each server log."""
        return {n: self.paths.h("log", n + ".log") for n in ("dovecot", "postfix", "redis", "milter")}

    def cmd(self, argv, check=True, timeout=60):
        """Run a program of the platform (through chroot on a chroot platform)."""
        return procs.run(self.platform.cmd(argv), check=check, timeout=timeout)

    def doveadm(self, *args, check=True):
        """Run `doveadm -c CONF ARGS`; returns the CompletedProcess (parse stdout only)."""
        return self.cmd(["doveadm", "-c", self.dovecot_conf()] + list(args), check=check)

    def postfix(self, *args, check=True):
        return self.cmd(["postfix", "-c", self.postfix_dir()] + list(args), check=check)

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

    # ---- layout ------------------------------------------------------------

    def _mkdir(self, rel, uid=-1, gid=-1, mode=0o755):
        path = self.paths.h(rel)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        os.chown(path, uid, gid)
        return path

    def _write(self, rel, text, mode=0o644, backdate=False):
        """Write a file atomically (a new inode, so readers that watch it see the change).
        backdate: Postfix waits until a config file is a couple of seconds old before
        trusting it; an mtime in the past saves that wait on every start."""
        path = self.paths.h(rel)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        if backdate:
            past = time.time() - 10
            os.utime(tmp, (past, past))
        os.replace(tmp, path)
        return path

    def _prepare_tree(self):
        """Fresh runtime directory: dirs, certificate, users, empty logs."""
        root = self.paths.host
        # Every parent must be traversable by mail, dovecot, dovenull and postfix.
        parent = os.path.dirname(root)
        os.makedirs(parent, exist_ok=True)
        os.chmod(parent, 0o755)
        if os.path.exists(root):
            shutil.rmtree(root)
        os.makedirs(root)
        os.chmod(root, 0o755)
        for rel in ("etc", "etc/dovecot", "etc/postfix", "etc/ssl", "run", "lib", "log",
                    "modules", "bin", "spool"):
            self._mkdir(rel)
        self._mkdir("mail", dovecot_conf.MAIL_UID, dovecot_conf.MAIL_UID)
        self._mkdir("spool/postfix")
        tls.make_cert(self.paths.h("etc", "ssl", "cert.pem"), self.paths.h("etc", "ssl", "key.pem"))
        self.state = {"pids": {}, "sessions": []}
        self._save_state()

    def write_users(self, accounts=None):
        """(Re)write the passwd-file and Postfix's list of existing addresses.
        Dovecot re-reads the passwd-file when it changes; Postfix holds its
        texthash map in memory, so a running Postfix is restarted."""
        if accounts is not None:
            self.accounts = list(accounts)
        users = self._write("etc/dovecot/users",
                            dovecot_conf.passwd_file(self.accounts, self.paths.i("mail")), 0o640)
        os.chown(users, 0, self._gid("dovecot"))
        self._write("etc/postfix/virtual_mailboxes", postfix_conf.virtual_mailboxes(self.accounts),
                    backdate=True)
        self.state["accounts"] = [a.address for a in self.accounts]
        if "dovecot" in self.running():
            self._wait_dovecot_rereads(users)
        if "postfix" in self.running():
            self._reconfigure_postfix()

    def _wait_dovecot_rereads(self, path):
        """Dovecot's passwd-file driver looks at the file's mtime and size at most
        once a second: give the new file an mtime of its own and let a second pass."""
        new = max(int(time.time()), int(self._users_mtime) + 1)
        os.utime(path, (new, new))
        self._users_mtime = new
        time.sleep(max(0.0, new + 1 - time.time()) + 0.05)

    def _gid(self, group):
        """A group's id as the platform sees it (its /etc/group)."""
        with open(self.platform.host_path("/etc/group")) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == group:
                    return int(fields[2])
        raise HarnessError("group %s does not exist on %s" % (group, self.name))

    def set_policy(self, source=None, text=None):
        """Install the policy the stack runs with: the file source, or text, or
        packaging/mailpolicy.conf, or a minimal one. Returns the inner path."""
        if text is None:
            if source is None:
                default = os.path.join(REPO, "packaging", "mailpolicy.conf")
                source = default if os.path.exists(default) else None
            if source is not None:
                with open(source) as f:
                    text = f.read()
            else:
                text = policy.MINIMAL
        redis_port = self.ports["redis"] if "redis" in self.state.get("parts", ()) else None
        self._write("etc/mailpolicy.conf", policy.rewrite(text, self.ports["milter"], redis_port))
        self.state["policy_source"] = source or "(text)"
        self.state["policy_text"] = text
        return self.policy_path()

    # ---- start -------------------------------------------------------------

    def start(self, parts=DEFAULT_PARTS, plugins=None, policy_file=None, policy_text=None,
              dovecot_extra=None, postfix_overrides=None):
        """Start parts (restarting those that run; the others keep running).
        plugins: "auto" (every built one) or a list of names from
        modules.DOVECOT_PLUGINS; dovecot_extra: text appended to dovecot.conf;
        postfix_overrides: {main.cf key: value}. Each applies when its server
        (re)starts; None keeps what the running stack has (fresh start: "auto",
        nothing, nothing). policy_file or policy_text replace the policy.
        If anything fails or the call is interrupted, what it started is
        stopped again (everything, when nothing ran before).
        Returns {part or "ready" or "total": seconds}."""
        parts = list(parts)
        for p in parts:
            if p not in PARTS:
                raise HarnessError("unknown part %r (parts: %s)" % (p, ", ".join(PARTS)))
        self.platform.check()
        build = self.platform.build_dir(self.build_dir)
        if "milter" in parts and not os.path.exists(modules.milter_path(build)):
            raise HarnessError("mailpolicy-milter is not built (no %s)" % modules.milter_path(build))
        was_running = self.running()
        if plugins is None:
            plugins = self.state.get("plugins", "auto") if was_running else "auto"
        plugins = self._resolve_plugins(plugins)
        try:
            return self._start(parts, was_running, plugins, policy_file, policy_text,
                               dovecot_extra, postfix_overrides)
        except BaseException:
            self.stop(parts if was_running else None)
            raise

    def _start(self, parts, was_running, plugins, policy_file, policy_text, dovecot_extra,
               postfix_overrides):
        t0 = time.monotonic()
        if not was_running:
            self.cleanup()
            self._prepare_tree()
            self.write_users()
        else:
            self.stop([p for p in parts if p in was_running], teardown=False)
        self._check_ports_free(parts)
        self.platform.setup()
        self.state["parts"] = sorted(set(self.state.get("parts", [])) | set(parts))
        if policy_file or policy_text or "policy_text" not in self.state:
            self.set_policy(policy_file, policy_text)
        elif "redis" in parts:
            self.set_policy(text=self.state["policy_text"])
        self.state["plugins"] = plugins
        if dovecot_extra is not None or "dovecot_extra" not in self.state:
            self.state["dovecot_extra"] = dovecot_extra or ""
        if postfix_overrides is not None or "postfix_overrides" not in self.state:
            self.state["postfix_overrides"] = postfix_overrides or {}
        self._save_state()
        timings = {}
        checks = []
        for part in START_ORDER:
            if part in parts:
                t = time.monotonic()
                checks += getattr(self, "_start_" + part)()
                timings[part] = time.monotonic() - t
                self._save_state()
        if "milter" in parts and "postfix" in self.running() and "postfix" not in parts:
            self._reconfigure_postfix()
        t = time.monotonic()
        probe.wait_ready(checks, READY_TIMEOUT, self.log_tail)
        timings["ready"] = time.monotonic() - t
        timings["total"] = time.monotonic() - t0
        self.state["started_in"] = round(timings["total"], 2)
        self._save_state()
        return timings

    def _check_ports_free(self, parts):
        """Refuse to start when another program holds one of our ports: its
        greeting would pass our readiness check."""
        busy = []
        for part in parts:
            for name in PART_PORTS[part]:
                owner = procs.port_owner(self.ports[name])
                if owner:
                    busy.append("%s port %d is in use by %s" % (name, self.ports[name], owner))
        if busy:
            raise HarnessError("cannot start %s:\n  %s\n(another stack on the same ports? "
                               "stop it, or set MAILPOLICY_PORT_BASE)" % (
                                   self.name, "\n  ".join(busy)))

    def _resolve_plugins(self, plugins):
        built = modules.available(self.platform.build_dir(self.build_dir))
        if plugins == "auto":
            return built
        missing = [p for p in plugins if p not in built]
        unknown = [p for p in plugins if p not in modules.DOVECOT_PLUGINS]
        if unknown:
            raise HarnessError("unknown plugin(s) %s" % ", ".join(unknown))
        if missing:
            raise HarnessError("plugin(s) not built: %s (no %s)" % (
                ", ".join(missing), ", ".join(modules.plugin_path(
                    self.platform.build_dir(self.build_dir), m) for m in missing)))
        return list(plugins)

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
        settings = os.path.join(build, "modules", "settings")
        if self.state["plugins"] and self.platform.root != "/" and os.path.isdir(settings):
            target = self.platform.host_path(os.path.join(stock, "settings"))
            os.makedirs(target, exist_ok=True)
            for entry in os.listdir(settings):
                shutil.copy2(os.path.join(settings, entry), os.path.join(target, entry))

    def _start_dovecot(self):
        self._install_plugins()
        writer = dovecot_conf.WRITERS.get(self.platform.dovecot_dialect)
        if writer is None:
            raise HarnessError("no Dovecot %s config writer yet" % self.platform.dovecot_dialect)
        self._write("etc/dovecot/dovecot.conf", writer(
            self.paths, self.ports, self.state["plugins"], self.policy_path(),
            self.state.get("dovecot_extra", "")))
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
        pid = self._wait_pidfile(self.paths.h("run", "dovecot", "master.pid"), "dovecot")
        self._record("dovecot", pid)
        return [("imap", "imap", self.ports["imap"]), ("imaps", "imaps", self.ports["imaps"]),
                ("pop3", "pop3", self.ports["pop3"]), ("pop3s", "pop3s", self.ports["pop3s"]),
                ("lmtp", "smtp", self.ports["lmtp"])]

    def _write_postfix_conf(self):
        self._write("etc/postfix/main.cf", postfix_conf.main_cf(
            self.paths, self.ports, milter="milter" in self.state.get("parts", ()),
            overrides=self.state.get("postfix_overrides")), backdate=True)
        self._write("etc/postfix/master.cf", postfix_conf.master_cf(self.ports), backdate=True)

    def _reconfigure_postfix(self):
        """Restart Postfix with a new config (milter added or gone, accounts changed).
        Not `postfix reload`: old smtpd processes would still take a connection or
        two with the old settings."""
        self._stop_part("postfix")
        checks = self._start_postfix()
        self._save_state()
        probe.wait_ready(checks, READY_TIMEOUT, self.log_tail)

    def _start_postfix(self):
        self._write_postfix_conf()
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
                for name in ("mx", "submission", "submission26", "submissions")]

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

    def _uid(self, user):
        with open(self.platform.host_path("/etc/passwd")) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == user:
                    return int(fields[2])
        raise HarnessError("user %s does not exist on %s" % (user, self.name))

    def _start_redis(self):
        # Redis runs on the host for every platform: clients and milters reach it by TCP.
        rdir = self._mkdir("run/redis")
        conf = self._write("etc/redis.conf", "\n".join([
            "bind 127.0.0.1", "port %d" % self.ports["redis"], "daemonize yes",
            "pidfile " + self.paths.h("run", "redis.pid"), "dir " + rdir,
            "logfile " + self.log_files()["redis"], "save \"\"", "appendonly no",
            "protected-mode yes", ""]))
        procs.run(["redis-server", conf])
        self._record("redis", self._wait_pidfile(self.paths.h("run", "redis.pid"), "redis"))
        return [("redis", "redis", self.ports["redis"])]

    def _start_milter(self):
        src = modules.milter_path(self.platform.build_dir(self.build_dir))
        dst = self.paths.h("bin", "mailpolicy-milter")
        shutil.copy2(src, dst)
        log = open(self.log_files()["milter"], "ab")
        argv = self.platform.cmd([self.paths.i("bin", "mailpolicy-milter"),
                                  "-c", self.policy_path(), "-f"])
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)
        log.close()
        # A chroot wrapper execs the milter: the PID stays the same.
        self._record("milter", proc.pid)
        time.sleep(0.05)
        if proc.poll() is not None:
            raise HarnessError("mailpolicy-milter exited with %d at once:\n%s" % (
                proc.returncode, self.log_tail(names=["milter"])))
        return [("milter", "milter", self.ports["milter"])]

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

    # ---- stop --------------------------------------------------------------

    def stop(self, parts=None, teardown=True):
        """Stop parts (default: all) by PID, postfix first; when nothing is left
        running, make sure no process of the stack remains. Returns the PIDs
        that had to be killed with SIGKILL."""
        parts = list(PARTS) if parts is None else list(parts)
        killed = []
        for part in reversed(START_ORDER):
            if part in parts:
                killed += self._stop_part(part)
                if part in self.state.get("parts", []):
                    self.state["parts"].remove(part)
        if os.path.isdir(self.paths.host):
            if "milter" in parts and "postfix" in self.running():
                self._reconfigure_postfix()
            self._save_state()
        if teardown and not self.running():
            killed += self.cleanup()
        return killed

    def _stop_part(self, part):
        """End one part by its PID, and what is left of its master's session."""
        killed = []
        pid = self.state["pids"].pop(part, None)
        if procs.alive(pid):
            sid = procs.session_id(pid)
            # libmilter may take ~5 s to leave after SIGTERM; the others are quick.
            killed += procs.terminate([pid], grace=3.0 if part == "milter" else 10.0)
            # Children still holding the master's listening sockets (smtpd, *-login)
            # would keep the ports busy for a restart.
            members = [p for p, _ in procs.session_members(sid)] if sid == pid else []
            if procs.wait_gone(members, 2.0):
                killed += procs.terminate(members, grace=1.0)
        return killed

    def leftovers(self):
        """PIDs of processes that belong to this stack, running or stale."""
        sessions = set(self.state.get("sessions", []))
        found = []
        for pid in procs.related_processes(self.marker, sessions):
            if procs.session_id(pid) in sessions:
                found.append(pid)
                continue
            try:
                exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
            except OSError:
                continue
            if exe in SERVER_EXES:
                found.append(pid)
        return found

    def cleanup(self):
        """End every process of this stack (after a crash too), undo platform
        mounts. Returns the PIDs that had to be ended here."""
        found = self.leftovers()
        if found:
            procs.terminate(found, grace=3.0)
        self.state["sessions"] = []
        self.state["pids"] = {}
        self.state["parts"] = []
        if os.path.isdir(self.paths.host):
            self._save_state()
        self.platform.teardown()
        return found

    # ---- status ------------------------------------------------------------

    def status(self):
        """{part: (pid or None, [(port name, greeting or error)])} for every part."""
        kinds = {"imaps": "imaps", "pop3s": "pop3s", "pop3": "pop3", "imap": "imap",
                 "redis": "redis", "milter": "milter", "submissions": "smtps"}
        out = {}
        for part in PARTS:
            pid = self.state["pids"].get(part)
            answers = []
            if procs.alive(pid):
                for name in PART_PORTS[part]:
                    try:
                        answers.append((name, probe.probe(kinds.get(name, "smtp"), self.ports[name])))
                    except Exception as e:  # status reports, never raises
                        answers.append((name, "NOT ANSWERING: %s" % e))
            out[part] = (pid if procs.alive(pid) else None, answers)
        return out

    def describe_ports(self):
        return [(name, self.ports[name], PORTS[name][1]) for name in PORTS]
