"""mailstack: the real-server test harness of mailpolicy (see tests/harness/README.md)."""

from .dovecot_conf import MAILDIR_PLUS_PLUS
from .layout import DEFAULT_ACCOUNTS, LOCAL_DOMAINS, PORTS, SMTP_LISTENERS, Account
from .procs import HarnessError
from .stack import PARTS, Stack

__all__ = ["Account", "DEFAULT_ACCOUNTS", "HarnessError", "LOCAL_DOMAINS", "MAILDIR_PLUS_PLUS",
           "PARTS", "PORTS", "SMTP_LISTENERS", "Stack"]
