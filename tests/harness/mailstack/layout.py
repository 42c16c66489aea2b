"""Ports, test accounts and runtime paths of one stack: the facts tests and the demo show users.

Ports are loopback high ports: base + the standard port number, so 20143 is IMAP
on a stack with base 20000 and 20025 stands for port 25. Two stacks with
different bases can run side by side.
"""

import os

# name -> (offset from the port base, what it stands for)
PORTS = {
    "imap": (143, "IMAP (plain, STARTTLS offered)"),
    "imaps": (993, "IMAPS (implicit TLS)"),
    "pop3": (110, "POP3 (plain, STLS offered)"),
    "pop3s": (995, "POP3S (implicit TLS)"),
    "lmtp": (24, "LMTP into Dovecot (Postfix delivers here)"),
    "mx": (25, "SMTP, stands for port 25 (MX, no AUTH)"),
    "submission": (587, "submission, stands for 587 (STARTTLS, then AUTH)"),
    "submission26": (26, "submission, stands for 26 (STARTTLS, then AUTH)"),
    "submissions": (465, "submissions, stands for 465 (implicit TLS, AUTH)"),
    "bench": (525, "SMTP load listener: no TLS, no AUTH, relays anything to discard:"),
    "redis": (379, "Redis (only when asked for)"),
    "milter": (893, "mailpolicy-milter (only when asked for; more milters: 894-899)"),
}

# The real port each SMTP listener stands for, as the milter's policy names it.
SMTP_LISTENERS = {
    "mx": ("mx", 25),
    "submission": ("submission", 587),
    "submission26": ("submission", 26),
    "submissions": ("submissions", 465),
}

LOCAL_DOMAINS = ("example.com", "example.org")


class Account:
    """One test mailbox: full address as login, a known password, optional userdb extra fields."""

    def __init__(self, address, password, extra=None):
        self.address = address
        self.password = password
        self.extra = dict(extra or {})

    @property
    def local(self):
        return self.address.split("@", 1)[0]

    @property
    def domain(self):
        return self.address.split("@", 1)[1]

    def __repr__(self):
        return "Account(%r)" % self.address


# alice: default policy blocks; bob: the example.org domain blocks; ceo: a user block
# (see the sample policy in DESIGN.md). carol and dave are spares for tests that
# need a second mailbox in the same domain.
DEFAULT_ACCOUNTS = (
    Account("alice@example.com", "alice-secret"),
    Account("carol@example.com", "carol-secret"),
    Account("bob@example.org", "bob-secret"),
    Account("ceo@example.org", "ceo-secret"),
    Account("dave@example.org", "dave-secret"),
)


def ports_for(base):
    return {name: base + off for name, (off, _) in PORTS.items()}


class Paths:
    """Where a stack keeps its state. `inner` is the directory as the daemons see it
    (inside the chroot for a chroot platform); `host` is the same directory seen
    from the host, where the harness reads and writes."""

    def __init__(self, inner, host):
        self.inner = inner.rstrip("/")
        self.host = host.rstrip("/")

    def i(self, *rel):
        """Path as the daemons see it."""
        return os.path.join(self.inner, *rel)

    def h(self, *rel):
        """Path as the harness sees it."""
        return os.path.join(self.host, *rel)
