"""What tests do to a running stack between and during tests: reset it to a
fresh state, change accounts, deliver mail (LDA, doveadm save, LMTP, Sieve),
look into mailboxes and the queue, read doveadm tables, wait for a delivery
or a log line. Every helper raises HarnessError (with the command's output)
when what it runs fails: a broken server never looks like an empty mailbox."""

import copy
import os
import re
import shutil
import time

from . import clients, dovecot_conf, probe, procs
from .layout import Account, DEFAULT_ACCOUNTS
from .procs import HarnessError

# Dovecot processes that hold a user's mailbox open.
MAIL_PROCESSES = {"imap", "pop3"}
LDA = "/usr/lib/dovecot/dovecot-lda"
# doveadm's answer for a mailbox that does not exist (2.3 and 2.4).
_NO_MAILBOX = re.compile(r"Mailbox doesn't exist|Mailbox not found")


class MailOps:
    """Mixed into Stack."""

    # ---- accounts ----------------------------------------------------------------

    def account(self, who):
        """The Account for an address or local part (or an Account)."""
        if isinstance(who, Account):
            return who
        for a in self.accounts:
            if who in (a.address, a.local):
                return a
        raise HarnessError("no test account %r (accounts: %s)" % (
            who, ", ".join(a.address for a in self.accounts)))

    def mail_home(self, who):
        """Host path of an account's home (its mail is below)."""
        a = self.account(who)
        return self.paths.h("mail", a.domain, a.local)

    def set_userdb(self, who, fields):
        """Set userdb fields of one account, keeping the others and every other
        account: {name: value} (value None removes the field). Names are written
        without a prefix (the harness adds 2.4's userdb_); values are plain text,
        spaces included (the harness quotes them). Dovecot sees the change at the
        next login or delivery; nothing restarts. Inside a test it is undone when
        the test ends. Returns the account's fields."""
        target = self.account(who).address
        accounts = [copy.deepcopy(a) for a in self.accounts]
        for a in accounts:
            if a.address == target:
                for key, value in fields.items():
                    key = key[len("userdb_"):] if key.startswith("userdb_") else key
                    a.extra.pop("userdb_" + key, None)
                    if value is None:
                        a.extra.pop(key, None)
                    else:
                        a.extra[key] = str(value)
                result = dict(a.extra)
        self.write_users(accounts)
        return result

    def userdb(self, who):
        """The userdb fields Dovecot returns for an account (`doveadm user`, which also
        sets the user up, so a value the user's settings cannot take fails here):
        what a plugin reads as its per-user overrides (uid, gid, home included).
        On 2.3 a %% of the userdb (the harness's escape of %) is shown as %."""
        out = self.doveadm("user", self.account(who).address).stdout
        fields = {}
        for line in out.splitlines()[1:]:
            if "\t" in line:
                key, value = line.split("\t", 1)
                fields[key] = value.replace("%%", "%") if self.dialect == "2.3" else value
        return fields

    def quota_fields(self, storage=None, messages=None):
        """Userdb fields giving one user another quota (first root), for set_userdb."""
        return dovecot_conf.quota_fields(self.dialect, storage, messages)

    # ---- reset ---------------------------------------------------------------------

    def reset(self, accounts=None, policy_text=None):
        """A fresh state for the next test, without touching the servers'
        configuration: empty queue, users logged out, mail wiped, Redis emptied,
        the baseline's accounts (or the default ones, or `accounts`) and the
        baseline's policy (or `policy_text`) back. Changing the addresses restarts
        Postfix; changing the policy restarts a milter that reads it. (The pytest
        plugin runs restore(baseline), then reset(), before every test.)"""
        base = self.baseline
        if accounts is None:
            accounts = [Account(*a) for a in base["accounts_full"]] if base is not None \
                else [copy.deepcopy(a) for a in DEFAULT_ACCOUNTS]
        if policy_text is None and base is not None:
            policy_text = base["policy_text"]
        self.reset_mail()
        if [(a.address, a.password, a.extra) for a in accounts] != \
                [(a.address, a.password, a.extra) for a in self.accounts]:
            self.write_users(accounts)
        if policy_text is not None and policy_text != self.state.get("policy_text"):
            self.state["policy_text"] = policy_text
            self._apply()

    def reset_mail(self):
        """Empty queue, every IMAP/POP3 session ended, all mail (and Sieve scripts)
        wiped, Redis emptied; the configuration is left as it is."""
        running = self.running()
        if "postfix" in running:
            self.cmd(["postsuper", "-c", self.postfix_dir(), "-d", "ALL"])
        if "dovecot" in running:
            self.kick_all()
        mail = self.paths.h("mail")
        if os.path.isdir(mail):
            for entry in os.listdir(mail):
                shutil.rmtree(os.path.join(mail, entry))
        if "redis" in running:
            reply = probe.redis_command(self.ports["redis"], "FLUSHALL")
            if reply != "+OK":
                raise HarnessError("Redis FLUSHALL answered %r" % reply)

    def kick_all(self, timeout=5.0):
        """Disconnect every IMAP/POP3 session and wait until their processes are gone,
        so that no process keeps a stale view of a mailbox that is about to be wiped."""
        pid = self.state["pids"].get("dovecot")
        if not procs.alive(pid):
            return
        self.doveadm("kick", "127.0.0.0/8", check=False)
        sid = procs.session_id(pid)
        deadline = time.monotonic() + timeout
        while True:
            busy = [p for p, comm in procs.session_members(sid) if comm in MAIL_PROCESSES]
            if not busy:
                return
            if time.monotonic() > deadline:
                procs.terminate(busy, grace=1.0)
                return
            time.sleep(0.05)

    # ---- looking into mailboxes and the queue -----------------------------------------

    def message_count(self, who, mailbox="INBOX"):
        """Messages in an account's mailbox, as Dovecot counts them; 0 when doveadm
        says the mailbox does not exist; HarnessError on any other failure."""
        a = self.account(who)
        proc = self.doveadm("-f", "flow", "mailbox", "status", "-u", a.address, "messages",
                            mailbox, check=False)
        if proc.returncode != 0:
            if _NO_MAILBOX.search(proc.stderr + proc.stdout):
                return 0
            raise HarnessError("doveadm mailbox status failed (exit %d) for %s %s:\n%s%s" % (
                proc.returncode, a.address, mailbox, proc.stdout, proc.stderr))
        for word in proc.stdout.split():
            if word.startswith("messages="):
                return int(word.split("=", 1)[1])
        raise HarnessError("doveadm mailbox status printed no messages= for %s %s: %r" % (
            a.address, mailbox, proc.stdout))

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
        """Postfix's queue listing (postqueue -p), empty string when the queue is
        empty; HarnessError when postqueue fails."""
        out = self.cmd(["postqueue", "-c", self.postfix_dir(), "-p"]).stdout
        if "Mail queue is empty" in out:
            return ""
        if not out.strip():
            raise HarnessError("postqueue -p printed nothing (is Postfix running?)")
        return out.strip()

    def wait_queue_empty(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.queue():
            if time.monotonic() > deadline:
                raise HarnessError("queue not empty after %.0f s:\n%s" % (timeout, self.queue()))
            time.sleep(0.1)

    def doveadm_rows(self, *args, timeout=60):
        """Run `doveadm -f tab ARGS` and parse its table: a list of {column: value},
        one per row. Raises on failure, on timeout, and when a row does not have
        as many fields as the header (a value with a tab or a line break)."""
        proc = self.doveadm("-f", "tab", *args, timeout=timeout)
        lines = proc.stdout.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            return []
        header = lines[0].split("\t")
        rows = []
        for n, line in enumerate(lines[1:], 2):
            fields = line.split("\t")
            if len(fields) != len(header):
                raise HarnessError("doveadm -f tab %s: line %d has %d fields, the header %d "
                                   "(%s):\n%s" % (" ".join(args), n, len(fields), len(header),
                                                  "\t".join(header), proc.stdout[:2000]))
            rows.append(dict(zip(header, fields)))
        return rows

    # ---- delivery ------------------------------------------------------------------

    def deliver_lda(self, who, message, mailbox=None, sender=None, args=(), check=True,
                    timeout=30):
        """Deliver message (bytes) with dovecot-lda -d ADDRESS [-m MAILBOX], as an MTA's
        local delivery does (Sieve runs when the sieve option is on). Returns the
        CompletedProcess; raises on a non-zero exit unless check=False (then exit
        75 is a temporary failure, 77 a permanent one, e.g. over quota)."""
        # -e: a refusal is an exit code and a reason on stderr, never a bounce
        # that dovecot-lda would send through the machine's own sendmail.
        argv = [LDA, "-c", self.dovecot_conf(), "-e", "-d", self.account(who).address]
        if mailbox:
            argv += ["-m", mailbox]
        if sender:
            argv += ["-f", sender]
        return self.cmd(argv + list(args), check=check, timeout=timeout, input=message)

    def doveadm_save(self, who, message, mailbox="INBOX", check=True, timeout=30):
        """Save message (bytes) into mailbox with `doveadm save` (no Sieve, no
        delivery rules: a plain save through lib-storage, quota applies)."""
        return self.doveadm("save", "-u", self.account(who).address, "-m", mailbox,
                            check=check, timeout=timeout, input=message)

    def lmtp_send(self, rcpts, message, sender="sender@example.net"):
        """Deliver over LMTP to the stack's Dovecot; {recipient: (code, text)} with the
        RCPT reply of a refused recipient or the per-recipient reply after DATA
        (user+detail@ addresses work: recipient_delimiter is +)."""
        return clients.lmtp_send(self, rcpts, message, sender)

    def set_sieve(self, who, script, check=True):
        """Make script (Sieve text) the account's active script, where the `sieve`
        option looks for it (~/sieve/harness.sieve, ~/.dovecot.sieve links to it).
        check: compile it first with sievec and raise with its errors. None removes it."""
        home = self.mail_home(who)
        uid = dovecot_conf.MAIL_UID
        link = os.path.join(home, ".dovecot.sieve")
        sieve_dir = os.path.join(home, "sieve")
        if script is None:
            if os.path.lexists(link):
                os.unlink(link)
            return None
        for d in (os.path.dirname(home), home, sieve_dir):
            if not os.path.isdir(d):
                os.makedirs(d)
                os.chown(d, uid, uid)
        path = os.path.join(sieve_dir, "harness.sieve")
        with open(path, "w") as f:
            f.write(script)
        os.chown(path, uid, uid)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink("sieve/harness.sieve", link)
        os.lchown(link, uid, uid)
        if check:
            inner = os.path.join(self.paths.i("mail"), self.account(who).domain,
                                 self.account(who).local, "sieve", "harness.sieve")
            proc = self.cmd(["sievec", inner], check=False)
            if proc.returncode != 0:
                raise HarnessError("the Sieve script does not compile:\n%s%s" % (
                    proc.stdout, proc.stderr))
            binary = path[:-len(".sieve")] + ".svbin"
            if os.path.exists(binary):
                os.chown(binary, uid, uid)
        return path

    # ---- logs ----------------------------------------------------------------------

    def wait_for_log(self, pattern, logs=None, since=None, timeout=10.0):
        """Wait until a line matching pattern (a regex, str or compiled) appears in
        one of the logs (names as in log_files(): dovecot, postfix, redis, milter,
        milter-NAME; default all) after since (offsets from log_offsets(); default
        the start of the current test, else the start of the logs). Returns the
        re.Match (.string is the whole line). Raises HarnessError on timeout."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        if since is None:
            since = self.test_offsets or {}
        pos = dict(since)
        partial = {}
        deadline = time.monotonic() + timeout
        while True:
            files = self.log_files()
            for name in (logs or sorted(files)):
                path = files.get(name)
                if path is None:
                    continue
                try:
                    with open(path, "rb") as f:
                        f.seek(pos.get(name, 0))
                        data = f.read()
                except OSError:
                    continue
                pos[name] = pos.get(name, 0) + len(data)
                text = partial.pop(name, "") + data.decode(errors="replace")
                lines = text.split("\n")
                if lines[-1]:
                    partial[name] = lines[-1]
                for line in lines[:-1]:
                    m = regex.search(line)
                    if m:
                        return m
            if time.monotonic() > deadline:
                raise HarnessError("no line matching %r in %s after %.0f s\n%s" % (
                    regex.pattern, ", ".join(logs or sorted(files)), timeout,
                    self.log_tail(20, logs)))
            time.sleep(0.05)
