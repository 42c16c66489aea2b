"""Dovecot configuration of a test stack, one writer per config dialect.

The stack runs Dovecot from a private config: its own base_dir, state_dir and
log, listeners on 127.0.0.1 high ports, users in a passwd-file, mail owned by
the `mail` user (uid 8) under the runtime directory, and our plugins loaded
from a private mail_plugin_dir. Dovecot wants nothing after `{` on a line.
"""

from .modules import DOVECOT_PLUGINS

MAIL_UID = 8  # Debian's `mail` user, the same number inside a Debian chroot


def passwd_file(accounts, mail_root):
    """passwd-file lines: user:{PLAIN}password:uid:gid::home::extra fields."""
    lines = []
    for a in accounts:
        extra = " ".join("%s=%s" % kv for kv in sorted(a.extra.items()))
        lines.append("%s:{PLAIN}%s:%d:%d::%s/%s/%s::%s" % (
            a.address, a.password, MAIL_UID, MAIL_UID, mail_root, a.domain, a.local, extra))
    return "\n".join(lines) + "\n"


def _plugin_lists(plugins):
    """(top-level plugins, {protocol: plugins}) for our plugin names, stock ones included."""
    top = ["quota"]
    per_proto = {"imap": ["imap_quota"]}
    for name in plugins:
        spec = DOVECOT_PLUGINS[name]
        if spec["global"]:
            top += [p for p in spec["needs"] if p not in top] + [name]
        for proto in spec["protocols"]:
            per_proto.setdefault(proto, [])
            per_proto[proto] += [p for p in spec["needs"] if p not in top] + [name]
    return top, per_proto

# The same in both dialects: folders, listeners, the auth socket for Postfix.
_SHARED = """\
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
}

service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
  inet_listener imaps {
    port = %(imaps)d
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
  }
  inet_listener pop3s {
    port = %(pop3s)d
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    port = %(lmtp)d
  }
}
%(extra_services)sservice auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
"""

_SUBMISSION_OFF = """\
# Not in protocols; its 2.4 defaults (587, 465) stay closed all the same.
service submission-login {
  inet_listener submission {
    port = 0
  }
  inet_listener submissions {
    port = 0
  }
}
"""


def _shared(ports, extra_services=""):
    return _SHARED % dict(ports, extra_services=extra_services)


def dovecot23(p, ports, plugins, policy_path, extra=""):
    """dovecot.conf for Dovecot 2.3. p: Paths; ports: name -> port; plugins: our plugin names."""
    top, per_proto = _plugin_lists(plugins)
    proto_blocks = []
    for proto in ("imap", "pop3", "lmtp", "doveadm"):
        lines = []
        if per_proto.get(proto):
            lines.append("  mail_plugins = $mail_plugins %s" % " ".join(per_proto[proto]))
        if proto == "lmtp":
            lines.append("  postmaster_address = postmaster@example.com")
        if lines:
            proto_blocks.append("protocol %s {\n%s\n}" % (proto, "\n".join(lines)))
    return """\
# Written by tests/harness (mailstack): the Dovecot of the {name} test stack.
instance_name = mailpolicy-{name}
base_dir = {base_dir}
state_dir = {state_dir}
log_path = {log}
protocols = imap pop3 lmtp
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_verbose = yes
auth_failure_delay = 0

default_login_user = dovenull
default_internal_user = dovecot
mail_uid = mail
mail_gid = mail
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {uid}
mail_location = maildir:~/Maildir
mail_plugin_dir = {plugin_dir}
mail_plugins = $mail_plugins {top}
pop3_uidl_format = %08Xu%08Xv

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%Lu {users}
}}

{shared}
plugin {{
  mailpolicy_config = {policy}
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:storage=100M
}}

{proto_blocks}
{extra}
""".format(
        name=p.inner.rstrip("/").rsplit("/", 1)[-1],
        base_dir=p.i("run", "dovecot"), state_dir=p.i("lib", "dovecot"),
        log=p.i("log", "dovecot.log"), cert=p.i("etc", "ssl", "cert.pem"),
        key=p.i("etc", "ssl", "key.pem"), uid=MAIL_UID, plugin_dir=p.i("modules"),
        top=" ".join(top), users=p.i("etc", "dovecot", "users"), policy=policy_path,
        shared=_shared(ports),
        proto_blocks="\n".join(proto_blocks), extra=extra, **ports)


WRITERS = {"2.3": dovecot23}


def _plugin_block(names, indent):
    pad = " " * indent
    return "%smail_plugins {\n%s\n%s}" % (pad, "\n".join(
        "%s  %s = yes" % (pad, n) for n in names), pad)


def dovecot24(p, ports, plugins, policy_path, extra=""):
    """dovecot.conf for Dovecot 2.4 (Debian 13), the same stack as dovecot23 in the
    2.4 dialect (checked against tests/harness/debian13/dovecot.conf.in). Our
    plugins' own settings (mailpolicy_config) exist only when a plugin that
    declares them is loaded: 2.4 rejects unknown settings."""
    top, per_proto = _plugin_lists(plugins)
    proto_blocks = []
    for proto in ("imap", "pop3", "lmtp", "doveadm"):
        if per_proto.get(proto):
            proto_blocks.append("protocol %s {\n%s\n}" % (
                proto, _plugin_block(per_proto[proto], 2)))
    policy_line = "mailpolicy_config = %s" % policy_path if plugins else \
        "# mailpolicy_config: set only when one of our plugins (which declare it) is loaded"
    return """\
# Written by tests/harness (mailstack): the Dovecot of the {name} test stack.
# 2.4 wants these two first.
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0

instance_name = mailpolicy-{name}
base_dir = {base_dir}
state_dir = {state_dir}
log_path = {log}
protocols = imap pop3 lmtp
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_server_cert_file = {cert}
ssl_server_key_file = {key}
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_allow_cleartext = yes
auth_verbose = yes
auth_failure_delay = 0

default_login_user = dovenull
default_internal_user = dovecot
mail_uid = mail
mail_gid = mail
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {uid}
mail_driver = maildir
mail_path = ~/Maildir
mail_plugin_dir = {plugin_dir}
{top_plugins}

passdb passwd-file {{
  passwd_file_path = {users}
}}
userdb passwd-file {{
  passwd_file_path = {users}
}}

{shared}
# The user's whole quota: a per-user value comes from the passwd-file as
# userdb_quota_storage_size; it must stay at top level to be overridable.
quota_storage_size = 100M
quota "User quota" {{
  driver = count
}}
{policy_line}

{proto_blocks}
{extra}
""".format(
        name=p.inner.rstrip("/").rsplit("/", 1)[-1],
        base_dir=p.i("run", "dovecot"), state_dir=p.i("lib", "dovecot"),
        log=p.i("log", "dovecot.log"), cert=p.i("etc", "ssl", "cert.pem"),
        key=p.i("etc", "ssl", "key.pem"), uid=MAIL_UID, plugin_dir=p.i("modules"),
        top_plugins=_plugin_block(top, 0), users=p.i("etc", "dovecot", "users"),
        shared=_shared(ports, _SUBMISSION_OFF),
        policy_line=policy_line, proto_blocks="\n".join(proto_blocks), extra=extra, **ports)


WRITERS["2.4"] = dovecot24
