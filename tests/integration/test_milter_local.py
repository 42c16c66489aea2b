"""Local submission: mail from sendmail(1) reaches mailpolicy-milter only
through Postfix's non_smtpd_milters, handed over by cleanup(8), which tells
the milter {daemon_name} = its own milter_macro_daemon_name, {daemon_port} =
0 and {client_addr} = 127.0.0.1, with no login and no TLS.

The listener it gets is the one named by cleanup's milter_macro_daemon_name
(docs/mailpolicy-milter.8, LOCAL SUBMISSION). Here that is `local`, set in
main.cf (the harness owns master.cf; each smtpd service keeps its own name
through its -o milter_macro_daemon_name). What the sender observes is
asserted: delivery with the audit header, or a bounce that says why.
"""

import email
import glob
import subprocess

import pytest

from mailstack import clients

pytestmark = pytest.mark.milter

POLICY = """
listener mx {
  ports = 25
  auth = forbid
}
listener local {
  auth = optional
  max_recipients = 2
}
milter {
  socket = inet:1@127.0.0.1
  unknown_listener = reject
  audit_header = X-Mailpolicy
}
"""


def overrides(stack, label="local"):
    out = {"non_smtpd_milters": "inet:127.0.0.1:%d" % stack.ports["milter"]}
    if label:
        out["milter_macro_daemon_name"] = label
    return out


@pytest.fixture(scope="module", autouse=True)
def local_stack(stack):
    """The milter, and Postfix passing sendmail(1) mail to it; undone at the end."""
    stack.start(["milter"], policy_text=POLICY)
    stack.start(["postfix"], postfix_overrides=overrides(stack))
    yield stack
    stack.start(["postfix"], postfix_overrides={})
    stack.stop(["milter"])


def use(stack):
    stack.reset(policy_text=POLICY)


def sendmail(stack, sender, rcpts, subject):
    """sendmail -f SENDER RCPT... as a local user would run it."""
    msg = clients.message(sender, rcpts[0], subject=subject).replace(b"\r\n", b"\n")
    argv = stack.platform.cmd(["sendmail", "-C", stack.postfix_dir(), "-f", sender] + rcpts)
    proc = subprocess.run(argv, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)


def maildir_messages(stack, address):
    local, domain = address.split("@")
    out = []
    for f in sorted(glob.glob(stack.paths.h("mail", domain, local, "Maildir", "new", "*"))):
        with open(f, "rb") as fp:
            out.append(email.message_from_bytes(fp.read()))
    return out


def audit_fields(msg):
    values = msg.get_all("X-Mailpolicy") or []
    assert len(values) == 1, values
    value = values[0].replace("\r", "").replace("\n", "")
    return dict(p.split("=", 1) for p in value.split("; "))


def bounce_text(stack, address):
    """The one message in address's INBOX, a bounce, as text with its line
    folding undone."""
    stack.wait_for_messages(address, 1)
    msgs = maildir_messages(stack, address)
    assert len(msgs) == 1, [m["Subject"] for m in msgs]
    assert "<MAILER-DAEMON@" in msgs[0]["From"], msgs[0]["From"]
    return " ".join(msgs[0].as_string().split())


def test_local_submission_gets_the_local_listener(stack, send):
    use(stack)
    sendmail(stack, "alice@example.com", ["bob@example.org"], "from cron")
    stack.wait_for_messages("bob", 1)
    fields = audit_fields(maildir_messages(stack, "bob@example.org")[0])
    assert fields["listener"] == "local"
    assert fields["login"] == "-" and fields["tls"] == "-"
    assert fields["verdict"] == "accept" and fields["rule"] == "none"
    # the SMTP services keep their own names
    send(stack, "mx", "bob@example.org", sender="x@remote.test", subject="over smtp")
    stack.wait_for_messages("bob", 2)
    by_subject = {m["Subject"]: m for m in maildir_messages(stack, "bob@example.org")}
    assert audit_fields(by_subject["over smtp"])["listener"] == "mx"


def test_local_too_many_recipients_bounces_to_the_sender(stack):
    use(stack)
    rcpts = ["bob@example.org", "carol@example.com", "dave@example.org"]
    sendmail(stack, "alice@example.com", rcpts, "to three")
    # Postfix cannot refuse one recipient of local mail: the milter refuses
    # the message at its end, and cleanup bounces it with the reason
    text = bounce_text(stack, "alice@example.com")
    assert "<bob@example.org>: Too many recipients: 3, at most 2 per message " \
           "(listener local: max_recipients)" in text, text[-2000:]
    assert "Status: 5.5.3" in text
    stack.wait_queue_empty()
    for who in rcpts:
        assert stack.message_count(who) == 0, who
    # two recipients are fine
    sendmail(stack, "alice@example.com", rcpts[:2], "to two")
    stack.wait_for_messages("bob", 1)
    stack.wait_for_messages("carol", 1)


def test_local_submission_without_a_name_is_an_unknown_listener(stack):
    use(stack)
    # cleanup's default {daemon_name} is $myhostname, and its port is 0
    stack.start(["postfix"], postfix_overrides=overrides(stack, label=None))
    try:
        sendmail(stack, "alice@example.com", ["bob@example.org"], "no listener")
        text = bounce_text(stack, "alice@example.com")
        assert "no mail policy for this port (port unknown, daemon name " \
               "mail.example.net): unknown_listener = reject" in text, text[-2000:]
        assert "Status: 5.7.0" in text
        stack.wait_queue_empty()
        assert stack.message_count("bob") == 0
    finally:
        stack.start(["postfix"], postfix_overrides=overrides(stack))
