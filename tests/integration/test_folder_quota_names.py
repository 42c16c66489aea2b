"""folder_quota and mailbox names (issue 9): patterns are written with `/`
whatever the namespace separator, without the namespace prefix, INBOX in any
case; a Maildir++ namespace (separator `.`, prefix `INBOX.`) sees `Projects/*`
as `INBOX.Projects.*`.  Hostile names (wildcards in names, long names, deep
hierarchies, modified UTF-7) are governed like any other.

A folder root is named "Folder " + the folder as the client sees it (with the
namespace prefix, in modified UTF-7).
"""

import pytest

from mailstack import MAILDIR_PLUS_PLUS

from test_folder_quota_util import (
    append_ok, append_refused, create, getquota, getquota_missing, imap,
    message, mutf7, ok, quote, quotaroot)

pytestmark = pytest.mark.plugin("folder_quota")

USER_ROOT = "User quota"

POLICY = """
folder_quota {
  folder "Projects/*" {
    messages = 2
  }
  folder Archive {
    messages = 3
    scope = subtree
  }
  folder inbox {
    messages = 1
  }
  folder "Entwürfe" {
    messages = 1
  }
  folder "Deep" {
    messages = 2
    scope = subtree
  }
}
"""



@pytest.fixture
def policy(stack):
    stack.reset(policy_text=POLICY)
    return stack


@pytest.fixture
def maildirpp(stack):
    """Dovecot with a Maildir++-style namespace (separator ".", prefix
    "INBOX."), for one test."""
    stack.configure(dovecot=MAILDIR_PLUS_PLUS)
    return stack


def test_maildirpp_namespace_sees_slash_patterns_with_its_separator(maildirpp):
    maildirpp.reset(policy_text=POLICY)
    c = imap(maildirpp, "alice")
    typ, data = c.namespace()
    assert b'"INBOX." "."' in data[0], data
    create(c, "INBOX.Projects", "INBOX.Projects.apollo", "INBOX.Archive",
           "INBOX.Archive.2024", "INBOX.Archive.2024.Q1")
    roots, _ = quotaroot(c, "INBOX.Projects.apollo")
    assert roots == [USER_ROOT, "Folder INBOX.Projects.apollo"]
    append_ok(c, "INBOX.Projects.apollo", message(200))
    append_ok(c, "INBOX.Projects.apollo", message(200))
    append_refused(c, "INBOX.Projects.apollo", message(200))
    assert getquota(c, "Folder INBOX.Projects.apollo") == {"MESSAGE": (2, 2)}
    # subtree: every folder below INBOX.Archive shares its root
    for box in ("INBOX.Archive", "INBOX.Archive.2024", "INBOX.Archive.2024.Q1"):
        roots, _ = quotaroot(c, box)
        assert roots == [USER_ROOT, "Folder INBOX.Archive"], (box, roots)
        append_ok(c, box, message(200))
    append_refused(c, "INBOX.Archive.2024.Q1", message(200), "INBOX.Archive")
    # INBOX lies outside the prefix, and its rule still applies
    roots, _ = quotaroot(c, "INBOX")
    assert roots == [USER_ROOT, "Folder INBOX"]
    append_ok(c, "INBOX", message(200))
    append_refused(c, "INBOX", message(200))
    # the projects folder itself is not a project
    roots, _ = quotaroot(c, "INBOX.Projects")
    assert roots == [USER_ROOT]
    # rename carries the usage to the new name's root
    ok(c.rename("INBOX.Projects.apollo", "INBOX.Projects.zeus"), "RENAME")
    getquota_missing(c, "Folder INBOX.Projects.apollo")
    assert getquota(c, "Folder INBOX.Projects.zeus") == {"MESSAGE": (2, 2)}
    c.logout()


def test_modified_utf7_names(policy):
    c = imap(policy, "alice")
    box = mutf7("Entwürfe")
    assert box == "Entw&APw-rfe"
    create(c, box)
    roots, _ = quotaroot(c, box)
    assert roots == [USER_ROOT, "Folder " + box]
    append_ok(c, box, message(200))
    typ, txt = c.append(quote(box), None, None, message(200))
    assert typ == "NO" and "[OVERQUOTA]" in txt[0].decode(), txt
    assert getquota(c, "Folder " + box) == {"MESSAGE": (1, 1)}
    # a near name is not governed
    create(c, mutf7("Entwürfe2"))
    roots, _ = quotaroot(c, mutf7("Entwürfe2"))
    assert roots == [USER_ROOT]
    c.logout()


@pytest.mark.parametrize("name", ["a*b", "100%", "*", "%%%*%%%" * 20, "with space", "x" * 200],
                         ids=["star", "percent", "only-star", "140-wildcards", "space",
                              "200-bytes"])
def test_wildcards_spaces_and_long_names_are_just_names(policy, name):
    box = "Projects/" + name
    c = imap(policy, "alice")
    create(c, box)
    roots, _ = quotaroot(c, box)
    assert roots == [USER_ROOT, "Folder " + box]
    append_ok(c, box, message(150))
    append_ok(c, box, message(150))
    append_refused(c, box, message(150))
    assert getquota(c, "Folder " + box) == {"MESSAGE": (2, 2)}
    # each such folder is its own root: a sibling is not counted with it
    create(c, "Projects/other")
    append_ok(c, "Projects/other", message(150))
    assert getquota(c, "Folder Projects/other") == {"MESSAGE": (1, 2)}
    c.logout()


def test_a_subtree_root_with_wildcards_in_its_name_counts_its_own_subtree(stack):
    stack.reset(policy_text="folder_quota {\n  folder \"Top/*\" {\n    messages = 2\n"
                "    scope = subtree\n  }\n}\n")
    c = imap(stack, "alice")
    create(c, "Top/a*", "Top/a*/x", "Top/ab", "Top/ab/y")
    append_ok(c, "Top/a*/x", message(150))
    append_ok(c, "Top/ab/y", message(150))
    append_ok(c, "Top/ab", message(150))
    # "Top/a*" is a name, not a pattern: Top/ab's mail is not its usage
    assert getquota(c, "Folder Top/a*") == {"MESSAGE": (1, 2)}
    assert getquota(c, "Folder Top/ab") == {"MESSAGE": (2, 2)}
    append_refused(c, "Top/ab/y", message(150), "Top/ab")
    append_ok(c, "Top/a*", message(150))
    c.logout()


def test_a_deep_hierarchy_is_governed_by_its_subtree_root(policy):
    depth = 60
    names = ["Deep"]
    for i in range(1, depth + 1):
        names.append("%s/l%d" % (names[-1], i))
    c = imap(policy, "alice")
    create(c, *names)
    deepest = names[-1]
    roots, quotas = quotaroot(c, deepest)
    assert roots == [USER_ROOT, "Folder Deep"]
    append_ok(c, deepest, message(150))
    append_ok(c, names[depth // 2], message(150))
    append_refused(c, names[1], message(150), "Deep")
    assert getquota(c, "Folder Deep") == {"MESSAGE": (2, 2)}
    c.logout()
