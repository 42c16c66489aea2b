"""What tests do to a running stack between and during tests: reset it to a
fresh state, look into mailboxes and the queue, wait for a delivery."""

import os
import shutil
import time

from . import probe, procs
from .layout import Account, DEFAULT_ACCOUNTS
from .procs import HarnessError

# Dovecot processes that hold a user's mailbox open.
MAIL_PROCESSES = {"imap", "pop3"}


class MailOps:
    """Mixed into Stack."""

    def account(self, who):
        """The Account for an address or local part (or an Account)."""
        if isinstance(who, Account):
            return who
        for a in self.accounts:
            if who in (a.address, a.local):
                return a
        raise HarnessError("no test account %r" % who)

    def mail_home(self, who):
        """Host path of an account's home (its Maildir is below)."""
        a = self.account(who)
        return self.paths.h("mail", a.domain, a.local)

    def reset(self, accounts=None, policy_text=None):
        """A fresh state for the next test, without restarting Dovecot: empty
        queue, users logged out, mail directories wiped, the default accounts
        (or `accounts`) and the session's policy back, Redis emptied. Changing
        the accounts restarts Postfix and takes up to a second more."""
        running = self.running()
        if "postfix" in running:
            self.cmd(["postsuper", "-c", self.postfix_dir(), "-d", "ALL"], check=False)
        if "dovecot" in running:
            self.kick_all()
        mail = self.paths.h("mail")
        if os.path.isdir(mail):
            for entry in os.listdir(mail):
                shutil.rmtree(os.path.join(mail, entry), ignore_errors=True)
        wanted = list(accounts or DEFAULT_ACCOUNTS)
        if [(a.address, a.password, a.extra) for a in wanted] != \
                [(a.address, a.password, a.extra) for a in self.accounts]:
            self.write_users(wanted)
            self._save_state()
        if policy_text is not None and policy_text != self.state.get("policy_text"):
            self.set_policy(text=policy_text)
            self._save_state()
            if "milter" in running:
                self.start(["milter"])
        if "redis" in running:
            probe.redis_command(self.ports["redis"], "FLUSHALL")

    def kick_all(self, timeout=5.0):
        """Disconnect every IMAP/POP3 session and wait until their processes are gone,
        so that no process keeps a stale view of a mailbox that is about to be wiped."""
        self.doveadm("kick", "127.0.0.0/8", check=False)
        sid = procs.session_id(self.state["pids"]["dovecot"])
        deadline = time.monotonic() + timeout
        while True:
            busy = [pid for pid, comm in procs.session_members(sid) if comm in MAIL_PROCESSES]
            if not busy:
                return
            if time.monotonic() > deadline:
                procs.terminate(busy, grace=1.0)
                return
            time.sleep(0.05)

    def message_count(self, who, mailbox="INBOX"):
        """Messages in an account's mailbox, as Dovecot counts them (0 if it does not exist)."""
        a = self.account(who)
        proc = self.doveadm("-f", "flow", "mailbox", "status", "-u", a.address, "messages",
                            mailbox, check=False)
        for word in proc.stdout.split():
            if word.startswith("messages="):
                return int(word.split("=", 1)[1])
        return 0

    def wait_for_messages(self, who, count=1, mailbox="INBOX", timeout=10.0):
        """Wait until the mailbox holds at least count messages; return the count.
        On timeout raise HarnessError with the queue and the log tails."""
        deadline = time.monotonic() + timeout
        while True:
            n = self.message_count(who, mailbox)
            if n >= count:
                return n
            if time.monotonic() > deadline:
                raise HarnessError("%s has %d message(s) in %s after %.0f s, expected %d\n"
                                   "queue: %s\n%s" % (self.account(who).address, n, mailbox,
                                                      timeout, count, self.queue() or "empty",
                                                      self.log_tail(15, ["postfix", "dovecot"])))
            time.sleep(0.1)

    def queue(self):
        """Postfix's queue listing (postqueue -p), empty string when the queue is empty."""
        out = self.cmd(["postqueue", "-c", self.postfix_dir(), "-p"], check=False).stdout
        return "" if "Mail queue is empty" in out else out.strip()

    def wait_queue_empty(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.queue():
            if time.monotonic() > deadline:
                raise HarnessError("queue not empty after %.0f s:\n%s" % (timeout, self.queue()))
            time.sleep(0.1)
