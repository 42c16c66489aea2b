"""Dovecot configuration of a test stack, one writer per config dialect (2.3, 2.4).

The stack runs Dovecot from a private config: its own base_dir, state_dir and
log, listeners on 127.0.0.1 high ports, users from files under the runtime
directory, mail owned by the `mail` user (uid 8), and our plugins loaded from
a private mail_plugin_dir. Dovecot wants nothing after `{` on a line.

Tests change the configuration through *options* (a dict, see OPTIONS), which
mean the same on both dialects; each writer turns them into its own text. The
2.3 trap this avoids: a top-level `mail_plugins` after the protocol blocks
never reaches imap or pop3 (they expanded $mail_plugins already), so every
plugin list is computed here and written in its place.

Users: a passwd-file holds logins and passwords on both dialects. Userdb
fields (per-user overrides) come from a dict file on 2.3 (a JSON object per
user: any value, spaces included) and from the passwd-file's `userdb_`
fields on 2.4, where a value that is not plain is written as a quoted
`%{literal('...')}` expression. A test writes plain values; the harness
quotes them.
"""

import json
import re

from .modules import DOVECOT_PLUGINS
from .procs import HarnessError

MAIL_UID = 8  # Debian's `mail` user, the same number inside a Debian chroot

MAIL_FORMATS = ("maildir", "sdbox", "mdbox")
PROTOCOLS = ("imap", "pop3", "lmtp", "lda", "doveadm")
# The Maildir++ / Courier layout providers migrate from: INBOX.Sent, INBOX.Projects.apollo.
MAILDIR_PLUS_PLUS = {"separator": ".", "prefix": "INBOX."}
SPECIAL_USE = (("Drafts", "\\Drafts"), ("Sent", "\\Sent"), ("Trash", "\\Trash"),
               ("Junk", "\\Junk"))

# Every option a test may set; None (or leaving it out) means the default.
OPTIONS = {
    "mail_format": "maildir (default) | sdbox | mdbox",
    "separator": "namespace hierarchy separator: / (default) or .",
    "prefix": "personal namespace prefix: '' (default) or e.g. INBOX.",
    "plugins": "{protocol or '*': [stock plugin, ...]} added to the defaults",
    "quota": "list of quota roots (dicts, see quota_root); [] = no quota at all",
    "quota_full_tempfail": "bool: a full quota is a temporary failure (452/4.2.2)",
    "pop3_uidl_format": "2.3 syntax (%08Xu%08Xv, translated for 2.4) or a preset: "
                        "uid-uidvalidity, guid, md5, uid",
    "pop3_save_uidl": "bool",
    "lmtp_save_to_detail_mailbox": "bool: LMTP saves user+detail@ into the mailbox `detail`",
    "recipient_delimiter": "default +",
    "lda_mailbox_autocreate": "bool: LDA/LMTP/Sieve create a missing target mailbox",
    "lazy_expunge": "mailbox (no prefix): expunged mail is moved there; loads lazy_expunge "
                    "everywhere unless plugins places it",
    "sieve": "bool: Sieve for lmtp and lda, the user's script from set_sieve()",
    "autocreate": "[mailbox, ...] created for every user",
    "settings": "{key: value} raw top-level settings (same name in both dialects)",
    "plugin_settings": "{key: value}: plugin {} on 2.3, top-level on 2.4",
    "extra": "raw text appended at the end: a str, or {'2.3': str, '2.4': str}",
}

_UIDL_PRESETS = {
    "uid-uidvalidity": ("%08Xu%08Xv", "%{uid | hex(8)}%{uidvalidity | hex(8)}"),
    "guid": ("%g", "%{guid}"),
    "md5": ("%m", "%{md5}"),
    "uid": ("%u", "%{uid}"),
}
_UIDL_VARS = {"u": "uid", "v": "uidvalidity", "m": "md5", "f": "filename", "g": "guid"}

QUOTA_ROOT_KEYS = ("name", "backend", "args", "storage", "messages", "mailboxes", "settings")
QUOTA_MAILBOX_KEYS = ("ignore", "storage", "storage_extra", "messages")
DEFAULT_QUOTA = [{"name": "User quota", "backend": "count", "storage": "100M"}]


def check_options(options):
    """options made whole: unknown keys and bad values raise HarnessError."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise HarnessError("unknown Dovecot option(s) %s; known: %s" % (
            ", ".join(unknown), ", ".join(sorted(OPTIONS))))
    fmt = options.get("mail_format")
    if fmt is not None and fmt not in MAIL_FORMATS:
        raise HarnessError("mail_format %r: one of %s" % (fmt, ", ".join(MAIL_FORMATS)))
    sep = options.get("separator")
    if sep is not None and sep not in ("/", "."):
        raise HarnessError("separator %r: / or ." % sep)
    for proto, names in (options.get("plugins") or {}).items():
        if proto != "*" and proto not in PROTOCOLS:
            raise HarnessError("plugins: unknown protocol %r (use * or one of %s)" % (
                proto, ", ".join(PROTOCOLS)))
        if isinstance(names, str):
            raise HarnessError("plugins[%r] must be a list of names, not %r" % (proto, names))
        for name in names:
            if name.startswith("imap_") and proto != "imap":
                raise HarnessError("plugin %s loads only under protocol imap (not %r)" % (
                    name, proto))
            if name == "sieve" and proto not in ("lmtp", "lda"):
                raise HarnessError("plugin sieve loads only for lmtp and lda (not %r)" % proto)
    for root in options.get("quota") or ():
        unknown = sorted(set(root) - set(QUOTA_ROOT_KEYS))
        if unknown or "name" not in root:
            raise HarnessError("quota root %r: needs name, knows %s" % (
                root, ", ".join(QUOTA_ROOT_KEYS)))
        for box, rule in (root.get("mailboxes") or {}).items():
            bad = sorted(set(rule) - set(QUOTA_MAILBOX_KEYS))
            if bad:
                raise HarnessError("quota root %s, mailbox %s: unknown %s (known: %s)" % (
                    root["name"], box, ", ".join(bad), ", ".join(QUOTA_MAILBOX_KEYS)))
    uidl = options.get("pop3_uidl_format")
    if uidl is not None:
        uidl_formats(uidl)
    extra = options.get("extra")
    if isinstance(extra, dict) and set(extra) - {"2.3", "2.4"}:
        raise HarnessError("extra: a str or {'2.3': str, '2.4': str}")
    return {k: v for k, v in options.items() if v is not None}


def merge_options(base, change):
    """base with the keys of change set; a None value takes a key back to its default."""
    out = dict(base or {})
    for key, value in (change or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return check_options(out)


def uidl_formats(value):
    """(2.3 text, 2.4 text) of a pop3_uidl_format option."""
    if value in _UIDL_PRESETS:
        return _UIDL_PRESETS[value]
    if "%{" in value:
        raise HarnessError("pop3_uidl_format %r: write it in 2.3 syntax (%%08Xu%%08Xv) or as "
                           "a preset (%s); the harness writes the 2.4 form" % (
                               value, ", ".join(_UIDL_PRESETS)))
    out = []
    pos = 0
    for m in re.finditer(r"%(0?)(\d*)(X?)([uvmfg%])", value):
        out.append(value[pos:m.start()])
        pos = m.end()
        zero, width, hexa, var = m.groups()
        if var == "%":
            out.append("%%")
            continue
        expr = _UIDL_VARS[var]
        if hexa:
            expr += " | hex(%s)" % width if width else " | hex"  # lower case, as 2.3's %X
        elif width:
            expr += " | lfill(%s)" % width if zero else " | lfill(%s, ' ')" % width
        out.append("%%{%s}" % expr)
    out.append(value[pos:])
    if "%" in re.sub(r"%\{[^}]*\}|%%", "", "".join(out)):
        raise HarnessError("pop3_uidl_format %r: a variable the harness cannot translate" % value)
    return value, "".join(out)


def _yesno(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# ---- users ---------------------------------------------------------------------

def passwd_file(accounts, mail_root, dialect="2.3"):
    """passwd-file lines: user:{PLAIN}password:uid:gid::home::extra fields.
    On 2.4 the extra fields are the userdb fields (userdb_ prefix, values quoted);
    on 2.3 they live in the dict file (userdb_dict) and the passdb has none."""
    lines = []
    for a in accounts:
        extra = ""
        if dialect == "2.4":
            extra = " ".join("userdb_%s=%s" % (k, quote_24(v))
                             for k, v in sorted(userdb_fields(a).items()))
        lines.append("%s:{PLAIN}%s:%d:%d::%s/%s/%s::%s" % (
            a.address, a.password, MAIL_UID, MAIL_UID, mail_root, a.domain, a.local, extra))
    return "\n".join(lines) + "\n"


def userdb_fields(account):
    """An account's userdb fields, without any userdb_ prefix a test may have written."""
    out = {}
    for key, value in account.extra.items():
        if key.startswith("userdb_"):
            key = key[len("userdb_"):]
        if not re.match(r"^[A-Za-z0-9_]+$", key):
            raise HarnessError("userdb field name %r of %s: letters, digits and _ only" % (
                key, account.address))
        if "\n" in str(value) or "\r" in str(value):
            raise HarnessError("userdb field %s of %s: a value cannot hold a line break" % (
                key, account.address))
        out[key] = str(value)
    return out


_PLAIN_24 = re.compile(r"^[A-Za-z0-9_.,:=*+@/\-]*$")


def quote_24(value):
    """A passwd-file field value for Dovecot 2.4, which splits fields on spaces and
    expands %: plain text as is, anything else as %{literal('...')} with \\xHH escapes."""
    if _PLAIN_24.match(value):
        return value
    body = "".join(c if re.match(r"[A-Za-z0-9_.,:=*+@/\-]", c) else
                   "".join("\\x%02x" % b for b in c.encode()) for c in value)
    return "%%{literal('%s')}" % body


def userdb_dict(accounts, mail_root):
    """The 2.3 userdb: a Dovecot file dict, key line (shared/userdb/USER) then value line, a JSON object
    per user (uid, gid, home and the account's fields, values as given)."""
    lines = []
    for a in accounts:
        obj = {"uid": str(MAIL_UID), "gid": str(MAIL_UID),
               "home": "%s/%s/%s" % (mail_root, a.domain, a.local)}
        # 2.3 expands %variables in the user's settings, which is where a plugin
        # reads its userdb fields: a % of the value is written %%.
        obj.update({k: v.replace("%", "%%") for k, v in userdb_fields(a).items()})
        lines += ["shared/userdb/" + a.address.lower(), json.dumps(obj, sort_keys=True)]
    return "\n".join(lines) + "\n"


def userdb_dict_conf(dict_path):
    return ("# Written by tests/harness: the 2.3 userdb (a file dict, JSON per user).\n"
            "uri = file:%s\nuser_key = userdb/%%Lu\niterate_prefix = userdb/\n"
            "default_pass_scheme = PLAIN\n" % dict_path)


# ---- plugin lists ----------------------------------------------------------------

def plugin_lists(plugins, options):
    """(top-level plugins, {protocol: plugins}) for our plugin names and the options."""
    quota = options.get("quota", DEFAULT_QUOTA)
    top = ["quota"] if quota else []
    per_proto = {"imap": ["imap_quota"]} if quota else {}

    def add(where, names):
        for n in names:
            if n not in where and (where is top or n not in top):
                where.append(n)

    named = set()
    for names in (options.get("plugins") or {}).values():
        named |= set(names)
    if options.get("lazy_expunge") and "lazy_expunge" not in named:
        add(top, ["lazy_expunge"])  # every process, unless the test placed it
    if options.get("sieve"):
        for proto in ("lmtp", "lda"):
            add(per_proto.setdefault(proto, []), ["sieve"])
    for proto, names in (options.get("plugins") or {}).items():
        add(top if proto == "*" else per_proto.setdefault(proto, []), names)
    for name in plugins:
        spec = DOVECOT_PLUGINS[name]
        if spec["global"]:
            add(top, list(spec["needs"]) + [name])
        for proto in spec["protocols"]:
            add(per_proto.setdefault(proto, []), list(spec["needs"]) + [name])
    return top, per_proto


def stock_plugins_needed(plugins, options):
    """Every stock plugin name the config loads (to check it is installed)."""
    top, per_proto = plugin_lists(plugins, options)
    names = set(top)
    for v in per_proto.values():
        names |= set(v)
    return sorted(names - set(DOVECOT_PLUGINS))


# ---- shared blocks ------------------------------------------------------------------

def _namespace(options, dialect):
    sep = options.get("separator", "/")
    prefix = options.get("prefix", "")
    lines = ["namespace inbox {", "  inbox = yes", "  separator = %s" % sep]
    if prefix:
        lines.append("  prefix = %s" % prefix)
    for name, use in SPECIAL_USE:
        lines += ["  mailbox %s {" % name, "    special_use = %s" % use]
        if name in (options.get("autocreate") or ()):
            lines.append("    auto = create")
        lines.append("  }")
    for name in options.get("autocreate") or ():
        if name not in dict(SPECIAL_USE):
            lines += ["  mailbox %s {" % _mailbox_name(name), "    auto = create", "  }"]
    lazy = options.get("lazy_expunge")
    if lazy and lazy not in (options.get("autocreate") or ()):
        lines += ["  mailbox %s {" % _mailbox_name(lazy), "    auto = create", "  }"]
    if dialect == "2.4":
        for root in options.get("quota", DEFAULT_QUOTA) or ():
            for box, rule in (root.get("mailboxes") or {}).items():
                lines += ["  mailbox %s {" % _mailbox_name(box),
                          "    quota \"%s\" {" % root["name"]]
                lines += ["      %s" % s for s in _quota_rule_24(rule)]
                lines += ["    }", "  }"]
    lines.append("}")
    return "\n".join(lines)


def _mailbox_name(name):
    return '"%s"' % name if re.search(r"[\s\"{}#]", name) else name


_SERVICES = """\
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


def _extra(options, dialect):
    extra = options.get("extra") or ""
    if isinstance(extra, dict):
        extra = extra.get(dialect, "")
    return extra


def _common_settings(options):
    """Settings written the same way in both dialects (top level: quota_full_tempfail
    is an LDA/LMTP setting, not a quota plugin one, on 2.3 too)."""
    out = []
    if "quota_full_tempfail" in options:
        out.append("quota_full_tempfail = %s" % _yesno(options["quota_full_tempfail"]))
    if "pop3_save_uidl" in options:
        out.append("pop3_save_uidl = %s" % _yesno(options["pop3_save_uidl"]))
    for key in ("lmtp_save_to_detail_mailbox", "lda_mailbox_autocreate"):
        if key in options:
            out.append("%s = %s" % (key, _yesno(options[key])))
    if "recipient_delimiter" in options:
        out.append("recipient_delimiter = %s" % options["recipient_delimiter"])
    for key, value in (options.get("settings") or {}).items():
        out.append("%s = %s" % (key, _yesno(value)))
    return out


# ---- 2.3 --------------------------------------------------------------------------

def _quota_23(options):
    """plugin {} lines of the quota roots (2.3 rules name mailboxes with the prefix)."""
    prefix = options.get("prefix", "")
    out = []
    for i, root in enumerate(options.get("quota", DEFAULT_QUOTA) or ()):
        n = "" if i == 0 else str(i + 1)
        spec = "%s:%s" % (root.get("backend", "count"), root["name"])
        if root.get("args"):
            spec += ":" + root["args"]
        out.append("quota%s = %s" % (n, spec))
        rules = []
        limits = []
        if root.get("storage") is not None:
            limits.append("storage=%s" % root["storage"])
        if root.get("messages") is not None:
            limits.append("messages=%s" % root["messages"])
        if limits:
            rules.append("*:" + ":".join(limits))
        for box, rule in (root.get("mailboxes") or {}).items():
            if rule.get("ignore"):
                rules.append("%s%s:ignore" % (prefix, box))
                continue
            parts = []
            if rule.get("storage") is not None:
                parts.append("storage=%s" % rule["storage"])
            if rule.get("storage_extra") is not None:
                parts.append("storage=+%s" % rule["storage_extra"])
            if rule.get("messages") is not None:
                parts.append("messages=%s" % rule["messages"])
            rules.append("%s%s:%s" % (prefix, box, ":".join(parts)))
        for j, rule in enumerate(rules):
            out.append("quota%s_rule%s = %s" % (n, "" if j == 0 else str(j + 1), rule))
        for key, value in (root.get("settings") or {}).items():
            out.append("quota%s_%s = %s" % (n, key, _yesno(value)))
    if out:
        out.append("quota_vsizes = yes")
    return out


def dovecot23(p, ports, plugins, policy_path, extra="", options=None, policy_setting=True):
    """dovecot.conf for Dovecot 2.3. p: Paths; ports: name -> port; plugins: our plugin
    names; options: see OPTIONS; extra: raw text appended (legacy dovecot_extra)."""
    options = check_options(options)
    top, per_proto = plugin_lists(plugins, options)
    fmt = options.get("mail_format", "maildir")
    plugin_lines = []
    if plugins and policy_setting:
        plugin_lines.append("mailpolicy_config = %s" % policy_path)
    plugin_lines += _quota_23(options)
    if options.get("lazy_expunge"):
        plugin_lines.append("lazy_expunge = %s%s" % (options.get("prefix", ""),
                                                     options["lazy_expunge"]))
    if options.get("sieve"):
        plugin_lines.append("sieve = file:~/sieve;active=~/.dovecot.sieve")
    for key, value in (options.get("plugin_settings") or {}).items():
        plugin_lines.append("%s = %s" % (key, _yesno(value)))
    proto_blocks = []
    for proto in PROTOCOLS:
        lines = []
        if per_proto.get(proto):
            lines.append("  mail_plugins = $mail_plugins %s" % " ".join(per_proto[proto]))
        if proto == "lmtp":
            lines.append("  postmaster_address = postmaster@example.com")
        if lines:
            proto_blocks.append("protocol %s {\n%s\n}" % (proto, "\n".join(lines)))
    uidl = uidl_formats(options.get("pop3_uidl_format", "uid-uidvalidity"))[0]
    users = p.i("etc", "dovecot", "users")
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
mail_location = {fmt}:~/{fmtdir}
mail_plugin_dir = {plugin_dir}
# Every mail process: before the protocol blocks, which expand $mail_plugins.
mail_plugins = $mail_plugins {top}
pop3_uidl_format = {uidl}
{common}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {users}
}}
userdb {{
  driver = dict
  args = {dict_conf}
}}

{namespace}

{services}
plugin {{
{plugin_lines}
}}

{proto_blocks}
{extra}
""".format(
        name=p.inner.rstrip("/").rsplit("/", 1)[-1],
        base_dir=p.i("run", "dovecot"), state_dir=p.i("lib", "dovecot"),
        log=p.i("log", "dovecot.log"), cert=p.i("etc", "ssl", "cert.pem"),
        key=p.i("etc", "ssl", "key.pem"), uid=MAIL_UID, plugin_dir=p.i("modules"),
        fmt=fmt, fmtdir="Maildir" if fmt == "maildir" else fmt,
        top=" ".join(top), uidl=uidl.replace("%", "%"),
        common="\n".join(_common_settings(options)),
        users=users, dict_conf=p.i("etc", "dovecot", "userdb-dict.conf"),
        namespace=_namespace(options, "2.3"),
        services=_SERVICES % dict(ports, extra_services=""),
        plugin_lines="\n".join("  " + ln for ln in plugin_lines),
        proto_blocks="\n".join(proto_blocks),
        extra="\n".join(x for x in (extra or "", _extra(options, "2.3")) if x))


# ---- 2.4 --------------------------------------------------------------------------

def _plugin_block(names, indent):
    pad = " " * indent
    return "%smail_plugins {\n%s\n%s}" % (pad, "\n".join(
        "%s  %s = yes" % (pad, n) for n in names), pad)


def _quota_rule_24(rule):
    if rule.get("ignore"):
        return ["quota_ignore = yes"]
    out = []
    if rule.get("storage") is not None:
        out.append("quota_storage_size = %s" % rule["storage"])
    if rule.get("storage_extra") is not None:
        out.append("quota_storage_extra = %s" % rule["storage_extra"])
    if rule.get("messages") is not None:
        out.append("quota_message_count = %s" % rule["messages"])
    return out


def _quota_24(options):
    """Top-level quota lines. The first root's limits stay at top level, where a
    userdb value (userdb_quota_storage_size) can override them; inside the root's
    block they would win over the userdb."""
    out = []
    for i, root in enumerate(options.get("quota", DEFAULT_QUOTA) or ()):
        inner = ["  driver = %s" % root.get("backend", "count")]
        if root.get("args"):
            inner.append("  # args (2.3 only): %s" % root["args"])
        limits = []
        if root.get("storage") is not None:
            limits.append("quota_storage_size = %s" % root["storage"])
        if root.get("messages") is not None:
            limits.append("quota_message_count = %s" % root["messages"])
        if i == 0:
            out += limits
        else:
            # A top-level limit applies to every root: the others say their own.
            if root.get("storage") is None:
                limits.append("quota_storage_size = unlimited")
            if root.get("messages") is None:
                limits.append("quota_message_count = unlimited")
            inner += ["  " + x for x in limits]
        for key, value in (root.get("settings") or {}).items():
            inner.append("  %s = %s" % (key, _yesno(value)))
        out += ['quota "%s" {' % root["name"]] + inner + ["}"]
    return out


def dovecot24(p, ports, plugins, policy_path, extra="", options=None, policy_setting=True):
    """dovecot.conf for Dovecot 2.4 (Debian 13), the same stack as dovecot23 in the
    2.4 dialect. Our plugins' own setting (mailpolicy_config) exists only when a
    settings module declares it (policy_setting): 2.4 rejects unknown settings."""
    options = check_options(options)
    top, per_proto = plugin_lists(plugins, options)
    fmt = options.get("mail_format", "maildir")
    proto_blocks = []
    for proto in PROTOCOLS:
        if per_proto.get(proto):
            proto_blocks.append("protocol %s {\n%s\n}" % (
                proto, _plugin_block(per_proto[proto], 2)))
    if plugins and policy_setting:
        policy_line = "mailpolicy_config = %s" % policy_path
    elif plugins:
        policy_line = ("# mailpolicy_config not written: no settings module under "
                       "BUILD_DIR/debian13/modules/settings declares it")
    else:
        policy_line = "# mailpolicy_config: set only when one of our plugins is loaded"
    more = _quota_24(options) + _common_settings(options)
    uidl = options.get("pop3_uidl_format")
    if uidl is not None:
        more.append("pop3_uidl_format = %s" % uidl_formats(uidl)[1])
    if options.get("lazy_expunge"):
        more.append("lazy_expunge_mailbox = %s%s" % (options.get("prefix", ""),
                                                      options["lazy_expunge"]))
    if options.get("sieve"):
        more += ["sieve_script personal {", "  driver = file", "  path = ~/sieve",
                 "  active_path = ~/.dovecot.sieve", "}"]
    for key, value in (options.get("plugin_settings") or {}).items():
        more.append("%s = %s" % (key, _yesno(value)))
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
mail_driver = {fmt}
mail_path = ~/{fmtdir}
mail_plugin_dir = {plugin_dir}
{top_plugins}

passdb passwd-file {{
  passwd_file_path = {users}
}}
userdb passwd-file {{
  passwd_file_path = {users}
}}

{namespace}

{services}
{more}
{policy_line}

{proto_blocks}
{extra}
""".format(
        name=p.inner.rstrip("/").rsplit("/", 1)[-1],
        base_dir=p.i("run", "dovecot"), state_dir=p.i("lib", "dovecot"),
        log=p.i("log", "dovecot.log"), cert=p.i("etc", "ssl", "cert.pem"),
        key=p.i("etc", "ssl", "key.pem"), uid=MAIL_UID, plugin_dir=p.i("modules"),
        fmt=fmt, fmtdir="Maildir" if fmt == "maildir" else fmt,
        top_plugins=_plugin_block(top, 0) if top else "# no mail_plugins",
        users=p.i("etc", "dovecot", "users"),
        namespace=_namespace(options, "2.4"),
        services=_SERVICES % dict(ports, extra_services=_SUBMISSION_OFF),
        more="\n".join(more), policy_line=policy_line,
        proto_blocks="\n".join(proto_blocks),
        extra="\n".join(x for x in (extra or "", _extra(options, "2.4")) if x))


WRITERS = {"2.3": dovecot23, "2.4": dovecot24}


def quota_fields(dialect, storage=None, messages=None):
    """Userdb fields that set one user's quota (first root) on this dialect."""
    out = {}
    if dialect == "2.3":
        limits = [x for x in (storage and "storage=%s" % storage,
                              messages is not None and "messages=%s" % messages) if x]
        if limits:
            out["quota_rule"] = "*:" + ":".join(limits)
    else:
        if storage is not None:
            out["quota_storage_size"] = str(storage)
        if messages is not None:
            out["quota_message_count"] = str(messages)
    return out
