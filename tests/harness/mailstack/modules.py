"""Our Dovecot plugins: which file each is, and what the stack's config loads for it.

Each feature issue owns its entry here: the protocols that load the plugin and
the extra Dovecot settings it needs. A plugin is loaded only when its .so exists
under BUILD_DIR/modules and the caller asks for it (the default asks for every
one that exists); without it the stack is stock Dovecot.
"""

import os

# name -> how it is loaded.
#   file:      the build output (DESIGN.md, "Build outputs")
#   global:    loaded by every mail process (mail_plugins at top level)
#   protocols: loaded only by these protocols (protocol X { mail_plugins })
#   needs:     stock plugins loaded with it, in the same places
#   dovecot:   (optional) Dovecot options (dovecot_conf.OPTIONS) the stack uses
#              whenever the plugin is loaded; a test's own options win over them
#   login:     a login plugin for these protocols' login processes
#              (login_plugins, with login_plugin_dir = mail_plugin_dir)
DOVECOT_PLUGINS = {
    "pop3_retention": {
        "file": "lib20_pop3_retention_plugin.so",
        "global": False,
        "protocols": ("pop3", "doveadm"),
        "needs": (),
    },
    # CAPA's EXPIRE before login (pop3-login has no mail storage: a .so of
    # its own). Not a mail plugin: only login_plugins loads it.
    "pop3_retention_login": {
        "file": "lib20_pop3_retention_login_plugin.so",
        "global": False,
        "protocols": (),
        "needs": (),
        "login": ("pop3",),
    },
    "folder_quota": {
        "file": "lib20_folder_quota_plugin.so",
        "global": True,
        "protocols": (),
        "needs": ("quota",),
    },
}

MILTER = "sbin/mailpolicy-milter"
CLI = "bin/mailpolicy"


def plugin_path(build_dir, name):
    return os.path.join(build_dir, "modules", DOVECOT_PLUGINS[name]["file"])


def available(build_dir):
    """Names of the plugins built under build_dir."""
    return [n for n in DOVECOT_PLUGINS if os.path.exists(plugin_path(build_dir, n))]


def milter_path(build_dir):
    return os.path.join(build_dir, MILTER)


def cli_path(build_dir):
    return os.path.join(build_dir, CLI)


# ---- what exists in the source tree (CI: sources without a build fail the run) ----
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def source_dir(name):
    """The source directory of a plugin, or of the milter ("milter"), under the
    source tree ($MAILPOLICY_SRCDIR, default the repository)."""
    root = os.environ.get("MAILPOLICY_SRCDIR") or REPO
    return os.path.join(root, "milter" if name == "milter" else os.path.join("plugins", name))


def has_sources(name):
    """True when the module's sources (C files) are in the tree."""
    d = source_dir(name)
    return os.path.isdir(d) and any(f.endswith(".c") for f in os.listdir(d))
