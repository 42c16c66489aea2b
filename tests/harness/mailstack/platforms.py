"""Platforms: where the servers of a stack come from and how they are run.

debian12 runs the host's own Dovecot 2.3 and Postfix 3.7. A chroot platform
(debian13: a Debian 13 tree made with debootstrap under the build directory)
runs the tree's Dovecot 2.4 and Postfix 3.10 through `chroot ROOT`, with the
runtime directory inside the tree; clients always run on the host. Everything
that differs between the two is on this object, so the stack code asks it
instead of testing the platform's name.
"""

import os
import shutil
import subprocess

from .procs import HarnessError, run


class Platform:
    name = None
    port_base = None
    dovecot_dialect = None       # "2.3" or "2.4": which config writer to use
    build_subdir = ""            # where our builds for this platform live under BUILD_DIR
    root = "/"                   # the file system tree the servers run in

    def __init__(self, port_base=None):
        if port_base is not None:
            self.port_base = port_base

    def cmd(self, argv):
        """argv as run on the host for a program of this platform."""
        return list(argv)

    def shown(self, command):
        """A command line of this platform as a human would type it on the host."""
        return command

    def host_path(self, inner):
        """Host path of a path as the platform's servers see it."""
        if self.root == "/":
            return inner
        return os.path.join(self.root, inner.lstrip("/"))

    def stock_modules(self):
        """Dovecot's module directory, inner path."""
        return "/usr/lib/dovecot/modules"

    def check(self):
        """Raise HarnessError if this platform cannot run here."""

    def setup(self):
        """Called before any server starts (mounts for a chroot)."""

    def teardown(self):
        """Called after the last server stopped."""

    def build_dir(self, build_dir):
        return os.path.join(build_dir, self.build_subdir) if self.build_subdir else build_dir

    def cc(self, sources, output, flags=(), libs=(), dovecot_plugin=False):
        """Compile C sources (host paths) into output (a host path) with this
        platform's compiler and headers: a test's stand-in program or plugin.
        dovecot_plugin: a shared object with the flags of the platform's
        dovecot-config. Raises HarnessError with the compiler's output."""
        work = self.host_path("/tmp/mp-cc-%d" % os.getpid())
        inner_work = "/tmp/mp-cc-%d" % os.getpid()
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        try:
            names = []
            for src in sources:
                shutil.copy(src, work)
                names.append(os.path.join(inner_work, os.path.basename(src)))
            out = os.path.join(inner_work, "out")
            cmd = "gcc -Wall -Wextra -Werror -Wno-unused-parameter -O1 %s -o %s %s %s" % (
                " ".join(flags), out, " ".join(names), " ".join(libs))
            if dovecot_plugin:
                cmd = (". /usr/lib/dovecot/dovecot-config && " + cmd.replace(
                    "gcc", "gcc $DOVECOT_CFLAGS $LIBDOVECOT_INCLUDE -fPIC -shared -DHAVE_CONFIG_H", 1))
            self.setup()
            try:
                run(self.cmd(["/bin/sh", "-c", cmd]), timeout=120)
            finally:
                self.teardown()
            os.makedirs(os.path.dirname(output), exist_ok=True)
            shutil.copy(os.path.join(work, "out"), output)
            os.chmod(output, 0o755)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return output


class Debian12(Platform):
    name = "debian12"
    port_base = 20000
    dovecot_dialect = "2.3"

    def check(self):
        for prog in ("/usr/sbin/dovecot", "/usr/sbin/postfix", "/usr/lib/dovecot/lmtp"):
            if not os.path.exists(prog):
                raise HarnessError("%s is missing: run `make deps` (dovecot-core, dovecot-lmtpd, postfix)" % prog)


class ChrootPlatform(Platform):
    """Servers from a Debian tree, run with `chroot ROOT`. /proc and /dev are
    bound into the tree while they run."""

    def __init__(self, root, port_base=None):
        super().__init__(port_base)
        self.root = os.path.abspath(root)

    def cmd(self, argv):
        return ["chroot", self.root, "/usr/bin/env", "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"] + list(argv)

    def shown(self, command):
        return "chroot %s %s" % (self.root, command)

    def check(self):
        for prog in ("usr/sbin/dovecot", "usr/sbin/postfix"):
            if not os.path.exists(os.path.join(self.root, prog)):
                raise HarnessError("%s has no %s: make the tree first "
                                   "(tests/harness/debian13/make-tree)" % (self.root, prog))

    def _mounted(self, path):
        return run(["mountpoint", "-q", path], check=False).returncode == 0

    def setup(self):
        mounts = (("proc", ["mount", "-t", "proc", "proc"]),
                  ("dev", ["mount", "--bind", "/dev"]),
                  ("dev/pts", ["mount", "--bind", "/dev/pts"]))
        for rel, argv in mounts:
            path = os.path.join(self.root, rel)
            os.makedirs(path, exist_ok=True)
            if not self._mounted(path):
                run(argv + [path])

    def chrooted_pids(self):
        """PIDs of the processes whose root is this tree (ours or anyone's)."""
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.path.realpath("/proc/%s/root" % name) == os.path.realpath(self.root):
                        found.append(int(name))
                except OSError:
                    pass
        return found

    def teardown(self):
        # Another stack (or the debian13 scripts) may run in the same tree.
        if self.chrooted_pids():
            return
        for rel in ("dev/pts", "dev", "proc"):
            path = os.path.join(self.root, rel)
            if self._mounted(path):
                if run(["umount", path], check=False).returncode != 0:
                    run(["umount", "-l", path], check=False)


class Debian13(ChrootPlatform):
    name = "debian13"
    port_base = 21000
    dovecot_dialect = "2.4"
    build_subdir = "debian13"
    MAKE_TREE = os.path.join(os.path.dirname(__file__), "..", "debian13", "make-tree")
    STAMP = ".mailpolicy-debian13-tree"

    def check(self):
        """Make the tree when it is missing (from the cached tarball when there is
        one, else with debootstrap), then check it."""
        if not os.path.exists(os.path.join(self.root, self.STAMP)):
            env = dict(os.environ, D13_ROOT=self.root)
            if subprocess.run([self.MAKE_TREE], env=env).returncode != 0:
                raise HarnessError("could not make the Debian 13 tree %s (see above)" % self.root)
        super().check()


def get_platform(name, build_dir, port_base=None):
    """The platform called name; a chroot tree is $D13_ROOT or lives under build_dir."""
    if name == "debian12":
        return Debian12(port_base)
    if name == "debian13":
        root = os.environ.get("D13_ROOT") or os.path.join(build_dir, "debian13", "root")
        return Debian13(root, port_base)
    raise HarnessError("unknown stack %r (known: debian12, debian13)" % name)
