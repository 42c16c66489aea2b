"""Postfix configuration of a test stack: main.cf and master.cf in a private directory.

Four smtpd listeners stand for the ports a provider runs: mx (25: no AUTH,
STARTTLS offered), submission on 587 and 26 (STARTTLS required before AUTH,
SASL through Dovecot's auth socket), submissions (465: implicit TLS). Each sets
milter_macro_daemon_name to its listener label so the milter can match it.
Mail for the local domains goes over LMTP to the stack's Dovecot; everything
else is discarded, so nothing leaves the machine and nothing bounces.
"""

from .layout import LOCAL_DOMAINS, SMTP_LISTENERS


def virtual_mailboxes(accounts):
    """texthash map of the addresses that exist (unknown users: 550 at RCPT)."""
    return "".join("%s OK\n" % a.address for a in accounts)


def main_cf(p, ports, milter=False, overrides=None, milters=None):
    """main.cf text. milters: Postfix milter addresses (inet:HOST:PORT, unix:PATH) for
    smtpd_milters, in order; milter=True is the legacy form for the default milter."""
    if milters is None:
        milters = ["inet:127.0.0.1:%d" % ports["milter"]] if milter else []
    settings = [
        ("compatibility_level", "3.6"),
        ("queue_directory", p.i("spool", "postfix")),
        ("data_directory", p.i("lib", "postfix")),
        ("mail_owner", "postfix"),
        ("setgid_group", "postdrop"),
        ("myhostname", "mail.example.net"),
        ("mydomain", "example.net"),
        ("myorigin", "$myhostname"),
        ("mydestination", ""),
        ("inet_interfaces", "loopback-only"),
        ("inet_protocols", "ipv4"),
        # Only the listeners' own restrictions decide relaying; loopback is not trusted.
        ("mynetworks", "127.0.0.1/32"),
        ("maillog_file", p.i("log", "postfix.log")),
        ("maillog_file_prefixes", p.i("log")),
        ("alias_maps", ""),
        ("alias_database", ""),
        ("biff", "no"),
        ("append_dot_mydomain", "no"),
        ("smtpd_banner", "$myhostname ESMTP Postfix (mailpolicy test stack)"),
        ("virtual_mailbox_domains", " ".join(LOCAL_DOMAINS)),
        ("virtual_mailbox_maps", "texthash:" + p.i("etc", "postfix", "virtual_mailboxes")),
        ("virtual_transport", "lmtp:inet:127.0.0.1:%d" % ports["lmtp"]),
        ("default_transport", "discard:"),
        ("relay_transport", "discard:"),
        ("smtpd_relay_restrictions", "permit_sasl_authenticated, reject_unauth_destination"),
        ("smtpd_tls_cert_file", p.i("etc", "ssl", "cert.pem")),
        ("smtpd_tls_key_file", p.i("etc", "ssl", "key.pem")),
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_loglevel", "1"),
        ("smtpd_tls_received_header", "yes"),
        ("smtpd_tls_session_cache_database", ""),
        ("smtpd_sasl_type", "dovecot"),
        ("smtpd_sasl_path", p.i("run", "dovecot", "auth-postfix")),
        ("smtpd_sasl_auth_enable", "no"),
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_authorized_xclient_hosts", "127.0.0.1"),
        ("smtpd_milters", " ".join(milters)),
        ("milter_default_action", "tempfail"),
        # user+detail@ is the user's address (LMTP then may save into `detail`).
        ("recipient_delimiter", "+"),
        # Read by the bench listener (master.cf): the {daemon_name} it gives milters.
        ("mp_bench_daemon_name", "mx"),
        ("delay_warning_time", "0"),
        ("queue_run_delay", "10s"),
        ("minimal_backoff_time", "10s"),
        ("lmtp_tls_security_level", "none"),
    ]
    for key, value in (overrides or {}).items():
        settings = [(k, v) for k, v in settings if k != key] + [(key, value)]
    body = "".join("%s = %s\n" % kv for kv in settings)
    return "# Written by tests/harness (mailstack): the Postfix of a test stack.\n" + body


def _smtpd(port, syslog_label, daemon_name, opts):
    opts = [("syslog_name", "postfix/" + syslog_label), ("milter_macro_daemon_name", daemon_name)] + opts
    return "127.0.0.1:%d inet n - n - - smtpd\n%s" % (
        port, "".join("  -o %s=%s\n" % kv for kv in opts))


_SUBMISSION = [
    ("smtpd_tls_security_level", "encrypt"),
    ("smtpd_sasl_auth_enable", "yes"),
    ("smtpd_client_restrictions", "permit_sasl_authenticated,reject"),
]

# The stock services, every one with chroot = n: absolute paths must work.
_STOCK = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


_LISTENER_OPTS = {
    "mx": [("smtpd_sasl_auth_enable", "no")],
    "submission": _SUBMISSION,
    "submission26": _SUBMISSION,
    "submissions": [("smtpd_tls_wrappermode", "yes"),
                    ("smtpd_sasl_auth_enable", "yes"),
                    ("smtpd_client_restrictions", "permit_sasl_authenticated,reject")],
}


# The load listener of the bench helper: smtp-source speaks neither TLS nor AUTH,
# and everything it sends is accepted and relayed to discard:.
_BENCH_OPTS = [("smtpd_tls_security_level", "none"), ("smtpd_sasl_auth_enable", "no"),
               ("smtpd_client_restrictions", ""), ("smtpd_helo_restrictions", ""),
               ("smtpd_sender_restrictions", ""),
               # The load comes from 127.0.0.1, which mynetworks lets relay.
               ("smtpd_relay_restrictions", "permit_mynetworks,reject_unauth_destination")]


def master_cf(ports):
    smtpd = "".join(_smtpd(ports[name], name, label, _LISTENER_OPTS[name])
                    for name, (label, _) in SMTP_LISTENERS.items())
    smtpd += _smtpd(ports["bench"], "bench", "$mp_bench_daemon_name", _BENCH_OPTS)
    return "# Written by tests/harness (mailstack).\n" + smtpd + _STOCK
