"""Presentation for the demo: sections, commentary, and protocol transcripts.

A transcript shows what the client sent (`C:`) and what the server answered
(`S:`), the way an admin reads a swaks or telnet session. The talk classes
wrap smtplib, poplib and imaplib so that every command is both performed for
real and printed; passwords are masked.
"""

import base64
import imaplib
import os
import poplib
import re
import shlex
import smtplib
import sys
import textwrap

from . import clients
from .probe import client_tls_context

WIDTH = 78


class Tour:
    """Prints the tour; remembers the steps that did not go as the commentary says."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.problems = []
        self.number = 0

    def write(self, text=""):
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except BrokenPipeError:
            # `make demo | head`: stop printing, but finish (and clean up) all the same.
            self.out = open(os.devnull, "w")

    def section(self, title):
        self.number += 1
        head = "== %d. %s " % (self.number, title)
        self.write()
        self.write(head + "=" * max(3, WIDTH - len(head)))

    def say(self, text):
        """A paragraph of commentary."""
        self.write()
        for para in textwrap.dedent(text).strip().split("\n\n"):
            self.write(textwrap.fill(" ".join(para.split()), WIDTH))

    def not_built(self, what, path, meanwhile):
        self.write()
        self.write("  [not built yet] %s (no %s)" % (what, path))
        self.say(meanwhile)

    def shell(self, display, proc):
        """Show a command as an admin types it and what it printed."""
        self.write()
        self.write("  $ " + (display if isinstance(display, str) else shlex.join(display)))
        text = (proc.stdout or "") + (proc.stderr or "")
        for line in text.rstrip("\n").splitlines():
            self.write("    " + line)
        if not text.strip() and proc.returncode == 0:
            self.write("    (no output, exit status 0)")
        if proc.returncode != 0:
            self.write("    (exit status %d)" % proc.returncode)

    def expect(self, ok, what):
        """Record a step that did not behave as described (the demo then exits 1)."""
        if not ok:
            self.problems.append(what)
            self.write("  !! UNEXPECTED: %s" % what)
        return ok

    def lines(self, prefix, text):
        for line in text.splitlines() or [""]:
            self.write("    %s %s" % (prefix, line))


def _text(data):
    return data.decode(errors="replace") if isinstance(data, bytes) else str(data)


class SmtpTalk:
    """One SMTP session on a listener, printed as a transcript."""

    def __init__(self, tour, stack, listener, source=None):
        self.tour = tour
        port = stack.ports[listener]
        src = (source, 0) if source else None
        tour.write()
        if listener == "submissions":
            tour.write("  (connect to 127.0.0.1:%d; TLS starts at once)" % port)
            self.conn = smtplib.SMTP_SSL(context=client_tls_context(), timeout=clients.TIMEOUT,
                                         source_address=src)
        else:
            tour.write("  (connect to 127.0.0.1:%d)" % port)
            self.conn = smtplib.SMTP(timeout=clients.TIMEOUT, source_address=src)
        self.conn._host = clients.HOST  # the TLS handshake names the server by it
        self.reply(*self.conn.connect(clients.HOST, port))

    def cmd(self, line, shown=None):
        """Send one command line; print it and the reply; return (code, text)."""
        self.tour.lines("C:", shown or line)
        code, text = self.conn.docmd(line)
        self.reply(code, text)
        return code, _text(text)

    def reply(self, code, text):
        lines = _text(text).splitlines() or [""]
        for i, line in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            self.tour.write("    S: %d%s%s" % (code, sep, line))

    def ehlo(self, name="client.example.net"):
        """EHLO; the extension list is printed on one line."""
        self.tour.lines("C:", "EHLO " + name)
        code, text = self.conn.ehlo(name)
        lines = _text(text).splitlines()
        self.tour.write("    S: %d-%s" % (code, lines[0]))
        offers = [ln.split(" ", 1)[0] if not ln.startswith("AUTH") else ln for ln in lines[1:]]
        self.tour.write("    S: %d ... extensions: %s" % (code, ", ".join(offers)))
        return code, _text(text)

    def starttls(self):
        self.tour.lines("C:", "STARTTLS")
        code, text = self.conn.starttls(context=client_tls_context())
        self.reply(code, text)
        self.tour.write("    (TLS handshake: %s)" % self.conn.sock.version())
        return code, _text(text)

    def auth_plain(self, user, password):
        token = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
        return self.cmd("AUTH PLAIN " + token, "AUTH PLAIN <%s, password %s>" % (
            user, "*" * len(password)))

    def rcpt_many(self, rcpt, count, shown=2):
        """RCPT TO the same address count times; prints the first and last
        `shown` exchanges and a count of the rest. Returns the codes."""
        codes = []
        for i in range(count):
            line = "RCPT TO:<%s>" % rcpt
            code, text = self.conn.docmd(line)
            codes.append(code)
            if i < shown or i >= count - shown:
                self.tour.lines("C:", line)
                self.reply(code, text)
            elif i == shown:
                self.tour.write("    ... %d more RCPT TO:<%s>, each answered as below ..." % (
                    count - 2 * shown, rcpt))
        return codes

    def data(self, sender, rcpt, subject):
        """DATA with a short message; returns the final reply code."""
        self.tour.lines("C:", "DATA")
        code, text = self.conn.docmd("DATA")
        self.reply(code, text)
        if code != 354:
            return code
        msg = clients.message(sender, rcpt, subject=subject)
        self.tour.lines("C:", "(Subject: %s, %d bytes)" % (subject, len(msg)))
        self.tour.lines("C:", ".")
        wire = re.sub(rb"(?m)^\.", b"..", msg.replace(b"\r\n", b"\n"))
        self.conn.send(wire.replace(b"\n", b"\r\n") + b".\r\n")
        code, text = self.conn.getreply()
        self.reply(code, text)
        return code

    def send_message(self, sender, rcpts, subject):
        """MAIL, RCPT each, DATA if a recipient was accepted. Returns the codes."""
        codes = {"mail": self.cmd("MAIL FROM:<%s>" % sender)[0], "rcpt": []}
        if codes["mail"] >= 400:
            return codes
        for r in rcpts:
            codes["rcpt"].append(self.cmd("RCPT TO:<%s>" % r)[0])
        if any(c < 400 for c in codes["rcpt"]):
            codes["data"] = self.data(sender, rcpts[0], subject)
        return codes

    def quit(self):
        try:
            self.cmd("QUIT")
        except (smtplib.SMTPException, OSError):
            pass
        self.conn.close()


class Pop3Talk:
    """One POP3 session, printed as a transcript."""

    def __init__(self, tour, stack, tls=False):
        self.tour = tour
        port = stack.ports["pop3s" if tls else "pop3"]
        tour.write()
        tour.write("  (connect to 127.0.0.1:%d%s)" % (port, ", TLS" if tls else ""))
        self.conn = clients.pop3(stack, tls=tls, login=False)
        tour.lines("S:", _text(self.conn.getwelcome()))

    def cmd(self, line, shown=None, multiline=False):
        self.tour.lines("C:", shown or line)
        try:
            if multiline:
                resp, lines, _ = self.conn._longcmd(line)
                self.tour.lines("S:", _text(resp))
                for ln in lines[:12]:
                    self.tour.lines("S:", _text(ln))
                if len(lines) > 12:
                    self.tour.lines("S:", "... (%d more lines)" % (len(lines) - 12))
                self.tour.lines("S:", ".")
                return _text(resp), lines
            resp = self.conn._shortcmd(line)
        except poplib.error_proto as e:
            resp = e.args[0]
        self.tour.lines("S:", _text(resp))
        return _text(resp), None

    def login(self, account):
        self.cmd("USER " + account.address)
        return self.cmd("PASS " + account.password, "PASS " + "*" * len(account.password))

    def retr(self, n):
        """RETR n, printing only the status line (the message itself is long)."""
        self.tour.lines("C:", "RETR %d" % n)
        resp, lines, octets = self.conn.retr(n)
        subject = next((_text(ln) for ln in lines if ln.startswith(b"Subject:")), "")
        self.tour.lines("S:", "%s  (%s ...)" % (_text(resp), subject))
        return _text(resp)

    def quit(self):
        self.tour.lines("C:", "QUIT")
        resp = self.conn.quit()
        self.tour.lines("S:", _text(resp))
        return _text(resp)


class ImapTalk:
    """One IMAP session, printed as a transcript (every tag shown as `a`)."""

    def __init__(self, tour, stack, account):
        self.tour = tour
        self.conn = clients.imap(stack, account)
        tour.write()
        tour.write("  (IMAP 127.0.0.1:%d, logged in as %s)" % (stack.ports["imap"],
                                                                account.address))

    def _show(self, command, typ, tagged=(), untagged=()):
        """Print the command, the untagged lines (text after `* `), the tagged reply."""
        self.tour.lines("C:", "a " + command)
        for line in untagged:
            self.tour.lines("S:", "* " + line)
        self.tour.lines("S:", ("a %s %s" % (typ, " ".join(_text(d) for d in tagged if d))).rstrip())
        return typ

    def create(self, mailbox):
        typ, data = self.conn.create(mailbox)
        return self._show("CREATE %s" % mailbox, typ, data)

    def append(self, mailbox, msg):
        """APPEND; returns (status, tagged text), e.g. ("NO", "[OVERQUOTA] ...")."""
        typ, data = self.conn.append(mailbox, None, None, msg)
        self._show("APPEND %s {%d bytes}" % (mailbox, len(msg)), typ, data)
        return typ, " ".join(_text(d) for d in data if d)

    def getquotaroot(self, mailbox):
        """GETQUOTAROOT; returns the QUOTAROOT and QUOTA lines as text."""
        typ, (roots, quotas) = self.conn.getquotaroot(mailbox)
        self._show("GETQUOTAROOT %s" % mailbox, typ, (),
                   ["QUOTAROOT " + _text(r) for r in roots if r]
                   + ["QUOTA " + _text(q) for q in quotas if q])
        return " ".join(_text(r) for r in roots + quotas if r)

    def flags(self, mailbox):
        """UID FLAGS of every message in mailbox, printed as FETCH lines."""
        self.conn.select(mailbox, readonly=True)
        typ, data = self.conn.uid("FETCH", "1:*", "(FLAGS)")
        lines = [_text(d).replace(" ", " FETCH ", 1) for d in data if d]
        self._show("UID FETCH 1:* (FLAGS)     [in %s]" % mailbox, typ, (), lines)
        return lines

    def logout(self):
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
