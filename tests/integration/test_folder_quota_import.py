"""folder_quota and `doveadm import` (issue 9: enforced on doveadm save, import
and move): mail imported from another mail location into a limited folder is
refused past the folder's limit, with the folder named, and the folder never
ends over it; under the limit the import goes through.
"""

import pytest

from test_folder_quota_util import getquota, imap, message

pytestmark = pytest.mark.plugin("folder_quota")

# Only alice's Box is limited: carol's Box is the import source.
POLICY = """
folder_quota user alice@example.com {
  folder Box {
    messages = 2
  }
}
"""


@pytest.fixture
def policy(stack):
    stack.reset(policy_text=POLICY)
    return stack


def _source(stack, count):
    """carol's Box with count messages; returns its mail location as alice's
    doveadm import reads it."""
    for who in ("carol@example.com", "alice@example.com"):
        stack.doveadm("mailbox", "create", "-u", who, "Box")
    for i in range(count):
        stack.doveadm_save("carol", message(100, "imported %d" % i), mailbox="Box")
    assert stack.message_count("carol", "Box") == count
    home = stack.doveadm("user", "-f", "home", "carol@example.com").stdout.strip()
    assert home.startswith("/"), home
    # The harness's default mail format is maildir, under ~/Maildir.
    return "maildir:%s/Maildir" % home


def _import(stack, location):
    # doveadm import SOURCE_LOCATION DEST_PARENT SEARCH_QUERY
    return stack.doveadm("import", "-u", "alice@example.com", location, "",
                         "mailbox", "Box", "all", check=False)


def test_import_under_the_folder_limit_goes_through(policy):
    proc = _import(policy, _source(policy, 2))
    assert proc.returncode == 0, proc.stderr
    assert policy.message_count("alice", "Box") == 2
    c = imap(policy, "alice")
    assert getquota(c, "Folder Box") == {"MESSAGE": (2, 2)}
    c.logout()


def test_import_past_the_folder_limit_is_refused_and_the_folder_stays_within(policy):
    proc = _import(policy, _source(policy, 3))
    assert proc.returncode != 0, proc.stdout
    assert "Quota exceeded in folder Box" in proc.stderr, proc.stderr
    # The folder's limit is checked before each copy, so the import keeps
    # what fits and commits cleanly.  (With only the user quota, stock
    # Dovecot 2.3 and 2.4 check after the copy: doveadm import then keeps
    # the refused mail and panics at commit; see mailpolicy-dovecot(7).)
    assert "Panic" not in proc.stderr, proc.stderr
    assert policy.message_count("alice", "Box") == 2
    c = imap(policy, "alice")
    assert getquota(c, "Folder Box") == {"MESSAGE": (2, 2)}
    c.logout()
    # The source is untouched: an import copies.
    assert policy.message_count("carol", "Box") == 3
