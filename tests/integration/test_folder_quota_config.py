"""folder_quota and its configuration (issue 9): the policy file alone holds
the folder limits; a policy that cannot be loaded turns folder limits off
(logged with file and line) while the user quota still applies; a changed
file applies to running sessions; `doveadm quota get/save/move` see and
enforce the folder roots; stock quota_warning works per folder root.
"""

import os

import pytest

from test_folder_quota_util import (
    append_ok, append_refused, create, getquota, getquota_missing, imap,
    is_24, log_line, message, quotaroot, wait_for)

pytestmark = pytest.mark.plugin("folder_quota")

USER_ROOT = "User quota"

POLICY = """
folder_quota {
  folder Box {
    messages = 2
  }
  folder Notes {
    messages = 5
  }
}
"""


@pytest.fixture
def policy(stack):
    stack.reset(policy_text=POLICY)
    return stack


def test_a_broken_policy_turns_folder_limits_off_and_says_where(policy):
    c = imap(policy, "alice")
    create(c, "Box")
    append_ok(c, "Box", message(100))
    append_ok(c, "Box", message(100))
    append_refused(c, "Box", message(100))
    c.logout()
    offsets = policy.log_offsets()
    policy.set_policy(text="folder_quota {\n  folder Box {\n    messages = lots\n  }\n}\n")
    c = imap(policy, "alice")
    roots, _ = quotaroot(c, "Box")
    assert roots == [USER_ROOT]
    getquota_missing(c, "Folder Box")
    for i in range(3):
        append_ok(c, "Box", message(100))
    c.logout()
    # FILE:LINE:COL: reason, for the admin
    log_line(policy, offsets, "folder_quota: Cannot load the policy",
             policy.policy_path() + ":3:16: ")


def test_a_missing_policy_file_leaves_the_user_quota_working(policy):
    offsets = policy.log_offsets()
    os.unlink(policy.paths.h("etc", "mailpolicy.conf"))
    try:
        c = imap(policy, "alice")
        create(c, "Box")
        for i in range(4):
            append_ok(c, "Box", message(100))
        roots, quotas = quotaroot(c, "Box")
        assert roots == [USER_ROOT]
        assert quotas[USER_ROOT]["STORAGE"][1] == 100 * 1024
        c.logout()
        log_line(policy, offsets, "folder_quota: Cannot load the policy",
                 policy.policy_path())
    finally:
        policy.set_policy(text=POLICY)


def test_a_changed_policy_applies_to_a_running_session(policy):
    """A session looks at the file at most once a second: wait for it."""
    c = imap(policy, "alice")
    create(c, "Box")
    append_ok(c, "Box", message(100))
    append_ok(c, "Box", message(100))
    append_refused(c, "Box", message(100))
    policy.set_policy(text=POLICY.replace("messages = 2", "messages = 3"))
    # the same session, with no new login
    wait_for(lambda: getquota(c, "Folder Box") == {"MESSAGE": (2, 3)},
             "the running session to see the new limit")
    append_ok(c, "Box", message(100))
    append_refused(c, "Box", message(100))
    policy.set_policy(text="folder_quota {\n}\n")
    wait_for(lambda: quotaroot(c, "Box")[0] == [USER_ROOT],
             "the running session to drop the folder root")
    getquota_missing(c, "Folder Box")
    append_ok(c, "Box", message(100))
    c.logout()


def doveadm(stack, *args):
    """doveadm on the stack; returns the process (stdout: the output; plugin
    log lines go to stderr)."""
    return stack.doveadm(*args, check=False)


def test_doveadm_quota_get_lists_folder_roots(policy):
    c = imap(policy, "alice")
    create(c, "Box", "Notes")
    append_ok(c, "Box", message(100))
    for i in range(3):
        append_ok(c, "Notes", message(100))
    c.logout()
    rows = {(r["Quota name"], r["Type"]): (r["Value"], r["Limit"])
            for r in policy.doveadm_rows("quota", "get", "-u", "alice@example.com")}
    assert rows[("Folder Box", "MESSAGE")] == ("1", "2"), rows
    assert rows[("Folder Notes", "MESSAGE")] == ("3", "5"), rows
    assert (USER_ROOT, "STORAGE") in rows, rows


def test_doveadm_save_and_move_are_refused_over_a_folder_limit(policy):
    c = imap(policy, "alice")
    create(c, "Box")
    for i in range(3):
        append_ok(c, "INBOX", message(100, "in%d" % i))
    c.logout()
    codes = []
    for i in range(3):
        proc = policy.doveadm_save("alice", message(100, "saved %d" % i), mailbox="Box",
                                   check=False)
        codes.append(proc.returncode)
        if proc.returncode != 0:
            assert "Quota exceeded in folder Box" in proc.stderr, proc.stderr
    assert codes[:2] == [0, 0] and codes[2] != 0, codes
    # doveadm move DESTINATION QUERY
    proc = doveadm(policy, "move", "-u", "alice@example.com", "Box", "mailbox", "INBOX", "all")
    assert proc.returncode != 0, proc.stdout
    assert "Quota exceeded in folder Box" in proc.stderr, proc.stderr
    c = imap(policy, "alice")
    assert getquota(c, "Folder Box") == {"MESSAGE": (2, 2)}
    assert getquota(c, USER_ROOT)["STORAGE"][0] == 1
    c.logout()


WARNING_SCRIPT = """#!/bin/sh
echo "$@" >> %s
"""

WARNING_23 = """
service quota-warning {
  executable = script %(script)s
  user = mail
  unix_listener quota-warning {
    user = mail
  }
}
plugin {
  folder_quota_warning = messages=80%%%% quota-warning 80 %%u
}
"""

WARNING_24 = """
service quota-warning {
  executable = script %(script)s
  user = mail
  unix_listener quota-warning {
    user = mail
  }
}
quota_warning folder-80 {
  quota_warning_resource = message
  quota_message_percentage = 80
  execute quota-warning {
    args = 80 %%{user} %%{event:quota_folder}
  }
}
"""


@pytest.fixture
def warnings(stack):
    """Dovecot with a quota-warning script that writes its arguments to a file."""
    os.makedirs(stack.paths.h("warn"), exist_ok=True)
    os.chmod(stack.paths.h("warn"), 0o777)
    script = stack.paths.h("warn", "warn.sh")
    out = stack.paths.h("warn", "warnings.log")
    with open(script, "w") as f:
        f.write(WARNING_SCRIPT % stack.paths.i("warn", "warnings.log"))
    os.chmod(script, 0o755)
    if os.path.exists(out):
        os.unlink(out)
    extra = (WARNING_24 if is_24(stack) else WARNING_23) % {
        "script": stack.paths.i("warn", "warn.sh")}
    stack.configure(dovecot_extra=extra, policy_text=POLICY)
    return out


def test_quota_warning_at_80_percent_of_a_folder_root(warnings, stack):
    c = imap(stack, "alice")
    create(c, "Notes")
    for i in range(3):
        append_ok(c, "Notes", message(100))
    assert not os.path.exists(warnings), "a warning before 80 %"
    # the 4th of 5 messages reaches 80 %
    append_ok(c, "Notes", message(100))
    wait_for(lambda: os.path.exists(warnings), "the quota-warning script to run")
    with open(warnings) as f:
        lines = f.read().splitlines()
    assert lines == ["80 alice@example.com Notes"], lines
    append_ok(c, "Notes", message(100))
    c.logout()


# Dovecot 2.4 settings an admin writes for the user's quota that, unscoped,
# apply to every quota root, the folder roots too: a global percentage, and
# mailbox blocks that ignore a folder, give it extra room or a count limit.
LEAKY_24 = """
quota_storage_percentage = 50
quota_message_percentage = 50
namespace inbox {
  mailbox Sized {
    quota_ignore = yes
  }
  mailbox Box {
    quota_storage_extra = 20K
    quota_message_count = 100
  }
}
"""

LEAKY_POLICY = """
folder_quota {
  folder Box {
    messages = 2
  }
  folder Sized {
    storage = 10K
  }
}
"""


def test_the_admins_quota_settings_do_not_change_a_folder_limit(stack):
    """A folder limit is the policy's, whatever percentage, quota_ignore,
    extra room or count the admin's configuration gives quota roots for the
    whole server or for that mailbox (Dovecot 2.4; on 2.3 settings are per
    root)."""
    if not is_24(stack):
        pytest.skip("Dovecot 2.3: quota settings belong to one root")
    stack.configure(dovecot_extra=LEAKY_24, policy_text=LEAKY_POLICY)
    c = imap(stack, "alice")
    create(c, "Box", "Sized")
    # seen by the user's root: the mailbox block reaches it (the folder
    # roots would see it as well without folder_quota's overrides)
    assert getquota(c, USER_ROOT)
    # Sized: 7K passes a 10K limit (not 5K), 4K more does not (not ignored)
    append_ok(c, "Sized", message(7 * 1024))
    append_refused(c, "Sized", message(4 * 1024))
    # Box: 2 messages (not 1, nor 100)
    append_ok(c, "Box", message(100))
    append_ok(c, "Box", message(100))
    append_refused(c, "Box", message(100))
    # and the limits as reported, through GETQUOTAROOT and GETQUOTA
    _, quotas = quotaroot(c, "Box")
    assert quotas["Folder Box"] == {"MESSAGE": (2, 2)}
    assert getquota(c, "Folder Box") == {"MESSAGE": (2, 2)}
    _, quotas = quotaroot(c, "Sized")
    assert quotas["Folder Sized"] == {"STORAGE": (7, 10)}
    assert getquota(c, "Folder Sized") == {"STORAGE": (7, 10)}
    c.logout()
