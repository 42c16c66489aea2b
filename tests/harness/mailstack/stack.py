"""One test stack: Dovecot, Postfix, and when asked Redis and mailpolicy-milter(s).

A Stack owns a runtime directory (default /tmp/mailpolicy-test/STACK, which
the unprivileged server users can traverse even when the repository lives
under a 0700 home), locked against a second process (lock.py). It keeps the
configuration the stack should run with in state.json (parts, plugins,
Dovecot options, Postfix overrides, milters, policy, accounts), renders each
server's config from it, and (re)starts exactly the servers whose rendered
config changed or that died (`_apply`). `checkpoint()` and `restore()` take a
whole configuration back, which is how every test's changes are undone.
PIDs are recorded so that a later call, another process or a run after a
crash can find them and end them. Nothing is stopped by program name: only by
recorded PID, by the session of a master we started, or as a server process
naming the runtime directory.
"""

import contextlib
import copy
import hashlib
import json
import os
import shutil
import time

from . import dovecot_conf, lock, modules, policy, postfix_conf, procs, probe, tls
from .layout import DEFAULT_ACCOUNTS, PORTS, Account, Paths, ports_for
from .mailops import MailOps
from .milters import MilterOps
from .servers import PART_PORTS, ServerOps
from .platforms import get_platform
from .procs import HarnessError

PARTS = ("dovecot", "postfix", "redis", "milter")
DEFAULT_PARTS = ("dovecot", "postfix")
START_ORDER = ("redis", "milter", "dovecot", "postfix")
# What a checkpoint holds: the whole configuration a test may change.
CONFIG_KEYS = ("parts", "plugins", "dovecot_options", "dovecot_extra", "postfix_overrides",
               "milters", "policy_text", "accounts_full")

# Programs a stack runs; a leftover process is ours only if it is one of these
# (so a `tail -f` on a log under the runtime directory is never killed).
SERVER_EXES = {"dovecot", "master", "redis-server", "mailpolicy-milter"}

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
READY_TIMEOUT = 15.0


def default_build_dir():
    return os.path.abspath(os.environ.get("BUILD_DIR") or os.path.join(REPO, "build"))


def default_runtime_root():
    return os.environ.get("MAILPOLICY_RUNTIME") or "/tmp/mailpolicy-test"


def _digest(*texts):
    h = hashlib.sha256()
    for t in texts:
        h.update(json.dumps(t, sort_keys=True).encode())
    return h.hexdigest()[:16]


class Stack(ServerOps, MailOps, MilterOps):
    """The servers of one platform. Methods raise HarnessError with log tails on failure."""

    def __init__(self, name=None, build_dir=None, runtime_root=None, port_base=None):
        self.build_dir = build_dir or default_build_dir()
        name = name or os.environ.get("STACK") or "debian12"
        if port_base is None and os.environ.get("MAILPOLICY_PORT_BASE"):
            port_base = int(os.environ["MAILPOLICY_PORT_BASE"])
        # The chroot tree is the project's, whichever build directory the modules come from.
        self.platform = get_platform(name, default_build_dir(), port_base)
        self.name = self.platform.name
        self.dialect = self.platform.dovecot_dialect
        self.runtime_root = runtime_root or default_runtime_root()
        inner = os.path.join(self.runtime_root, self.name)
        self.paths = Paths(inner, self.platform.host_path(inner))
        self.ports = ports_for(self.platform.port_base)
        self._users_mtime = 0
        self.marker = self.paths.inner + "/"
        self.state = self._load_state()
        self.accounts = [Account(*a) for a in self.state.get("accounts_full", [])] or \
            [copy.deepcopy(a) for a in DEFAULT_ACCOUNTS]
        # Set by the pytest plugin: the configuration each test starts from, and
        # whether a test is running (changes outside a test move the baseline).
        self.baseline = None
        self.in_test = False
        self.test_offsets = None
        # Another mailpolicy-milter binary (an ASan build, a stand-in); default:
        # BUILD_DIR[/debian13]/sbin/mailpolicy-milter.
        self.milter_binary = None

    # ---- state -----------------------------------------------------------

    def _state_path(self):
        return self.paths.h("state.json")

    def _load_state(self):
        try:
            with open(self._state_path()) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = {}
        state.setdefault("pids", {})
        state.setdefault("sessions", [])
        return state

    def _save_state(self):
        self.state["stack"] = self.name
        self.state["ports"] = self.ports
        if not os.path.isdir(self.paths.host):
            return
        tmp = self._state_path() + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self._state_path())

    def running(self):
        """Parts whose recorded PID is alive ("milter" is the default milter)."""
        return [p for p in PARTS if procs.alive(self.state["pids"].get(p))]

    def _lock(self):
        lock.acquire(self.paths.host, id(self))

    def _unlock(self):
        lock.release(self.paths.host, id(self))

    # ---- paths and commands ---------------------------------------------

    def dovecot_conf(self):
        return self.paths.i("etc", "dovecot", "dovecot.conf")

    def postfix_dir(self):
        return self.paths.i("etc", "postfix")

    def policy_path(self):
        """The policy file every part of the stack reads (inner path)."""
        return self.paths.i("etc", "mailpolicy.conf")

    def log_files(self):
        """name -> host path of each server log (milter-NAME for extra milters)."""
        names = ["dovecot", "postfix", "redis", "milter"]
        names += ["milter-" + n for n in self.state.get("milters", {}) if n != "milter"]
        try:
            names += sorted(f[:-4] for f in os.listdir(self.paths.h("log"))
                            if f.endswith(".log") and f[:-4] not in names)
        except OSError:
            pass
        return {n: self.paths.h("log", n + ".log") for n in names}

    def cmd(self, argv, check=True, timeout=60, input=None):
        """Run a program of the platform (through chroot on a chroot platform)."""
        return procs.run(self.platform.cmd(argv), check=check, timeout=timeout, input=input)

    def doveadm(self, *args, check=True, timeout=60, input=None):
        """Run `doveadm -c CONF ARGS`; returns the CompletedProcess (parse stdout only:
        plugins log on stderr). Raises HarnessError on failure unless check=False,
        and always after timeout seconds."""
        return self.cmd(["doveadm", "-c", self.dovecot_conf()] + list(args), check=check,
                        timeout=timeout, input=input)

    def postfix(self, *args, check=True):
        return self.cmd(["postfix", "-c", self.postfix_dir()] + list(args), check=check)

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

    def _read(self, rel):
        try:
            with open(self.paths.h(rel)) as f:
                return f.read()
        except OSError:
            return None

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
        for rel in ("etc", "etc/dovecot", "etc/postfix", "etc/ssl", "run", "run/milter", "lib",
                    "log", "modules", "bin", "spool"):
            self._mkdir(rel)
        self._mkdir("mail", dovecot_conf.MAIL_UID, dovecot_conf.MAIL_UID)
        self._mkdir("spool/postfix")
        tls.make_cert(self.paths.h("etc", "ssl", "cert.pem"), self.paths.h("etc", "ssl", "key.pem"))
        self.state = {"pids": {}, "sessions": []}
        self._save_state()

    def write_users(self, accounts=None):
        """(Re)write the user files and Postfix's list of existing addresses.
        Dovecot re-reads its files when they change (the harness waits for that
        where Dovecot needs a second to notice); Postfix holds its texthash map in
        memory, so a running Postfix is restarted, but only when the addresses
        changed (userdb fields alone never restart anything)."""
        if accounts is not None:
            self.accounts = [copy.deepcopy(a) for a in accounts]
        old_addresses = self._read("etc/postfix/virtual_mailboxes")
        old_passwd = self._read("etc/dovecot/users")
        mail_root = self.paths.i("mail")
        passwd = dovecot_conf.passwd_file(self.accounts, mail_root, self.dialect)
        users = self._write("etc/dovecot/users", passwd, 0o640)
        os.chown(users, 0, self._gid("dovecot"))
        if self.dialect == "2.3":
            dict_file = self._write("etc/dovecot/userdb.dict",
                                    dovecot_conf.userdb_dict(self.accounts, mail_root), 0o640)
            os.chown(dict_file, 0, self._gid("dovecot"))
            self._write("etc/dovecot/userdb-dict.conf", dovecot_conf.userdb_dict_conf(
                self.paths.i("etc", "dovecot", "userdb.dict")), 0o644)
        addresses = postfix_conf.virtual_mailboxes(self.accounts)
        self._write("etc/postfix/virtual_mailboxes", addresses, backdate=True)
        self.state["accounts"] = [a.address for a in self.accounts]
        self.state["accounts_full"] = [[a.address, a.password, a.extra] for a in self.accounts]
        running = self.running()
        if "dovecot" in running and passwd != old_passwd:
            self._wait_dovecot_rereads(users)
        if "postfix" in running and addresses != old_addresses:
            self._reconfigure_postfix()
        self._save_state()
        self._moved()

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

    def _uid(self, user):
        with open(self.platform.host_path("/etc/passwd")) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == user:
                    return int(fields[2])
        raise HarnessError("user %s does not exist on %s" % (user, self.name))

    def set_policy(self, source=None, text=None):
        """Install the policy the stack runs with: the file source, or text, or
        packaging/mailpolicy.conf, or a minimal one. Returns the inner path.
        The plugins re-read it by themselves; a milter that reads this file is
        restarted by the next _apply (reset and restore do that)."""
        if text is None:
            if source is None:
                default = os.path.join(REPO, "packaging", "mailpolicy.conf")
                source = default if os.path.exists(default) else None
            if source is not None:
                with open(source) as f:
                    text = f.read()
            else:
                text = policy.MINIMAL
        self.state["policy_source"] = source or "(text)"
        self.state["policy_text"] = text
        self._write_policies()
        return self.policy_path()

    def _write_policies(self):
        """Write the stack's policy file and each extra milter's, pointed at the
        stack's sockets and its Redis port (whether Redis runs or not: stopping
        Redis must not change a milter's policy, and no milter may reach a Redis
        outside the stack)."""
        redis_port = self.ports["redis"]
        text = self.state.get("policy_text") or policy.MINIMAL
        default = self.state.get("milters", {}).get("milter")
        self._write("etc/mailpolicy.conf", policy.rewrite(
            text, self.ports["milter"], redis_port,
            socket=self._milter_socket("milter", default)[1] if default else None))
        for name, spec in self.state.get("milters", {}).items():
            if name != "milter":
                self._write(self._milter_policy_rel(name), policy.rewrite(
                    spec.get("policy_text") or text, None, redis_port,
                    socket=self._milter_socket(name, spec)[1]))

    # ---- configuration: checkpoint, restore, configure -------------------------

    def checkpoint(self):
        """The whole configuration (parts, plugins, Dovecot options and extra text,
        Postfix overrides, milters, policy, accounts), to restore() later."""
        return copy.deepcopy({k: self.state.get(k) for k in CONFIG_KEYS})

    def restore(self, snapshot):
        """Bring the stack back to a checkpoint: rewrite what differs and restart
        exactly the servers whose config changed or that are not running (a milter
        killed by a test, Redis stopped). Returns the parts restarted."""
        if snapshot.get("accounts_full") != self.state.get("accounts_full"):
            self.write_users([Account(*a) for a in snapshot["accounts_full"]])
        for key in CONFIG_KEYS:
            if key != "accounts_full":
                self.state[key] = copy.deepcopy(snapshot.get(key))
        return self._apply()

    def _moved(self):
        """A change made outside a test is the new starting point of the tests."""
        if self.baseline is not None and not self.in_test:
            self.baseline = self.checkpoint()

    @contextlib.contextmanager
    def scoped(self, **changes):
        """configure(**changes) for the time of a with block, then the configuration
        from before it is restored: in a module-scoped fixture, the baseline of
        every test of the module."""
        before = self.checkpoint()
        self.configure(**changes)
        try:
            yield self
        finally:
            self.restore(before)

    def configure(self, plugins=None, dovecot=None, dovecot_extra=None, postfix=None,
                  parts=None, policy_text=None, accounts=None):
        """Change the running stack and restart only what the change concerns.
        plugins: "auto" or a list of our plugin names; dovecot: options merged
        into the current ones (dovecot_conf.OPTIONS; a None value takes a key back
        to its default); dovecot_extra: raw text (replaces); postfix: main.cf
        overrides merged into the current ones (None removes one); parts: the
        parts that should run; policy_text: the stack's policy; accounts: a list
        of Account (replaces the accounts).
        Inside a test every change is undone when the test ends. If a server
        refuses the new config, the previous one is put back and HarnessError
        raised. Returns the parts (re)started."""
        before = self.checkpoint()
        if dovecot is not None:
            self.state["dovecot_options"] = dovecot_conf.merge_options(
                self.state.get("dovecot_options"), dovecot)
        if plugins is not None:
            self.state["plugins"] = self._resolve_plugins(plugins)
        if dovecot_extra is not None:
            self.state["dovecot_extra"] = dovecot_extra
        if postfix is not None:
            merged = dict(self.state.get("postfix_overrides") or {})
            for key, value in postfix.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            self.state["postfix_overrides"] = merged
        if parts is not None:
            self._check_parts(parts)
            self._set_parts(parts)
        if policy_text is not None:
            self.state["policy_text"] = policy_text
        try:
            if accounts is not None:
                self.write_users(accounts)
            return self._apply()
        except BaseException:
            try:
                self.restore(before)
            except HarnessError:
                pass
            raise

    def _set_parts(self, parts):
        parts = sorted(set(parts))
        milters = self.state.setdefault("milters", {})
        if "milter" in parts and "milter" not in milters:
            milters["milter"] = {"socket": "inet"}
        if "milter" not in parts:
            milters.pop("milter", None)
        self.state["parts"] = parts

    # ---- start -------------------------------------------------------------

    def start(self, parts=DEFAULT_PARTS, plugins=None, policy_file=None, policy_text=None,
              dovecot_extra=None, postfix_overrides=None, dovecot=None, fresh=False):
        """Start parts (restarting those that run; the others keep running, unless
        their config changed). plugins: "auto" (every built one) or a list of names
        from modules.DOVECOT_PLUGINS; dovecot: Dovecot options (dovecot_conf.OPTIONS,
        replacing the current ones); dovecot_extra: raw text appended to
        dovecot.conf; postfix_overrides: {main.cf key: value}. None keeps what the
        running stack has (fresh start: "auto", nothing, nothing, nothing).
        policy_file or policy_text replace the policy. fresh: stop whatever runs
        first, so the stack starts from the known defaults.
        If anything fails or the call is interrupted, what it started is stopped
        again (everything, when nothing ran before) and the configuration it
        was given is forgotten. Returns {part or "ready" or "total": seconds}."""
        parts = list(parts)
        self._check_parts(parts)
        self.platform.check()
        if "milter" in parts:
            self._milter_source()
        if dovecot is not None:
            dovecot = dovecot_conf.check_options(dovecot)
        self._resolve_plugins(plugins if plugins is not None else "auto")
        self._lock()
        if fresh and (self.running() or self.leftovers()):
            self.stop()
            self._lock()
        was_running = self.running()
        before = self.checkpoint() if was_running else None
        if plugins is None:
            plugins = self.state.get("plugins", "auto") if was_running else "auto"
        try:
            plugins = self._resolve_plugins(plugins)
        except HarnessError:
            if not was_running:
                self._unlock()
            raise
        t0 = time.monotonic()
        try:
            if not was_running:
                self.cleanup(unlock=False)
                self._prepare_tree()
                self.state.update({"parts": [], "milters": {}, "dovecot_options": {},
                                   "dovecot_extra": "", "postfix_overrides": {}})
                self.write_users([copy.deepcopy(a) for a in DEFAULT_ACCOUNTS])
            self._set_parts(set(self.state.get("parts", [])) | set(parts))
            self.state["plugins"] = plugins
            if dovecot is not None:
                self.state["dovecot_options"] = dovecot
            if dovecot_extra is not None:
                self.state["dovecot_extra"] = dovecot_extra
            if postfix_overrides is not None:
                self.state["postfix_overrides"] = dict(postfix_overrides)
            if policy_file or policy_text or "policy_text" not in self.state:
                self.set_policy(policy_file, policy_text)
            timings = self._apply(force=parts)
        except BaseException:
            if before is not None:
                for key in CONFIG_KEYS:
                    if key != "accounts_full":
                        self.state[key] = before[key]
                self._save_state()
            self.stop(parts if was_running else None)
            raise
        timings["total"] = time.monotonic() - t0
        self.state["started_in"] = round(timings["total"], 2)
        self._save_state()
        self._moved()
        return timings

    def _check_parts(self, parts):
        for p in parts:
            if p not in PARTS:
                raise HarnessError("unknown part %r (parts: %s)" % (p, ", ".join(PARTS)))

    def _resolve_plugins(self, plugins):
        built = modules.available(self.platform.build_dir(self.build_dir))
        if plugins == "auto":
            return built
        if isinstance(plugins, str):
            raise HarnessError("plugins: \"auto\" or a list of names, not %r" % plugins)
        unknown = [p for p in plugins if p not in modules.DOVECOT_PLUGINS]
        if unknown:
            raise HarnessError("unknown plugin(s) %s" % ", ".join(unknown))
        missing = [p for p in plugins if p not in built]
        if missing:
            raise HarnessError("plugin(s) not built: %s (no %s)" % (
                ", ".join(missing), ", ".join(modules.plugin_path(
                    self.platform.build_dir(self.build_dir), m) for m in missing)))
        return list(plugins)

    # ---- rendering ---------------------------------------------------------------

    def _settings_module_dir(self):
        return os.path.join(self.platform.build_dir(self.build_dir), "modules", "settings")

    def _render_dovecot(self):
        writer = dovecot_conf.WRITERS.get(self.dialect)
        if writer is None:
            raise HarnessError("no Dovecot %s config writer" % self.dialect)
        plugins = self.state.get("plugins") or []
        options = {}
        for name in plugins:  # what a plugin needs (modules.py), under the test's options
            options = dovecot_conf.merge_options(
                options, modules.DOVECOT_PLUGINS[name].get("dovecot") or {})
        options = dovecot_conf.merge_options(options, self.state.get("dovecot_options") or {})
        stock = self.platform.host_path(self.platform.stock_modules())
        have = set()
        for entry in os.listdir(stock):
            if entry.endswith("_plugin.so"):
                have.add(entry.split("_", 1)[1][:-len("_plugin.so")])
        missing = [n for n in dovecot_conf.stock_plugins_needed(plugins, options) if n not in have]
        if missing:
            raise HarnessError("Dovecot plugin(s) %s not installed on %s (%s): %s" % (
                ", ".join(missing), self.name, self.platform.stock_modules(),
                "install dovecot-sieve (make deps)" if "sieve" in missing else "a typo?"))
        policy_setting = self.dialect == "2.3" or os.path.isdir(self._settings_module_dir())
        return writer(self.paths, self.ports, plugins, self.policy_path(),
                      self.state.get("dovecot_extra", ""), options, policy_setting)

    def _render_postfix(self):
        milters = [self._milter_socket(n, s)[0] for n, s in self.state.get("milters", {}).items()]
        main = postfix_conf.main_cf(self.paths, self.ports, milters=milters,
                                    overrides=self.state.get("postfix_overrides"))
        return main, postfix_conf.master_cf(self.ports)

    # ---- apply -------------------------------------------------------------------

    def _apply(self, force=()):
        """Make the running servers match the configuration in self.state: stop
        the parts not wanted, (re)start those that are wanted and not running,
        whose rendered config changed, or that are in force. Waits until every
        started server answers; a server that dies while starting fails at once.
        Returns {part: seconds} of what was started, plus "ready"."""
        force = set(force)
        self._lock()
        self.platform.setup()
        want = set(self.state.get("parts", []))
        applied = self.state.setdefault("applied", {})
        milters = self.state.get("milters", {})
        # What goes away first: a stopped milter must leave smtpd_milters before
        # Postfix would tempfail on it.
        for key in list(self.state["pids"]):
            if key.startswith("milter:") and key[len("milter:"):] not in milters:
                self._stop_part(key)
        for part in ("postfix", "dovecot", "milter", "redis"):
            if part not in want and part in self.state["pids"]:
                self._stop_part(part)
        self._write_policies()
        plan = []
        if "redis" in want:
            if "redis" in force or not procs.alive(self.state["pids"].get("redis")):
                plan.append(("redis", "redis", None))
        for name in milters:
            if milters[name].get("down"):
                continue  # killed by the test: Postfix still lists it
            key = "milter" if name == "milter" else "milter:" + name
            digest = _digest(self._read(self._milter_policy_rel(name)), milters[name])
            if ("milter" in force and name == "milter") or key in force or \
                    applied.get(key) != digest or not procs.alive(self.state["pids"].get(key)):
                plan.append((key, "milter", digest))
        if "dovecot" in want:
            text = self._render_dovecot()
            digest = _digest(text, self.state.get("plugins"))
            if "dovecot" in force or applied.get("dovecot") != digest or \
                    not procs.alive(self.state["pids"].get("dovecot")):
                plan.append(("dovecot", text, digest))
        if "postfix" in want:
            main, master = self._render_postfix()
            digest = _digest(main, master, self._read("etc/postfix/virtual_mailboxes"))
            if "postfix" in force or applied.get("postfix") != digest or \
                    not procs.alive(self.state["pids"].get("postfix")):
                plan.append(("postfix", (main, master), digest))
        timings = {"ready": 0.0}
        # Two rounds: Redis and the milters first, so that a unix socket has its
        # mode before Postfix (or its readiness probe) connects to it.
        for phase in (("redis", "milter"), ("dovecot", "postfix")):
            checks = []
            started = []
            for key, what, digest in plan:
                if key.split(":", 1)[0] not in phase:
                    continue
                t = time.monotonic()
                if procs.alive(self.state["pids"].get(key)):
                    self._stop_part(key)
                applied.pop(key, None)
                if key == "redis":
                    checks += self._start_redis()
                elif what == "milter":
                    checks += self._start_milter(key.split(":", 1)[1] if ":" in key else "milter")
                elif key == "dovecot":
                    checks += self._start_dovecot(what)
                else:
                    checks += self._start_postfix(*what)
                started.append((key, digest))
                timings[key] = time.monotonic() - t
                self._save_state()
            if not started:
                continue
            t = time.monotonic()
            pids = {key: self.state["pids"].get(key) for key, _ in started}
            probe.wait_ready(checks, READY_TIMEOUT, self.log_tail,
                             dead=lambda: [k for k, pid in pids.items() if not procs.alive(pid)])
            self._after_ready([k for k, _ in started])
            for key, digest in started:
                if digest is not None:
                    applied[key] = digest
            timings["ready"] += time.monotonic() - t
        self._save_state()
        self._moved()
        return timings

    def _reconfigure_postfix(self):
        """Restart Postfix with a new config (milter added or gone, accounts changed).
        Not `postfix reload`: old smtpd processes would still take a connection or
        two with the old settings."""
        if "postfix" in self.state.get("parts", []):
            self._apply(force=["postfix"])

    # ---- stop --------------------------------------------------------------

    def stop(self, parts=None, teardown=True):
        """Stop parts (default: all) by PID, postfix first; when nothing is left
        running, make sure no process of the stack remains and let the runtime
        directory go (lock). Returns the PIDs that had to be killed with SIGKILL."""
        full = parts is None
        parts = list(PARTS) if full else list(parts)
        self._check_parts(parts)
        self._lock()
        killed = []
        if full:
            for key in [k for k in self.state["pids"] if k.startswith("milter:")]:
                killed += self._stop_part(key)
            self.state["milters"] = {}
        for part in reversed(START_ORDER):
            if part in parts:
                killed += self._stop_part(part)
                if part in self.state.get("parts", []):
                    self.state["parts"].remove(part)
                if part == "milter":
                    self.state.get("milters", {}).pop("milter", None)
        if os.path.isdir(self.paths.host):
            if "milter" in parts and "postfix" in self.running():
                self._reconfigure_postfix()
            self._save_state()
        if teardown and not self.running() and not any(
                procs.alive(p) for p in self.state["pids"].values()):
            killed += self.cleanup()
        elif not full:
            self._moved()
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

    def cleanup(self, unlock=True):
        """End every process of this stack (after a crash too), undo platform
        mounts. Returns the PIDs that had to be ended here."""
        self._lock()
        found = self.leftovers()
        if found:
            procs.terminate(found, grace=3.0)
        self.state["sessions"] = []
        self.state["pids"] = {}
        self.state["parts"] = []
        self.state["milters"] = {}
        self.state["applied"] = {}
        self._save_state()
        self.platform.teardown()
        if unlock:
            self._unlock()
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
